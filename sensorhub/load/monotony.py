"""Training monotony and strain (Foster 1998, Med Sci Sports Exerc 30:1164).

SD convention: Foster 1998 does not say which SD. Default: the *population* SD
(``ddof=0``): the week's seven daily loads are the whole thing being described, not a
sample drawn to estimate a larger population, and it keeps monotony a pure function of
those seven numbers. ``ddof=1`` (sample SD: spreadsheets' STDEV, pandas ``std()``, the
``acwr`` package's default) gives monotony smaller by the factor √(6/7) ≈ 0.926, i.e.
7.4 % lower — enough to move a week across the 2.0 alert threshold, so the choice is an
explicit parameter.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from sensorhub.load.daily import as_daily

#: SD at or below this fraction of the mean (or absolute, for a zero mean) counts as 0,
#: so a constant week is NaN even with floating-point noise.
_SD_TOL = 1e-9


def _windows(daily: pd.Series, window: int, ddof: int) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    if ddof not in (0, 1):
        raise ValueError(f"ddof must be 0 (population SD) or 1 (sample SD), got {ddof!r}")
    daily = as_daily(daily)
    mean = np.full(len(daily), np.nan)
    sd = np.full(len(daily), np.nan)
    if len(daily) >= window:
        w = sliding_window_view(daily.to_numpy(), window)
        mean[window - 1 :] = w.mean(axis=1)
        sd[window - 1 :] = w.std(axis=1, ddof=ddof)
    return daily, mean, sd


def monotony(daily: pd.Series, window: int = 7, ddof: int = 0) -> pd.Series:
    """Monotony (dimensionless) = mean / SD of the last ``window`` daily loads.

    Foster 1998: high monotony (little day-to-day variation) with high load was associated
    with illness. NaN for the first ``window − 1`` days and wherever the SD is 0 (constant
    load, including a week of rest). ``ddof=0``: population SD (default), ``ddof=1``:
    sample SD, √(6/7) ≈ 0.926 × the default for a 7-day window (see the module docstring).
    """
    daily, mean, sd = _windows(daily, window, ddof)
    ok = np.isfinite(sd) & (sd > _SD_TOL * np.maximum(np.abs(mean), 1.0))
    out = np.full(len(daily), np.nan)
    np.divide(mean, sd, out=out, where=ok)
    return pd.Series(out, index=daily.index, name="monotony")


def strain(daily: pd.Series, window: int = 7, ddof: int = 0) -> pd.Series:
    """Strain (AU) = sum of the last ``window`` daily loads × monotony (Foster 1998).

    NaN wherever monotony is NaN (first ``window − 1`` days, constant weeks); ``ddof`` as
    for :func:`monotony`.
    """
    daily = as_daily(daily)
    weekly = daily.rolling(window, min_periods=window).sum()
    return (weekly * monotony(daily, window, ddof)).rename("strain")
