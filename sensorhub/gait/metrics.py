"""Step and stride metrics from a contacts table; window summaries and session drift.

Definitions (Cavanagh & Kram 1989; Minetti 1998 for duty factor):

* step time = IC(k+1) − IC(k) for alternating steps (ms); stride time = two steps;
* flight time = IC(k+1) − TO(k) = step time − GCT (ms);
* duty factor = GCT / stride time (dimensionless, < 0.5 in running with flight);
* cadence = 60 000 / step time (steps per minute).

With one pod on one leg (shank, foot) contacts are one per stride: step time is taken as
stride / 2, which assumes symmetric steps (stated in the result warnings).

Partial contacts (cut by a recording's edge, ``partial`` True, GCT NaN) count as steps and
give their neighbour its step time; metrics that need the missing event are NaN and the
medians skip them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .base import event_time

METRICS = ("gct_ms", "flight_ms", "step_time_ms", "cadence_spm", "duty_factor")


def step_metrics(
    contacts: pd.DataFrame, contacts_per_stride: int = 2, max_gap_ratio: float = 1.6
) -> pd.DataFrame:
    """Add ``step_time_ms``, ``stride_time_ms``, ``flight_ms``, ``cadence_spm``,
    ``duty_factor`` per contact. Intervals spanning a missed step or a gap (longer than
    ``max_gap_ratio`` × the median) are NaN."""
    order = np.argsort(event_time(contacts).to_numpy(), kind="stable")
    df = contacts.iloc[order].reset_index(drop=True)
    ic = df["ic_s"].to_numpy(float)
    nxt = np.full(ic.size, np.nan)
    nxt[:-1] = np.diff(ic)
    if np.isfinite(nxt).any():
        nxt[nxt > max_gap_ratio * np.nanmedian(nxt)] = np.nan
    if contacts_per_stride == 2:
        step = nxt
        stride = step + np.append(step[1:], np.nan)[: step.size]
        flight = np.append(ic[1:], np.nan)[: ic.size] - df["to_s"].to_numpy(float)
        flight = np.where(np.isfinite(step), flight, np.nan)
    else:
        stride = nxt
        step = stride / 2.0
        flight = step - df["gct_ms"].to_numpy(float) / 1000.0
    df["step_time_ms"] = 1000.0 * step
    df["stride_time_ms"] = 1000.0 * stride
    df["flight_ms"] = 1000.0 * flight
    df["cadence_spm"] = 60.0 / step
    df["duty_factor"] = df["gct_ms"] / df["stride_time_ms"]
    return df


def summarise(steps: pd.DataFrame) -> dict[str, float]:
    """Median of each metric (robust to a few wrong steps), the step count (partial contacts
    included) and ``n_partial_contacts``."""
    out: dict[str, float] = {"n_steps": int(len(steps))}
    out["n_partial_contacts"] = int(steps["partial"].sum()) if "partial" in steps else 0
    for m in METRICS:
        vals = steps[m].to_numpy(float) if m in steps else np.array([])
        out[m] = float(np.nanmedian(vals)) if np.isfinite(vals).any() else float("nan")
    return out


def window_summary(steps: pd.DataFrame, window_s: float = 10.0) -> pd.DataFrame:
    """Per-window medians (windows of ``window_s`` seconds from the first contact; a partial
    contact without IC falls in the window of its TO)."""
    if steps.empty:
        return pd.DataFrame(columns=["t_start_s", "n_steps", *METRICS])
    t = event_time(steps)
    t0 = float(t.min())
    win = ((t - t0) // window_s).astype(int)
    grp = steps.groupby(win)
    out = grp[[m for m in METRICS if m in steps]].median()
    out.insert(0, "n_steps", grp.size())
    out.insert(0, "t_start_s", t0 + out.index.to_numpy() * window_s)
    return out.reset_index(drop=True)


def drift(steps: pd.DataFrame, span_s: float = 600.0) -> dict[str, float]:
    """Change of each metric from the first to the last ``span_s`` of the session.

    For sessions shorter than 2 × ``span_s`` the halves are compared. Returns
    ``{metric}_first``, ``{metric}_last`` and ``{metric}_change_pct`` (last vs first).
    """
    if len(steps) < 4:
        return {}
    t = event_time(steps)
    t0, t1 = float(t.min()), float(t.max())
    span = min(span_s, (t1 - t0) / 2.0)
    first = summarise(steps[t <= t0 + span])
    last = summarise(steps[t >= t1 - span])
    out: dict[str, float] = {"span_s": span}
    for m in METRICS:
        a, b = first[m], last[m]
        out[f"{m}_first"], out[f"{m}_last"] = a, b
        out[f"{m}_change_pct"] = 100.0 * (b - a) / a if a else float("nan")
    return out
