"""daily_series: per-day sums, rest days as 0, explicit ranges."""

import datetime as dt

import pandas as pd
import pytest

from sensorhub.load import as_daily, daily_series


def test_sums_per_day_and_fills_gaps_with_zero():
    sessions = pd.DataFrame(
        {
            "day": [
                dt.date(2024, 3, 1),
                dt.date(2024, 3, 1),
                dt.date(2024, 3, 3),
                dt.date(2024, 3, 6),
            ],
            "load": [100.0, 50.0, 200.0, 80.0],
        }
    )
    daily = daily_series(sessions)
    assert daily.name == "daily_load"
    assert daily.index.name == "day"
    assert list(daily.index) == list(pd.date_range("2024-03-01", "2024-03-06"))
    assert daily.tolist() == [150.0, 0.0, 200.0, 0.0, 0.0, 80.0]


def test_timestamps_unsorted_and_explicit_range():
    sessions = pd.DataFrame(
        {
            "day": pd.to_datetime(
                ["2024-03-03 18:00", "2024-03-01 06:30", "2024-03-20 12:00"], utc=True
            ),
            "load": [200.0, 100.0, 999.0],
        }
    )
    daily = daily_series(sessions, start="2024-02-28", end=dt.date(2024, 3, 4))
    assert daily.index[0] == pd.Timestamp("2024-02-28")
    # Feb 28, Feb 29 (leap year), Mar 1 .. Mar 4; the Mar 20 session is outside the range
    assert daily.tolist() == [0.0, 0.0, 100.0, 0.0, 200.0, 0.0]


def test_no_sessions():
    empty = pd.DataFrame({"day": [], "load": []})
    assert daily_series(empty).empty
    assert daily_series(empty, "2024-03-01", "2024-03-03").tolist() == [0.0, 0.0, 0.0]


def test_as_daily_rejects_gaps_in_the_index():
    gappy = pd.Series([1.0, 2.0], index=pd.to_datetime(["2024-03-01", "2024-03-03"]))
    with pytest.raises(ValueError):
        as_daily(gappy)
