"""ACWR status after a break ("rebuilding"), in the load table and through the alert rules."""

import numpy as np
import pandas as pd
import pytest

from sensorhub.alerts.config import AlertConfig
from sensorhub.alerts.episodes import episodes
from sensorhub.alerts.rules import day_observations, make_rules
from sensorhub.load import (
    LOAD_COLUMNS,
    LOAD_TEXT_COLUMNS,
    RebuildRule,
    acwr,
    acwr_status,
    load_table,
)

RATIOS = ["acwr_rac", "acwr_rau", "acwr_ewma"]


def days(values):
    return pd.Series(
        values, index=pd.date_range("2024-01-01", periods=len(values), name="day"), dtype=float
    )


def weeks(n, load=60.0):
    """n weeks of 5 sessions (Mon–Fri) and 2 rest days."""
    return [load if d % 7 < 5 else 0.0 for d in range(7 * n)]


# 8 weeks of training (last session day 53, rest from day 54), 5 weeks off
# (days 56–90, so a 37-day rest run), back on day 91 to the same weeks as before.
BREAK = weeks(8) + [0.0] * 35 + weeks(6)
RETURN = 91


def spike_alerts(daily: pd.Series, field: str = "acwr_rac") -> list:
    """acwr_spike episodes from the load table, as the alert engine computes them."""
    ac = AlertConfig(acwr_field=field)
    table = load_table(daily)
    table.index = table.index.tz_localize("UTC")
    obs = day_observations(table, ac)["acwr_spike"]
    return episodes(obs, make_rules(ac)["acwr_spike"])


def test_columns_and_statuses():
    table = load_table(days(BREAK))
    assert (
        tuple(table.columns) == LOAD_COLUMNS + LOAD_TEXT_COLUMNS == (*LOAD_COLUMNS, "acwr_status")
    )
    assert set(table["acwr_status"]) == {"warming up", "rebuilding", "ok"}
    assert (table["acwr_status"].iloc[:27] == "warming up").all()
    not_ok = table["acwr_status"] != "ok"
    assert table.loc[not_ok, RATIOS].isna().all().all()
    assert table.loc[~not_ok, "acwr_rac"].notna().all()
    # acute/chronic stay: they are true averages even while the ratio means nothing
    assert table["chronic"].iloc[27:].notna().all()


def test_break_by_hand():
    status = acwr_status(days(BREAK))
    # the rest run starts on day 54; as of day t it is a break once it has lasted 14 days
    assert (status.iloc[27:67] == "ok").all()
    assert status.iloc[67] == "rebuilding"
    # first run back: the raw coupled ratio is exactly 28/7 = 4.0 and describes the break
    assert acwr(days(BREAK), "rac").iloc[RETURN] == pytest.approx(4.0)
    assert (status.iloc[67:111] == "rebuilding").all()
    # day 111 = return + 20: the window 84..111 holds 7 break days (84..90), 21 of history
    assert status.iloc[111] == "ok"
    row = load_table(days(BREAK)).iloc[111]
    # chronic = 15 sessions × 60 / 28 = 32.142857; acute = 5 × 60 / 7 -> rac 4/3
    assert row["chronic"] == pytest.approx(900 / 28)
    assert row["acwr_rac"] == pytest.approx(4 / 3)
    # uncoupled chronic: days 84..104 = 7 break days + 10 sessions -> 600/21 -> rau 1.5
    assert row["acwr_rau"] == pytest.approx(1.5)


def test_no_spike_alert_on_return_from_a_break():
    # The raw coupled ratio fires (4.0 > 1.5) on the first run back; the table does not.
    assert acwr(days(BREAK), "rac").iloc[RETURN] > 1.5
    for field in RATIOS:
        assert spike_alerts(days(BREAK), field) == [], field


def test_sessions_a_month_apart_give_no_spike():
    # 10 sessions, 30 days apart: every one had raw rac 4.0 (9 alerts before the fix)
    x = np.zeros(271)
    x[::30] = 50.0
    raw = acwr(days(x), "rac")
    np.testing.assert_allclose(raw.iloc[30::30], 4.0)
    assert len(raw.iloc[30::30]) == 9
    assert spike_alerts(days(x)) == []
    assert (load_table(days(x))["acwr_status"].iloc[27:] == "rebuilding").all()


def test_genuine_spike_in_steady_training_still_fires():
    # 8 steady weeks (chronic 1200/28 = 42.857 AU/day), then 7 days of 180 from day 56.
    # Day 58 (3rd hard day): acute (2·60 + 3·180)/7 = 94.286, chronic (17·60 + 3·180)/28
    # = 55.714 -> rac 1.6923, the first value above 1.5 (day 57 is exactly 1.5).
    # Day 62: acute 180, chronic (15·60 + 7·180)/28 = 77.143 -> 2.3333.
    daily = days(weeks(8) + [180.0] * 7)
    table = load_table(daily)
    assert (table["acwr_status"].iloc[27:] == "ok").all()
    assert table["acwr_rac"].iloc[57] == pytest.approx(1.5)
    assert table["acwr_rac"].iloc[62] == pytest.approx(180 / (2160 / 28))
    alerts = spike_alerts(daily)
    assert len(alerts) == 1
    assert alerts[0].opened_at == pd.Timestamp("2024-02-28", tz="UTC")  # day 58
    assert alerts[0].value == pytest.approx(94.285714 / 55.714286)


def test_floor_relative_to_the_athletes_usual_chronic():
    # Back after the break at 10 % of the earlier load (6 AU a session). The usual
    # chronic load (median over covered days) is 1200/28 = 42.857 AU/day, so the floor is
    # 0.25 × 42.857 = 10.71: covered from day 111, but chronic there is 15·6/28 = 3.21
    # and at most 20·6/28 = 4.29 later -> still rebuilding.
    low = weeks(8) + [0.0] * 35 + weeks(6, load=6.0)
    status = acwr_status(days(low))
    assert (status.iloc[RETURN:] == "rebuilding").all()
    # a 5 % floor (2.14 AU/day) lets day 111 through
    loose = acwr_status(days(low), RebuildRule(floor_fraction=0.05))
    assert loose.iloc[110] == "rebuilding" and (loose.iloc[111:] == "ok").all()


def test_absolute_floor_without_a_reference():
    # A new athlete with one 10-minute session a week: chronic 40/28 = 1.43 AU/day < 2
    # -> rebuilding; three 30-minute sessions a week: chronic 360/28 = 12.9 -> ok.
    sparse = [10.0 if d % 7 == 0 else 0.0 for d in range(42)]
    assert (acwr_status(days(sparse)).iloc[27:] == "rebuilding").all()
    regular = [30.0 if d % 7 in (0, 2, 4) else 0.0 for d in range(42)]
    assert (acwr_status(days(regular)).iloc[27:] == "ok").all()


def test_status_is_causal():
    # A day's status never depends on later days: every prefix gives the same statuses.
    full = acwr_status(days(BREAK))
    for end in (60, 67, 70, 91, 100, 111):
        pd.testing.assert_series_equal(acwr_status(days(BREAK[:end])), full.iloc[:end])


def test_empty_and_one_day():
    empty = load_table(days([]))
    assert empty.empty and tuple(empty.columns) == LOAD_COLUMNS + LOAD_TEXT_COLUMNS
    assert load_table(days([5.0]))["acwr_status"].tolist() == ["warming up"]
