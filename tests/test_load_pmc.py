"""PMC (CTL/ATL/TSB) by hand, and the full load table including a late session."""

import numpy as np
import pandas as pd
import pytest

from sensorhub.load import LOAD_COLUMNS, LOAD_TEXT_COLUMNS, daily_series, load_table, pmc


def days(values):
    return pd.Series(values, index=pd.date_range("2024-01-01", periods=len(values)), dtype=float)


def test_pmc_by_hand():
    # loads 42, 0, 84
    # ctl: 42/42 = 1; 1 − 1/42 = 41/42 = 0.9761905; 41/42 + (84 − 41/42)/42 = 2.9529478
    # atl: 42/7 = 6; 6 − 6/7 = 36/7 = 5.1428571; 36/7 + (84 − 36/7)/7 = 804/49 = 16.4081633
    # tsb (yesterday's ctl − atl): 0; 1 − 6 = −5; 41/42 − 36/7 = −4.1666667
    out = pmc(days([42.0, 0.0, 84.0]))
    assert list(out.columns) == ["ctl", "atl", "tsb"]
    np.testing.assert_allclose(out["ctl"], [1.0, 0.9761905, 2.9529478], rtol=1e-7)
    np.testing.assert_allclose(out["atl"], [6.0, 5.1428571, 16.4081633], rtol=1e-7)
    np.testing.assert_allclose(out["tsb"], [0.0, -5.0, -4.1666667], rtol=1e-7)


def test_pmc_custom_time_constants():
    # atl_days=1 -> atl equals the day's load; ctl_days=2 halves the gap each day: 50, 25
    out = pmc(days([100.0, 0.0]), ctl_days=2, atl_days=1)
    assert out["atl"].tolist() == [100.0, 0.0]
    assert out["ctl"].tolist() == [50.0, 25.0]
    assert out["tsb"].tolist() == [0.0, -50.0]


def test_load_table_columns_and_warm_up():
    table = load_table(days([100.0, 0.0, 50.0, 0.0, 80.0, 0.0, 0.0] * 5))
    assert tuple(table.columns) == LOAD_COLUMNS + LOAD_TEXT_COLUMNS
    assert (table["acwr_status"].iloc[27:] == "ok").all()
    for col in ("acwr_rac", "acwr_rau", "acwr_ewma", "chronic"):
        assert table[col].iloc[:27].isna().all(), col
        assert table[col].iloc[27:].notna().all(), col
    assert table["acute"].iloc[:6].isna().all() and table["acute"].iloc[6:].notna().all()
    # every week is identical -> all rolling ratios are exactly 1 after warm-up
    np.testing.assert_allclose(table["acwr_rac"].iloc[27:], 1.0)
    np.testing.assert_allclose(table["acwr_rau"].iloc[27:], 1.0)


def test_late_session_changes_later_days_only():
    start = pd.Timestamp("2024-01-01")
    base = pd.DataFrame(
        {"day": [start + pd.Timedelta(days=d) for d in range(0, 60, 2)], "load": [60.0] * 30}
    )
    late = pd.concat([base, pd.DataFrame({"day": [start + pd.Timedelta(days=41)], "load": [90.0]})])
    before = load_table(daily_series(base))
    after = load_table(daily_series(late))
    assert before.index.equals(after.index)
    pd.testing.assert_frame_equal(before.iloc[:41], after.iloc[:41])  # days 0..40 untouched
    for col in ("ctl", "atl", "acwr_ewma"):
        assert (after[col].iloc[41:] != before[col].iloc[41:]).all(), col
    assert (after["tsb"].iloc[42:] != before["tsb"].iloc[42:]).all()  # tsb uses yesterday
    assert after["tsb"].iloc[41] == before["tsb"].iloc[41]
    # the rolling 28-day ratio sees the session on days 41..58 (all later days in range)
    assert (after["acwr_rac"].iloc[41:] != before["acwr_rac"].iloc[41:]).all()
    assert after["daily_load"].iloc[41] == pytest.approx(90.0)


def test_pmc_starts_from_zero_not_from_the_first_day():
    # TrainingPeaks convention (α = 1/τ, start 0), unlike EWMA-ACWR's first-day seed:
    # constant 100 -> ctl_1 = 100/42 = 2.3809524, ctl_125 = 100(1 − (41/42)^125) = 95.1
    out = pmc(days([100.0] * 125))
    assert out["ctl"].iloc[0] == pytest.approx(100 / 42)
    assert out["atl"].iloc[0] == pytest.approx(100 / 7)
    assert out["ctl"].iloc[124] == pytest.approx(100 * (1 - (41 / 42) ** 125))
    assert 95.0 < out["ctl"].iloc[124] < 95.2
