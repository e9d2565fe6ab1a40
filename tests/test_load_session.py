"""Session load: Banister TRIMP by hand, sRPE, and the session_load fallbacks."""

import math

import numpy as np
import pandas as pd
import pytest

from sensorhub.load import session_load, srpe, trimp_banister, trimp_mean_hr

T0 = pd.Timestamp("2024-03-01 07:00:00", tz="UTC")


def hr_series(seconds, bpm):
    return pd.Series(bpm, index=T0 + pd.to_timedelta(seconds, unit="s"), dtype=float)


# Hand values, rest 60 / max 180 (reserve 120 bpm):
#   HR 120 -> HRr 0.50, HR 150 -> 0.75, HR 180 -> 1.00, HR 200 -> clipped to 1.00
#   male   0.64·x·e^(1.92x): 0.50 -> 0.8357428715, 0.75 -> 2.0259339922, 1.0 -> 4.3654134203
#   female 0.86·x·e^(1.67x): 0.50 -> 0.9910700408, 0.75 -> 2.2569064267, 1.0 -> 4.5684643056
# Samples one minute apart; the first sample (HR 100) stands for 0 min.
MINUTE_SAMPLES = ([0, 60, 120, 180, 240], [100, 120, 150, 180, 200])


@pytest.mark.parametrize(
    ("sex", "expected"),
    [
        ("male", 0.8357428715 + 2.0259339922 + 2 * 4.3654134203),  # 11.5925037044
        ("female", 0.9910700408 + 2.2569064267 + 2 * 4.5684643056),  # 12.3849050787
    ],
)
def test_trimp_by_hand_both_sexes(sex, expected):
    hr = hr_series(*MINUTE_SAMPLES)
    assert trimp_banister(hr, 60, 180, sex, max_gap_s=60) == pytest.approx(expected, rel=1e-9)


def test_trimp_pause_is_capped_at_max_gap():
    # HRr 1.0 at 0,1,2,3 s then a 600 s pause: counted 1+1+1+10 s = 13/60 min.
    hr = hr_series([0, 1, 2, 3, 603], [180] * 5)
    assert trimp_banister(hr, 60, 180, "male") == pytest.approx(13 / 60 * 4.3654134203, rel=1e-9)


def test_trimp_skips_missing_hr():
    # Valid samples at 0, 3, 4 s -> 0 + 3 + 1 s at HRr 0.75 (male 2.0259339922 per min).
    hr = hr_series([0, 1, 2, 3, 4], [150, np.nan, np.nan, 150, 150])
    assert trimp_banister(hr, 60, 180, "male") == pytest.approx(4 / 60 * 2.0259339922, rel=1e-9)


def test_trimp_none_without_usable_hr():
    assert trimp_banister(hr_series([0, 1, 2], [np.nan] * 3), 60, 180, "male") is None
    assert trimp_banister(hr_series([], []), 60, 180, "female") is None


def test_trimp_at_or_below_rest_is_zero():
    hr = hr_series([0, 1, 2, 3], [60, 50, 40, 60])
    assert trimp_banister(hr, 60, 180, "female") == 0.0


def test_trimp_constant_dt_without_time_index():
    # 600 samples at 1 s, HRr 1.0 female: 10 min × 4.5684643056 = 45.684643056
    hr = pd.Series([180.0] * 600)
    assert trimp_banister(hr, 60, 180, "female", dt_s=1.0) == pytest.approx(45.684643056)


def test_trimp_rejects_bad_inputs():
    hr = hr_series([0, 1], [150, 150])
    with pytest.raises(ValueError):
        trimp_banister(hr, 60, 180, "other")
    with pytest.raises(ValueError):
        trimp_banister(hr, 180, 180, "male")
    with pytest.raises(TypeError):
        trimp_banister(pd.Series([150.0, 150.0]), 60, 180, "male")


def test_srpe_is_rpe_times_minutes():
    assert srpe(7, 45) == 315.0
    assert srpe(0, 30) == 0.0
    with pytest.raises(ValueError):
        srpe(11, 30)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"trimp": 80.0, "srpe": 300.0, "duration_min": 45.0}, (80.0, "trimp")),
        ({"trimp": 80.0, "srpe": 300.0, "primary": "srpe"}, (300.0, "srpe")),
        ({"trimp": None, "srpe": 300.0, "duration_min": 45.0}, (300.0, "srpe")),
        ({"trimp": math.nan, "srpe": None, "duration_min": 45.0}, (45.0, "duration")),
        ({"trimp": 80.0, "srpe": None, "primary": "srpe"}, (80.0, "trimp")),
        ({"trimp": 80.0, "duration_min": 45.0, "primary": "duration"}, (45.0, "duration")),
    ],
)
def test_session_load_primary_and_fallbacks(kwargs, expected):
    assert session_load(**kwargs) == expected


def test_session_load_without_any_value_or_bad_primary():
    with pytest.raises(ValueError):
        session_load()
    with pytest.raises(ValueError):
        session_load(trimp=80.0, primary="distance")


def test_trimp_mean_hr_by_hand():
    # 60 min at mean HR 150 (HRr 0.75), male: 60 × 2.0259339922 = 121.556039532
    assert trimp_mean_hr(150, 60, 60, 180, "male") == pytest.approx(121.556039532, rel=1e-9)
    assert trimp_mean_hr(200, 10, 60, 180, "female") == pytest.approx(45.684643056)  # clipped
    with pytest.raises(ValueError):
        trimp_mean_hr(150, 60, 60, 180, "x")


def test_per_sample_and_session_average_forms_agree_at_constant_hr_and_differ_on_a_ramp():
    # Constant HR 150 for 60 min (3600 samples at 1 Hz): both forms 121.556 AU.
    steady = trimp_banister(pd.Series([150.0] * 3600), 60, 180, "male", dt_s=1.0)
    assert steady == pytest.approx(trimp_mean_hr(150, 60.0, 60, 180, "male"), rel=1e-12)
    # 60-min ramp 100 -> 180 bpm (HRr 1/3 -> 1), mean HR 140: per sample 108.729 AU,
    # session-average form 92.074 AU, 15.3 % less (the weighting is convex).
    hr = pd.Series(np.linspace(100.0, 180.0, 3600))
    ramp = trimp_banister(hr, 60, 180, "male", dt_s=1.0)
    average = trimp_mean_hr(float(hr.mean()), 60.0, 60, 180, "male")
    assert ramp == pytest.approx(108.72854, rel=1e-6)
    assert average == pytest.approx(92.07398, rel=1e-6)
    assert 1 - average / ramp == pytest.approx(0.1532, abs=1e-4)


@pytest.mark.parametrize("unit", ["ns", "us", "s"])
def test_trimp_of_a_float_series_in_time_order_equals_the_general_path(unit):
    """The NumPy path (float HR, sorted DatetimeIndex of any unit) gives the very sum of the
    pandas path (here reached through an object series)."""
    rng = np.random.default_rng(3)
    n = 3000
    steps = rng.choice([1, 1, 1, 2, 30], n).cumsum()
    idx = pd.DatetimeIndex(pd.Timestamp("2026-05-01", tz="UTC") + pd.to_timedelta(steps, "s"))
    hr = pd.Series(rng.normal(140, 25, n), index=idx.as_unit(unit))
    hr[rng.random(n) < 0.1] = np.nan
    fast = trimp_banister(hr, 50, 190, "female")
    assert fast == trimp_banister(hr.astype(object), 50, 190, "female")
    assert trimp_banister(hr * np.nan, 50, 190, "male") is None
