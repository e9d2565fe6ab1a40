"""Acute:chronic workload ratio (ACWR): rolling coupled, rolling uncoupled and EWMA.

ACWR describes how the recent (acute, 7 d) load compares with the longer-term (chronic,
28 d) load, i.e. load *change*. It is not a validated injury predictor: the ratio has
statistical and conceptual problems (ratio coupling, arbitrary windows, spurious
correlation) — Impellizzeri et al. 2020, Int J Sports Physiol Perform 15:907; Lolli et al.
2019, Br J Sports Med 53:921. Report a high value as a "load spike", never as "injury risk".

Reference bands: 0.8–1.3 (about as much load as usual) and 1.5 (the spike alert's default
threshold) are *conventional reference bands for load change* taken from the ACWR
literature (Gabbett 2016, Br J Sports Med 50:273). Gabbett's injury-risk labels for these
bands are not used here: that construct is what Impellizzeri et al. 2020 reject.

Conventions for every function here: the input is a daily load series in AU with one entry
per calendar day (rest days = 0, see :func:`sensorhub.load.daily.daily_series`); acute and
chronic loads are *mean daily loads* (AU/day), so a ratio of 1 means "as much as usual".
Ratios are NaN while fewer than ``chronic`` days of history exist ("warming up") and where
the chronic denominator is 0 — never inf, never an exception. :func:`acwr_status` adds the
"rebuilding" state after a break; :func:`sensorhub.load.table.load_table` applies it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sensorhub.load._ewma import ewma
from sensorhub.load.daily import as_daily

ACWR_METHODS = ("rac", "rau", "ewma")
#: Values of :func:`acwr_status`; a ratio is reported only on "ok" days.
ACWR_STATUSES = ("warming up", "rebuilding", "ok")


def _check_method(method: str) -> None:
    if method not in ACWR_METHODS:
        raise ValueError(f"method must be one of {ACWR_METHODS}, got {method!r}")


def acute_load(daily: pd.Series, n: int = 7, method: str = "rac") -> pd.Series:
    """Acute load (AU/day): mean of the last ``n`` days including today.

    For ``method="rac"``/``"rau"`` a rolling mean, NaN for the first ``n − 1`` days
    (Gabbett 2016, Br J Sports Med 50:273). For ``"ewma"`` the exponentially weighted
    average with λ = 2/(n+1) (Williams et al. 2017, Br J Sports Med 51:209), seeded with
    the first day's load (as pandas ``ewm(alpha=λ, adjust=False)``), defined from day one.
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
    - ``"ewma"``: exponentially weighted average, λ = 2/(n+1), seeded with the first
      day's load like the acute EWMA (Williams et al. 2017); defined from day one.
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
    This is the raw ratio; the stored table also blanks "rebuilding" days
    (:func:`acwr_status`). Describes load change; not an injury predictor
    (Impellizzeri et al. 2020).
    """
    _check_method(method)
    num = acute_load(daily, acute, method).to_numpy()
    den = chronic_load(daily, chronic, method, acute=acute).to_numpy()
    ratio = np.full(len(num), np.nan)
    ok = np.isfinite(num) & np.isfinite(den) & (den > 0)
    ok[: chronic - 1] = False
    np.divide(num, den, out=ratio, where=ok)
    return pd.Series(ratio, index=as_daily(daily).index, name=f"acwr_{method}")


@dataclass(frozen=True)
class RebuildRule:
    """When a day's chronic window is established enough for a ratio to mean something.

    - A **break** is a run of at least ``break_days`` consecutive rest days (load 0).
      Causal: as of day t, an unfinished run counts only once it has lasted
      ``break_days`` days, so a day's status never depends on later days.
    - **Covered**: at least ``min_history`` of the last ``chronic`` days (28) are inside
      the athlete's training history, i.e. not break days.
    - **Floor**: the coupled chronic load (28-day mean, AU/day) is at least
      ``max(min_chronic, floor_fraction × reference)``; ``reference`` is the median
      coupled chronic load over the previous ``reference_days`` days that were covered
      (the athlete's own usual chronic load; only ``min_chronic`` applies without one).
      The defaults: 25 % of the usual chronic load, and 2 AU/day absolute (14 min/week in
      duration units), below which the window is in effect no training.
    """

    min_history: int = 21
    break_days: int = 14
    floor_fraction: float = 0.25
    min_chronic: float = 2.0
    reference_days: int = 365


def _break_days_in_window(x: np.ndarray, rule: RebuildRule, window: int) -> np.ndarray:
    """Per day t: how many of days t−window+1 … t are break days, as known on day t."""
    rest = pd.Series(x <= 0.0)
    group = (~rest).cumsum()  # a training day and the rest days after it share a group
    pos = rest.astype(int).groupby(group).cumsum().to_numpy()  # day t's place in its rest run
    run_len = rest.astype(int).groupby(group).transform("sum").to_numpy() * rest.to_numpy()
    is_break = run_len >= rule.break_days  # with hindsight
    n_break = pd.Series(is_break.astype(float)).rolling(window, min_periods=1).sum().to_numpy()
    # The run still going on day t is known only up to t: undo the hindsight for it.
    ongoing = np.minimum(pos, window)
    return n_break + ongoing * ((pos >= rule.break_days).astype(int) - is_break.astype(int))


def acwr_status(daily: pd.Series, rule: RebuildRule | None = None, chronic: int = 28) -> pd.Series:
    """Whether a day's ACWR describes anything: "warming up" | "rebuilding" | "ok".

    - "warming up": fewer than ``chronic`` days since the first day of the series.
    - "rebuilding": later days whose chronic window is mostly a break, or whose chronic
      load is below the floor (see :class:`RebuildRule`). After 28+ rest days the coupled
      ratio on the first run back is exactly chronic/acute = 4.0 whatever the run was; it
      describes the break, not the run, so no ratio is reported.
    - "ok": the ratios are reported.

    Returns:
        str Series named ``acwr_status`` on the index of ``daily``.
    """
    rule = rule or RebuildRule()
    daily = as_daily(daily)
    x = daily.to_numpy()
    covered = chronic - _break_days_in_window(x, rule, chronic) >= rule.min_history
    chron = daily.rolling(chronic, min_periods=chronic).mean()
    usual = chron.where(covered).shift(1).rolling(f"{rule.reference_days}D", min_periods=1)
    floor = np.maximum(rule.min_chronic, rule.floor_fraction * usual.median().fillna(0.0))
    ok = covered & (chron >= floor).to_numpy()
    status = np.where(ok, "ok", "rebuilding").astype(object)
    status[: chronic - 1] = "warming up"
    return pd.Series(status, index=daily.index, name="acwr_status", dtype=object)
