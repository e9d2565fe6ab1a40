"""One load method for an athlete's whole history, with estimated and missing sessions flagged.

TRIMP (AU), sRPE (AU) and minutes are different scales: an sRPE is typically 4–7 × the
session's minutes, a TRIMP 1–3 ×. Picking the method session by session
(:func:`sensorhub.load.session.session_load`) lets one logged RPE turn a 52-minute session
into 312 AU inside a series of minutes, and the ACWR then compares the two. Here the
method is chosen once for the athlete's sessions, and every session is either measured in
it, estimated in it from its duration, or flagged as missing.

Rules (the defaults are module constants):

- **Measured**: the session's value for the method is a finite number ≥ 0.
- **The history has a method** when every session has it measured, or at least
  ``MIN_SHARE`` (half) of the sessions do *and* at least ``MIN_PAIRS`` (5) sessions have
  both the method and a duration > 0, so that the others can be estimated. Duration
  cannot be estimated from itself, so the history has duration only when every session
  has one.
- **Choice**: the configured ``primary`` when the history has it, else the first that it
  has in the order trimp → srpe → duration; when it has none, the method measured for the
  most sessions (ties in that same order).
- **Estimated**: a session without the method but with a duration gets
  ``duration_min × r``, r = the median of load/minute over the athlete's sessions that
  have both (for sRPE, r is the athlete's median RPE), when at least ``MIN_PAIRS`` such
  sessions exist. The median keeps one odd session from setting every estimate.
- **Missing**: otherwise (no duration, too few pairs, or the method is duration itself):
  load NaN, i.e. not counted — :func:`sensorhub.load.daily.daily_series` adds nothing for
  it, so that day reads lighter than it was. It is flagged and counted in the note rather
  than given an invented value on another scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sensorhub.load.session import LOAD_METHODS

#: A history has a method when at least this share of its sessions has it measured
#: (and the rest can be estimated, see ``MIN_PAIRS``).
MIN_SHARE = 0.5
#: Fewest sessions with both the method and a duration for estimating the others.
MIN_PAIRS = 5
#: Values of :attr:`SeriesLoads.status`.
SESSION_STATUSES = ("measured", "estimated", "missing")

_COLUMN = {"trimp": "trimp", "srpe": "srpe", "duration": "duration_min"}
_NAME = {"trimp": "TRIMP", "srpe": "sRPE", "duration": "duration"}


@dataclass(frozen=True)
class SeriesLoads:
    """Session loads of one athlete in one method.

    ``loads`` (AU of ``method``; NaN where missing) and ``status`` ("measured" |
    "estimated" | "missing") are on the index of the sessions; ``per_minute`` is the
    load/minute ratio used for estimates (None when none could be made); ``note`` says
    it in one sentence.
    """

    loads: pd.Series
    method: str
    status: pd.Series
    note: str
    per_minute: float | None = None


def _column(sessions: pd.DataFrame, method: str) -> pd.Series:
    col = _COLUMN[method]
    if col not in sessions:
        return pd.Series(np.nan, index=sessions.index, dtype=float)
    return pd.to_numeric(sessions[col], errors="coerce").astype(float)


def _measured(values: pd.Series) -> pd.Series:
    return values.notna() & np.isfinite(values) & (values >= 0)


def _pairs(sessions: pd.DataFrame, method: str) -> pd.Series:
    """Sessions with both ``method`` measured and a duration > 0 (empty for duration)."""
    duration = _column(sessions, "duration")
    both = _measured(_column(sessions, method)) & _measured(duration) & (duration > 0)
    return both & (method != "duration")


def has_method(
    sessions: pd.DataFrame, method: str, min_share: float = MIN_SHARE, min_pairs: int = MIN_PAIRS
) -> bool:
    """Whether the athlete's history *has* ``method`` (see the module docstring)."""
    measured = _measured(_column(sessions, method))
    if len(sessions) == 0 or measured.all():
        return len(sessions) > 0
    return bool(measured.mean() >= min_share and _pairs(sessions, method).sum() >= min_pairs)


def choose_method(
    sessions: pd.DataFrame, primary: str, min_share: float = MIN_SHARE, min_pairs: int = MIN_PAIRS
) -> str:
    """The one method for the athlete's series: ``primary`` if the history has it, else
    the first it has in trimp → srpe → duration, else the most often measured."""
    if primary not in LOAD_METHODS:
        raise ValueError(f"primary must be one of {LOAD_METHODS}, got {primary!r}")
    order = list(dict.fromkeys((primary, *LOAD_METHODS)))
    for method in order:
        if has_method(sessions, method, min_share, min_pairs):
            return method
    counts = [int(_measured(_column(sessions, m)).sum()) for m in order]
    return order[int(np.argmax(counts))] if len(sessions) else primary


def series_loads(
    sessions: pd.DataFrame,
    primary: str = "trimp",
    *,
    min_share: float = MIN_SHARE,
    min_pairs: int = MIN_PAIRS,
) -> SeriesLoads:
    """Per-session loads (AU) of an athlete's sessions, all in one method.

    ``sessions``: one row per session with columns ``trimp`` (Banister TRIMP, AU),
    ``srpe`` (Foster 2001, AU) and ``duration_min`` (minutes), any of which may be NaN/None
    or absent. ``primary``: the configured method ("trimp" | "srpe" | "duration"). Choice,
    estimation and missing sessions as in the module docstring.
    """
    method = choose_method(sessions, primary, min_share, min_pairs)
    values = _column(sessions, method)
    measured = _measured(values)
    loads = values.where(measured)
    status = pd.Series(
        np.where(measured, "measured", "missing"), index=sessions.index, dtype=object
    )
    pairs = _pairs(sessions, method)
    per_minute = None
    if pairs.sum() >= min_pairs and not measured.all():
        duration = _column(sessions, "duration")
        per_minute = float((values[pairs] / duration[pairs]).median())
        fill = ~measured & _measured(duration)
        loads[fill] = duration[fill] * per_minute
        status[fill] = "estimated"
    note = _note(method, primary, status, per_minute, int(pairs.sum()), sessions)
    return SeriesLoads(loads.rename("load"), method, status.rename("load_status"), note, per_minute)


def _note(
    method: str,
    primary: str,
    status: pd.Series,
    per_minute: float | None,
    n_pairs: int,
    sessions: pd.DataFrame,
) -> str:
    n = len(status)
    if n == 0:
        return "no sessions."
    counts = status.value_counts()
    parts = [f"{_NAME[method]} for {counts.get('measured', 0)} of {n} sessions"]
    if counts.get("estimated", 0):
        parts.append(
            f"{counts['estimated']} estimated from duration "
            f"({per_minute:.3g} AU/min, median of {n_pairs} sessions)"
        )
    if counts.get("missing", 0):
        parts.append(f"{counts['missing']} without a load (not counted)")
    if method != primary:
        k = int(_measured(_column(sessions, primary)).sum())
        parts.append(f"configured {_NAME[primary]} available for only {k} of {n}")
    return "; ".join(parts) + "."
