"""Acute:chronic workload ratio (ACWR): rolling coupled, rolling uncoupled and EWMA.

ACWR describes how the recent (acute, 7 d) load compares with the longer-term (chronic,
28 d) load, i.e. load *change*. It is not a validated injury predictor: the ratio has
statistical and conceptual problems (ratio coupling, arbitrary windows, spurious
correlation) — Impellizzeri et al. 2020, Int J Sports Physiol Perform 15:907; Lolli et al.
2019, Br J Sports Med 53:921. Report a high value as a "load spike", never as "injury risk".

Conventions for every function here: the input is a daily load series in AU with one entry
per calendar day (rest days = 0, see :func:`sensorhub.load.daily.daily_series`); acute and
chronic loads are *mean daily loads* (AU/day), so a ratio of 1 means "as much as usual".
Ratios are NaN while fewer than ``chronic`` days of history exist ("warming up") and where
the chronic denominator is 0 — never inf, never an exception.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sensorhub.load._ewma import ewma
from sensorhub.load.daily import as_daily

ACWR_METHODS = ("rac", "rau", "ewma")


def _check_method(method: str) -> None:
    if method not in ACWR_METHODS:
        raise ValueError(f"method must be one of {ACWR_METHODS}, got {method!r}")


def acute_load(daily: pd.Series, n: int = 7, method: str = "rac") -> pd.Series:
    """Acute load (AU/day): mean of the last ``n`` days including today.

    For ``method="rac"``/``"rau"`` a rolling mean, NaN for the first ``n − 1`` days
    (Gabbett 2016, Br J Sports Med 50:273). For ``"ewma"`` the exponentially weighted
    average with λ = 2/(n+1), seeded at 0 before the first day (Williams et al. 2017,
    Br J Sports Med 51:209), defined from day one.
    """
    _check_method(method)
    daily = as_daily(daily)
    if method == "ewma":
        out = pd.Series(ewma(daily.to_numpy(), 2.0 / (n + 1)), index=daily.index)
    else:
        out = daily.rolling(n, min_periods=n).mean()
    return out.rename("acute")


def chronic_load(daily: pd.Series, n: int = 28, method: str = "rac", acute: int = 7) -> pd.Series:
    """Chronic load (AU/day), the ACWR denominator.

    - ``"rac"`` (rolling, coupled): mean of the last ``n`` days *including* the acute
      window (Gabbett 2016). NaN for the first ``n − 1`` days.
    - ``"rau"`` (rolling, uncoupled): mean of days t−(n−1) … t−``acute``, i.e. the
      ``n − acute`` days before the acute window (21 days for 28/7), so acute and chronic
      share no day (Lolli et al. 2019; Windt & Gabbett 2019, Br J Sports Med 53:988).
      NaN for the first ``n − 1`` days.
    - ``"ewma"``: exponentially weighted average, λ = 2/(n+1), seeded at 0 (Williams
      et al. 2017); defined from day one.
    """
    _check_method(method)
    daily = as_daily(daily)
    if method == "ewma":
        out = pd.Series(ewma(daily.to_numpy(), 2.0 / (n + 1)), index=daily.index)
    elif method == "rau":
        if not 0 < acute < n:
            raise ValueError(f"uncoupled chronic needs 0 < acute ({acute}) < n ({n})")
        out = daily.shift(acute).rolling(n - acute, min_periods=n - acute).mean()
    else:
        out = daily.rolling(n, min_periods=n).mean()
    return out.rename("chronic")


def acwr(daily: pd.Series, method: str = "rac", acute: int = 7, chronic: int = 28) -> pd.Series:
    """Acute:chronic workload ratio (dimensionless), aligned with ``daily``.

    ``acute_load / chronic_load`` for the chosen ``method`` ("rac" rolling coupled,
    Gabbett 2016; "rau" rolling uncoupled, Lolli et al. 2019 / Windt & Gabbett 2019;
    "ewma", Williams et al. 2017). The first ``chronic − 1`` entries are NaN (warming up:
    fewer than ``chronic`` days of history), as is every day whose chronic load is 0.
    Describes load change; not an injury predictor (Impellizzeri et al. 2020).
    """
    _check_method(method)
    num = acute_load(daily, acute, method).to_numpy()
    den = chronic_load(daily, chronic, method, acute=acute).to_numpy()
    ratio = np.full(len(num), np.nan)
    ok = np.isfinite(num) & np.isfinite(den) & (den > 0)
    ok[: chronic - 1] = False
    np.divide(num, den, out=ratio, where=ok)
    return pd.Series(ratio, index=as_daily(daily).index, name=f"acwr_{method}")
