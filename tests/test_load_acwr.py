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
    # acute N=2 -> λ=2/3, chronic N=3 -> λ=1/2, both seeded at 0; loads 30, 0, 60
    # acute:   20, 20/3 = 6.6667, 40 + 20/9 = 42.2222
    # chronic: 15, 7.5, 30 + 3.75 = 33.75
    # ratio: NaN, NaN (warm-up: < 3 days), 42.2222/33.75 = 1.2510288
    daily = days([30.0, 0.0, 60.0])
    np.testing.assert_allclose(
        acute_load(daily, 2, method="ewma"), [20.0, 6.6666667, 42.2222222], rtol=1e-7
    )
    np.testing.assert_allclose(chronic_load(daily, 3, method="ewma"), [15.0, 7.5, 33.75])
    ratio = acwr(daily, "ewma", acute=2, chronic=3)
    assert ratio.iloc[:2].isna().all()
    assert ratio.iloc[2] == pytest.approx(1.2510288, rel=1e-7)


def test_ewma_default_windows_constant_load():
    # 28 days of 100: acute = 100(1 − 0.75^28) = 99.96825207,
    # chronic = 100(1 − (27/29)^28) = 86.47798369 -> ratio 1.15599656
    ratio = acwr(days([100.0] * 28), "ewma")
    assert ratio.iloc[27] == pytest.approx(1.15599656, rel=1e-7)


def test_series_is_aligned_and_named():
    daily = days([10.0] * 40)
    ratio = acwr(daily, "rau")
    assert ratio.index.equals(daily.index)
    assert ratio.name == "acwr_rau"
    with pytest.raises(ValueError):
        acwr(daily, "sum")
