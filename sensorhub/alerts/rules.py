"""Alert rules as pure functions: histories in, one observation per day or session out.

Each rule turns a history into a DataFrame of observations (UTC DatetimeIndex; columns
``value`` and ``ref`` plus context for the message). :mod:`sensorhub.alerts.episodes`
then applies the rule's fire/clear levels (hysteresis). No I/O here.

Wording describes what changed (load, symmetry, pain), never a risk of injury: ACWR is not
a validated injury predictor (Impellizzeri et al. 2020, IJSPP 15:907).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .config import AlertConfig

DAY_RULES = ("acwr_spike", "load_increase", "monotony")
SESSION_RULES = ("gct_asymmetry_baseline", "gct_balance_band", "pain")
LIVE_RULES = ("live_gct_balance",)


@dataclass(frozen=True)
class Rule:
    """One rule: fires when ``fires(value)``, stays open until ``clears(value)``."""

    name: str
    kind: str  # day | session | live
    severity: str  # info | warning | critical
    threshold: float
    fires: Callable[[float], bool]
    clears: Callable[[float], bool]
    describe: Callable[[pd.Series], str]


def make_rules(ac: AlertConfig) -> dict[str, Rule]:
    """Every rule with the thresholds of ``ac``."""
    lo, hi, m = ac.balance_low_pct, ac.balance_high_pct, ac.balance_clear_margin_pct

    def outside_band(v: float) -> bool:
        return v < lo or v > hi

    def inside_band(v: float) -> bool:
        return lo + m <= v <= hi - m

    def band_text(r: pd.Series) -> str:
        return f"GCT balance {r['value']:.1f} % left, outside the {lo:g}–{hi:g} % band"

    rules = [
        Rule(
            "acwr_spike",
            "day",
            "warning",
            ac.acwr_max,
            lambda v: v > ac.acwr_max,
            lambda v: v <= ac.acwr_clear,
            lambda r: (
                f"load spike: ACWR {r['value']:.2f} ({ac.acwr_field}) above "
                f"{ac.acwr_max:g}: 7-day load is {r['value'] * 100:.0f} % of the "
                f"28-day average"
            ),
        ),
        Rule(
            "load_increase",
            "day",
            "warning",
            ac.week_increase_max_pct,
            lambda v: v > ac.week_increase_max_pct,
            lambda v: v <= ac.week_increase_clear_pct,
            lambda r: (
                f"load spike: 7-day load {r['week']:.0f} AU, up {r['value']:.0f} % on "
                f"the previous 7 days ({r['prev']:.0f} AU)"
            ),
        ),
        Rule(
            "monotony",
            "day",
            "info",
            ac.monotony_max,
            lambda v: v > ac.monotony_max,
            lambda v: v <= ac.monotony_clear,
            lambda r: (
                f"monotonous week: monotony {r['value']:.2f} above {ac.monotony_max:g} "
                f"(little day-to-day variation, Foster 1998)"
            ),
        ),
        Rule(
            "gct_asymmetry_baseline",
            "session",
            "warning",
            ac.si_z_max,
            lambda v: abs(v) >= ac.si_z_max,
            lambda v: abs(v) < ac.si_z_clear,
            lambda r: (
                f"GCT asymmetry changed: session SI {r['si']:+.1f} % is {r['value']:+.1f} "
                f"SD from the athlete's baseline ({r['mean']:+.1f} ± {r['sd']:.1f} % "
                f"over {r['n']:.0f} sessions)"
            ),
        ),
        Rule("gct_balance_band", "session", "info", hi, outside_band, inside_band, band_text),
        Rule(
            "pain",
            "session",
            "critical",
            ac.pain_min,
            lambda v: v >= ac.pain_min,
            lambda v: v < ac.pain_min,
            lambda r: (
                f"pain {r['value']:g}/10 reported after a session (threshold {ac.pain_min:g})"
            ),
        ),
        Rule(
            "live_gct_balance",
            "live",
            "info",
            hi,
            outside_band,
            inside_band,
            lambda r: "live: " + band_text(r),
        ),
    ]
    return {r.name: r for r in rules}


# -- day rules ------------------------------------------------------------------------
def day_observations(days: pd.DataFrame, ac: AlertConfig) -> dict[str, pd.DataFrame]:
    """Observations of the day rules from the daily load table.

    ``days``: UTC DatetimeIndex (the day's local midnight), columns of the ``load``
    measurement (``daily_load``, ``acwr_*``, ``monotony``...). Days where a value is
    undefined (ACWR warming up, monotony of a constant week) give no observation.
    """
    if days.empty:
        return {name: _empty() for name in DAY_RULES}
    ref = pd.Series(days.index.strftime("%Y-%m-%d"), index=days.index)
    out = {
        "acwr_spike": _obs(days.get(ac.acwr_field), ref),
        "monotony": _obs(days.get("monotony"), ref),
    }
    load = days["daily_load"].fillna(0.0)
    week = load.rolling(7, min_periods=7).sum()
    prev = week.shift(7)
    pct = (week - prev) / prev * 100.0
    pct[~(prev >= ac.week_min_load)] = np.nan
    if "acwr_status" in days:  # no "load spike" while the history is warming up or rebuilding:
        # a return after a break (or a staged return-to-run plan) grows week on week by design
        pct[(days["acwr_status"] != "ok").to_numpy()] = np.nan
    out["load_increase"] = _obs(pct, ref, week=week, prev=prev)
    return out


# -- session rules --------------------------------------------------------------------
def session_observations(sessions: pd.DataFrame, ac: AlertConfig) -> dict[str, pd.DataFrame]:
    """Observations of the session rules.

    ``sessions``: UTC DatetimeIndex (session start), columns ``id``, ``gct_si_pct``,
    ``gct_balance_left_pct`` and ``pain`` (NaN when absent).

    Asymmetry vs baseline: z = (SI − mean) / max(SD, floor) over the athlete's previous
    ``si_baseline_sessions`` sessions with an SI (at least ``si_baseline_min``). Population
    cut-offs for SI are arbitrary; the athlete's own baseline is the primary reference
    (DESIGN.md, science notes), with the absolute balance band as a secondary rule.
    """
    if sessions.empty:
        return {name: _empty() for name in SESSION_RULES}
    ref = sessions["id"].astype(str)
    si = sessions.get("gct_si_pct", pd.Series(np.nan, index=sessions.index)).dropna()
    past = si.shift(1).rolling(ac.si_baseline_sessions, min_periods=ac.si_baseline_min)
    mean, sd = past.mean(), past.std(ddof=1)
    n = si.shift(1).rolling(ac.si_baseline_sessions, min_periods=1).count()
    z = (si - mean) / np.maximum(sd.fillna(0.0), ac.si_sd_floor_pct)
    return {
        "gct_asymmetry_baseline": _obs(z, ref.loc[si.index], si=si, mean=mean, sd=sd, n=n),
        "gct_balance_band": _obs(sessions.get("gct_balance_left_pct"), ref),
        "pain": _obs(sessions.get("pain"), ref),
    }


# -- live -----------------------------------------------------------------------------
def live_balance(window: pd.DataFrame) -> float:
    """GCT balance (% left) of a live window: the mean of ``gct_balance_left_pct`` samples,
    or from per-step ``gct_ms`` with a ``side`` column (L/R): L/(L+R) × 100."""
    if "gct_balance_left_pct" in window:
        b = window["gct_balance_left_pct"]
        b = b[(b > 0) & (b < 100)]
        return float(b.mean()) if len(b) else float("nan")
    if {"side", "gct_ms"} <= set(window.columns):
        by_side = window[window["gct_ms"] > 0].groupby("side")["gct_ms"].mean()
        if {"L", "R"} <= set(by_side.index):
            return float(by_side["L"] / (by_side["L"] + by_side["R"]) * 100.0)
    return float("nan")


# -- helpers --------------------------------------------------------------------------
def _obs(values: pd.Series | None, ref: pd.Series, **context: pd.Series) -> pd.DataFrame:
    if values is None:
        return _empty()
    df = pd.DataFrame({"value": pd.to_numeric(values, errors="coerce"), "ref": ref, **context})
    return df[np.isfinite(df["value"].to_numpy(dtype=float))]


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {"value": pd.Series(dtype=float), "ref": pd.Series(dtype=str)},
        index=pd.DatetimeIndex([], tz="UTC"),
    )
