"""Monotony and strain (Foster 1998), population SD."""

import numpy as np
import pandas as pd
import pytest

from sensorhub.load import monotony, strain


def days(values):
    return pd.Series(values, index=pd.date_range("2024-01-01", periods=len(values)), dtype=float)


def test_constant_load_has_no_monotony():
    # SD 0 -> NaN, also for the float-noisy 0.1 and an all-rest week
    for load in (300.0, 0.1, 0.0):
        daily = days([load] * 9)
        assert monotony(daily).isna().all()
        assert strain(daily).isna().all()


def test_monotony_uses_population_sd():
    # Week 100,0,100,0,100,0,0: mean 300/7, population var = 30000/7 − (300/7)² = 120000/49,
    # SD = √120000/7 -> monotony = 300/√120000 = √3/2 = 0.8660254
    # (sample SD would give 0.8017837); strain = 300 × 0.8660254 = 259.8076211
    daily = days([100.0, 0.0, 100.0, 0.0, 100.0, 0.0, 0.0])
    assert monotony(daily).iloc[:6].isna().all()
    assert monotony(daily).iloc[6] == pytest.approx(0.8660254, rel=1e-7)
    assert strain(daily).iloc[6] == pytest.approx(259.8076211, rel=1e-7)


def test_monotony_rolls_one_day_at_a_time():
    # Window on day 7 is 0,100,0,100,0,0,70: mean 270/7, E[x²] = 24900/7,
    # var = (174300 − 72900)/49 = 101400/49 -> monotony = 270/√101400 = 270/318.4336666 = 0.8479003
    daily = days([100.0, 0.0, 100.0, 0.0, 100.0, 0.0, 0.0, 70.0])
    assert monotony(daily).iloc[7] == pytest.approx(0.8479003, rel=1e-6)
    assert np.isnan(monotony(days([50.0] * 6))).all()  # fewer than 7 days


def test_ddof_is_an_explicit_choice():
    # Same week with the sample SD (ddof=1): var = 120000/49 × 7/6 -> monotony
    # = √3/2 × √(6/7) = 0.8017837, strain 300 × that = 240.5351
    daily = days([100.0, 0.0, 100.0, 0.0, 100.0, 0.0, 0.0])
    assert monotony(daily).iloc[6] == monotony(daily, ddof=0).iloc[6]
    assert monotony(daily, ddof=1).iloc[6] == pytest.approx(0.8017837, rel=1e-7)
    assert strain(daily, ddof=1).iloc[6] == pytest.approx(240.5351, rel=1e-6)
    ratio = monotony(daily, ddof=1).iloc[6] / monotony(daily).iloc[6]
    assert ratio == pytest.approx(np.sqrt(6 / 7))  # 0.926: 7.4 % lower
    with pytest.raises(ValueError):
        monotony(daily, ddof=2)


def test_population_sd_matches_the_acwr_package_with_ddof_0():
    oracle = pytest.importorskip("acwr")
    rng = np.random.default_rng(3)
    daily = days(np.where(rng.random(60) < 0.3, 0.0, rng.uniform(20, 150, 60)))
    for ddof in (0, 1):
        expected = oracle.monotony(daily, ddof=ddof)
        np.testing.assert_allclose(monotony(daily, ddof=ddof), expected, rtol=1e-12)
