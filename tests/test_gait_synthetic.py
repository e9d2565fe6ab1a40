"""Gait engine on synthetic signals with exact, known contacts."""

import numpy as np
import pandas as pd
import pytest

from sensorhub.gait import (
    GaitError,
    SamplingRateError,
    analyse,
    balance,
    detect_contacts,
    drift,
    symmetry_angle,
    symmetry_index,
    to_body_axes,
    window_summary,
)
from tests.gait_helpers import load_generator, match

gen = load_generator()


def _errors(det, truth):
    pairs = match(det, truth)
    ic = np.array([det.ic_s[j] - truth.ic_s.iloc[i] for i, j in pairs])
    gct = np.array([det.gct_ms[j] - truth.gct_ms.iloc[i] for i, j in pairs])
    return len(pairs), ic, gct


@pytest.mark.parametrize("fs", [500.0, 200.0, 120.0])
def test_sacrum_finds_every_step_with_subsample_gct(fs):
    truth = gen.schedule(20.0)
    det = detect_contacts(gen.sacrum(truth, fs=fs, duration_s=20.0), "sacrum")
    n, ic, gct = _errors(det, truth)
    assert n == len(truth) == len(det)
    # one sample is 2-8.3 ms; interpolated events are a fraction of that (not quantised)
    assert np.abs(gct).max() < 2.5
    assert np.abs(ic).max() < 0.0025


def test_sacrum_sides_and_asymmetry_from_one_pod():
    truth = gen.schedule(30.0)
    res = analyse(gen.sacrum(truth), "sacrum")
    assert (res.contacts["side"].to_numpy() == truth["side"].to_numpy()).all()
    s = res.summary
    assert s["gct_ms_left"] == pytest.approx(250, abs=2)
    assert s["gct_ms_right"] == pytest.approx(270, abs=2)
    assert s["gct_si_pct"] == pytest.approx(symmetry_index(250, 270), abs=1.0)
    assert s["gct_balance_left_pct"] == pytest.approx(250 / 520 * 100, abs=0.3)
    assert s["cadence_spm"] == pytest.approx(60 / 0.333, rel=0.01)
    assert s["duty_factor"] == pytest.approx(0.26 / 0.666, abs=0.01)
    assert s["flight_ms"] == pytest.approx(333 - 260, abs=12)
    assert res.warnings == []


@pytest.mark.parametrize("kind", ["shank", "foot"])
def test_two_pods_give_left_right_asymmetry(kind):
    left, right, truth = gen.two_pods(kind, duration_s=30.0)
    res = analyse(left, kind, right=right)
    n, _, gct = _errors(res.contacts, truth)
    assert n >= len(truth) - 2 and len(res.contacts) <= len(truth)
    assert np.abs(gct).mean() < 3
    assert res.summary["gct_si_pct"] == pytest.approx(-7.7, abs=1.0)
    assert res.summary["gct_balance_left_pct"] == pytest.approx(48.1, abs=0.3)
    assert res.summary["cadence_spm"] == pytest.approx(180, rel=0.01)


def test_single_shank_pod_one_leg():
    truth = gen.schedule(30.0)
    left = truth[truth.side == "L"]
    res = analyse(gen.shank(left), "shank", side="L")
    assert len(res.contacts) == len(left)
    assert set(res.contacts["side"]) == {"L"}
    assert res.summary["cadence_spm"] == pytest.approx(180, rel=0.01)
    assert any("one leg" in w for w in res.warnings)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_pod_angle_is_rotated_to_body_axes(seed):
    truth = gen.schedule(20.0)
    body = gen.sacrum(truth, duration_s=20.0)
    sensor = gen.to_sensor_axes(body, gen.rotation(seed))
    back = to_body_axes(sensor)
    assert np.corrcoef(back["acc_v_g"], body["acc_v_g"])[0, 1] > 0.999
    assert np.corrcoef(back["acc_ap_g"], body["acc_ap_g"])[0, 1] > 0.98
    res = analyse(sensor, "sacrum")
    assert (res.contacts["side"].to_numpy() == truth["side"].to_numpy()).all()


def test_below_minimum_rate_is_refused():
    truth = gen.schedule(10.0)
    frame = gen.sacrum(truth, fs=50.0, duration_s=10.0)
    with pytest.raises(SamplingRateError, match="below the minimum"):
        detect_contacts(frame, "sacrum")
    assert issubclass(SamplingRateError, GaitError) and issubclass(GaitError, ValueError)


def test_unknown_placement_and_missing_columns():
    frame = pd.DataFrame({"t_s": np.arange(0, 2, 0.01), "acc_v_g": 1.0})
    with pytest.raises(GaitError, match="unknown placement"):
        detect_contacts(frame, "wrist")
    with pytest.raises(GaitError, match="gyr_ml_dps"):
        detect_contacts(frame, "foot")


def test_symmetry_formulas():
    assert symmetry_index(250, 270) == pytest.approx(-7.6923, abs=1e-3)
    assert balance(250, 270) == pytest.approx(48.0769, abs=1e-3)
    assert symmetry_index(250, 270) == pytest.approx(4 * (balance(250, 270) - 50))
    assert symmetry_angle(1, 1) == 0
    # Zifchock 2008 writes (45° − atan(L/R)) / 90° × 100; ours is its negative (L larger: +)
    assert symmetry_angle(250, 270) == pytest.approx(
        -(45 - np.degrees(np.arctan(250 / 270))) / 90 * 100
    )


def test_worked_example_left_larger_is_positive_everywhere():
    # GCT left 255 ms, right 245 ms: every index says "left larger" with the same sign
    assert symmetry_index(255, 245) == pytest.approx(4.0, abs=1e-12)
    assert balance(255, 245) == pytest.approx(51.0, abs=1e-12)
    assert symmetry_angle(255, 245) == pytest.approx(1.2730698, abs=1e-7)
    assert symmetry_angle(245, 255) == pytest.approx(-1.2730698, abs=1e-7)
    # Zifchock's correction for opposite signs keeps SA within ±100 % and antisymmetric
    assert symmetry_angle(-3, 1) == pytest.approx(-symmetry_angle(1, -3))
    assert abs(symmetry_angle(-3, 1)) < 100


def test_stored_sa_has_the_sign_of_si():
    truth = gen.schedule(20.0, gct_left_s=0.270, gct_right_s=0.250)
    s = analyse(gen.sacrum(truth, duration_s=20.0), "sacrum").summary
    assert s["gct_si_pct"] > 0 and s["gct_sa_pct"] > 0 and s["gct_balance_left_pct"] > 50
    assert s["gct_sa_pct"] == pytest.approx(symmetry_angle(s["gct_ms_left"], s["gct_ms_right"]))


def test_windows_and_drift_show_fatigue():
    # GCT lengthens from 250 to 280 ms over 20 minutes
    dur = 1200.0
    truth = gen.schedule(dur, gct_left_s=0.25, gct_right_s=0.25, jitter_s=0.0)
    truth["to_s"] = truth["ic_s"] + 0.25 + 0.03 * truth["ic_s"] / dur
    truth["gct_ms"] = 1000 * (truth["to_s"] - truth["ic_s"])
    res = analyse(gen.sacrum(truth, fs=200.0, duration_s=dur), "sacrum")
    win = window_summary(res.contacts, 10.0)
    assert len(win) == pytest.approx(dur / 10, abs=2)
    d = drift(res.contacts, 600.0)
    assert d["gct_ms_change_pct"] == pytest.approx(100 * 15 / 257.5, abs=1.5)
    assert res.drift["gct_ms_last"] > res.drift["gct_ms_first"]
