"""Daily load series: one value per calendar day, rest days as 0 AU."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

DayLike = dt.date | pd.Timestamp | str | None


def _to_days(values: pd.Series | pd.Index) -> pd.DatetimeIndex:
    """Midnight, tz-naive days (the wall-clock date in the value's own time zone)."""
    days = pd.DatetimeIndex(pd.to_datetime(values))
    if days.tz is not None:
        days = days.tz_localize(None)
    return days.normalize()


def _to_day(value: DayLike) -> pd.Timestamp | None:
    if value is None:
        return None
    return _to_days(pd.Index([pd.Timestamp(value)]))[0]


def daily_series(sessions: pd.DataFrame, start: DayLike = None, end: DayLike = None) -> pd.Series:
    """Sum session loads (AU) per calendar day, with every day in [start, end] present.

    ``sessions`` needs columns ``day`` (date or Timestamp; a tz-aware Timestamp counts on its
    wall-clock date in its own zone, so pass local dates for local days) and ``load`` (AU).
    Days without a session are rest days with load 0.0, as ACWR and monotony require
    (Gabbett 2016; Foster 1998). NaN loads count as 0. Sessions outside [start, end] are
    dropped. ``start``/``end`` default to the first/last session day.

    Returns:
        float Series named ``daily_load`` on a tz-naive daily DatetimeIndex named ``day``.
    """
    days = _to_days(sessions["day"]) if len(sessions) else pd.DatetimeIndex([])
    loads = pd.to_numeric(pd.Series(np.asarray(sessions["load"]), index=days), errors="coerce")
    per_day = loads.fillna(0.0).groupby(level=0).sum()
    first = _to_day(start) if start is not None else (days.min() if len(days) else None)
    last = _to_day(end) if end is not None else (days.max() if len(days) else None)
    if first is None or last is None:
        index = pd.DatetimeIndex([], name="day")
    else:
        index = pd.date_range(first, last, freq="D", name="day")
    out = per_day.reindex(index, fill_value=0.0).astype(float)
    out.name = "daily_load"
    return out


def as_daily(daily: pd.Series) -> pd.Series:
    """Validate a daily load series (contiguous daily DatetimeIndex) and fill NaN with 0.

    Every load function assumes one entry per calendar day with rest days present, so a
    gap in the index would silently shorten the rolling windows; build the series with
    :func:`daily_series` to get that right.
    """
    if not isinstance(daily.index, pd.DatetimeIndex):
        raise TypeError("daily load needs a DatetimeIndex of days; use daily_series()")
    if len(daily) > 1:
        steps = np.diff(daily.index.asi8)
        one_day = pd.Timedelta(days=1) // pd.Timedelta(1, unit=daily.index.unit)
        if not np.all(steps == one_day):
            raise ValueError("daily load must have exactly one entry per day; use daily_series()")
    return pd.to_numeric(daily, errors="coerce").astype(float).fillna(0.0)
