"""ACWR (rac, rau, ewma) against hand-computed histories."""

import warnings

import numpy as np
import pandas as pd
import pytest

from sensorhub.load import acute_load, acwr, chronic_load, daily_series


def days(values, start="2024-01-01"):
    return pd.Series(
        values,
        index=pd.date_range(start, periods=len(values), name="day"),
        dtype=float,
        name="daily_load",
    )


def test_first_27_days_warm_up_then_value_on_day_28():
    daily = days([100.0] * 30)
    for method in ("rac", "rau", "ewma"):
        ratio = acwr(daily, method)
        assert ratio.iloc[:27].isna().all(), method
        assert np.isfinite(ratio.iloc[27]), method
    assert acwr(daily, "rac").iloc[27:].tolist() == [1.0, 1.0, 1.0]
    assert acwr(daily, "rau").iloc[27:].tolist() == [1.0, 1.0, 1.0]


def test_coupled_vs_uncoupled_by_hand():
    # days 0-20 load 100, days 21-27 load 200
    # acute = 200; coupled chronic = (21·100 + 7·200)/28 = 125 -> 1.6
    # uncoupled chronic = mean(days 0..20) = 100 -> 2.0
    daily = days([100.0] * 21 + [200.0] * 7)
    assert acute_load(daily).iloc[27] == 200.0
    assert chronic_load(daily, method="rac").iloc[27] == 125.0
    assert chronic_load(daily, method="rau").iloc[27] == 100.0
    assert acwr(daily, "rac").iloc[27] == pytest.approx(1.6)
    assert acwr(daily, "rau").iloc[27] == pytest.approx(2.0)


def test_rest_days_from_gaps_count_as_zero():
    # Sessions Mon/Wed/Fri of 4 weeks only; daily_series adds the rest days.
    # Weekly sum 300 every week -> acute 300/7, chronic 1200/28 = 300/7 -> ratio 1.0.
    # With the rest days dropped the ratio would still be 1.0 but the acute mean would
    # be 100; check both the ratio and the mean to see the zeros were counted.
    monday = pd.Timestamp("2024-01-01")
    sessions = pd.DataFrame(
        {
            "day": [monday + pd.Timedelta(days=7 * w + d) for w in range(4) for d in (0, 2, 4)],
            "load": [100.0] * 12,
        }
    )
    daily = daily_series(sessions, end="2024-01-28")
    assert len(daily) == 28
    assert acute_load(daily).iloc[27] == pytest.approx(300 / 7)
    assert acwr(daily, "rac").iloc[27] == pytest.approx(1.0)


def test_zero_chronic_gives_nan_without_warnings_or_inf():
    # 35 days of rest, then one session of 70 on day 25 in a second history.
    rest = days([0.0] * 35)
    spike = days([0.0] * 25 + [70.0] + [0.0] * 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for method in ("rac", "rau", "ewma"):
            ratio = acwr(rest, method)
            assert ratio.isna().all()
            assert not np.isinf(ratio).any()
        # day 27: acute 70/7 = 10, coupled chronic 70/28 = 2.5 -> 4.0;
        # uncoupled chronic = mean(days 0..20) = 0 -> NaN
        assert acwr(spike, "rac").iloc[27] == pytest.approx(4.0)
        assert np.isnan(acwr(spike, "rau").iloc[27])


def test_ewma_tiny_history_by_hand():
    # acute N=2 -> λ=2/3, chronic N=3 -> λ=1/2, both seeded with the first day; loads 30, 0, 60
    # acute:   30, 30 + 2/3·(0 − 30) = 10, 10 + 2/3·(60 − 10) = 43.3333333
    # chronic: 30, 15, 15 + (60 − 15)/2 = 37.5
    # ratio: NaN, NaN (warm-up: < 3 days), 43.3333333/37.5 = 1.1555556
    daily = days([30.0, 0.0, 60.0])
    np.testing.assert_allclose(
        acute_load(daily, 2, method="ewma"), [30.0, 10.0, 43.3333333], rtol=1e-7
    )
    np.testing.assert_allclose(chronic_load(daily, 3, method="ewma"), [30.0, 15.0, 37.5])
    ratio = acwr(daily, "ewma", acute=2, chronic=3)
    assert ratio.iloc[:2].isna().all()
    assert ratio.iloc[2] == pytest.approx(1.1555556, rel=1e-7)


def test_ewma_constant_load_is_exactly_one():
    # Seeded at 0 (the old code) the ratio of a constant 100 AU/day was 1.156 on day 28,
    # 1.052 on day 42 and 1.002 on day 90; seeded with the first day both averages are 100.
    ratio = acwr(days([100.0] * 90), "ewma")
    for day in (28, 42, 90):
        assert ratio.iloc[day - 1] == pytest.approx(1.0, abs=1e-12), day


def random_history(seed: int, n: int = 400) -> pd.Series:
    """Rest on ~30 % of days, else 20–150 AU; sometimes a harder block."""
    rng = np.random.default_rng(seed)
    load = np.where(rng.random(n) < 0.3, 0.0, rng.uniform(20.0, 150.0, n))
    load[rng.integers(30, n - 14) :][:14] *= 2.5
    return days(load)


@pytest.mark.parametrize("seed", range(5))
def test_matches_the_acwr_package_from_day_28(seed):
    # The `acwr` package (PyPI, test-only oracle): pandas ewm(alpha=2/(N+1), adjust=False),
    # i.e. seeded with the first day; rolling windows as ours. Equal from day 28 on.
    oracle = pytest.importorskip("acwr")
    daily = random_history(seed)
    for method in ("rac", "rau", "ewma"):
        expected = oracle.acwr(daily, method=method)
        got = acwr(daily, method)
        assert got.iloc[:27].isna().all() and expected.iloc[:27].isna().all()
        np.testing.assert_allclose(got.iloc[27:], expected.iloc[27:], rtol=0, atol=1e-9)
    components = oracle.acwr(daily, method="ewma", return_components=True)
    np.testing.assert_allclose(acute_load(daily, method="ewma").iloc[27:], components["acute"][27:])


def test_series_is_aligned_and_named():
    daily = days([10.0] * 40)
    ratio = acwr(daily, "rau")
    assert ratio.index.equals(daily.index)
    assert ratio.name == "acwr_rau"
    with pytest.raises(ValueError):
        acwr(daily, "sum")
