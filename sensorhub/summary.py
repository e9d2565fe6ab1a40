"""Session summaries: one dict of SI-named numbers per session (the ``session`` measurement).

Every source kind builds its summary from the same two functions, so a FIT file, an IMU
recording and a live session of the same run carry the same fields (docs/schema.md):

* :func:`run_summary` — from a per-record ``run`` frame (UTC index; ``speed_mps``,
  ``hr_bpm``, ``cadence_spm``…) and the device's own totals when it has them;
* :func:`gait_summary` — from a per-step table of the gait engine (``gct_ms``, ``side``…).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .gait import asymmetry, summarise
from .normalise import _arrays as run_arrays
from .normalise import asymmetry as run_asymmetry
from .plans.segments import SIGNALS, run_walk_segments
from .values import finite_number

# Running-dynamics columns averaged over moving samples (value > 0) for the session summary.
DYNAMICS = [
    "cadence_spm",
    "gct_ms",
    "gct_pct",
    "vo_mm",
    "vertical_ratio_pct",
    "step_length_mm",
    "power_w",
    "form_power_w",
    "lss_kn_m",
]
RUN_WALK_FIELDS = ("run_time_s", "walk_time_s", "run_intervals", "longest_run_s")
# Step metrics (medians) and left/right asymmetry from the gait engine's per-step table.
GAIT_FIELDS = (
    "n_steps",
    "n_partial_contacts",
    "cadence_spm",
    "gct_ms",
    "flight_ms",
    "step_time_ms",
    "duty_factor",
    "gct_ms_left",
    "gct_ms_right",
    "gct_si_pct",
    "gct_sa_pct",
    "gct_balance_left_pct",
    "flight_si_pct",
    "step_time_si_pct",
)


def run_summary(
    run: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    totals: Mapping[str, Any] | None = None,
    running: bool = True,
) -> dict[str, Any]:
    """Durations (s), distance (m), HR (bpm), speed (m/s) and running dynamics of a session.

    ``totals`` are the device's own session totals (FIT ``session`` message field names:
    ``total_timer_time``, ``total_elapsed_time``, ``total_distance``, ``enhanced_avg_speed``),
    which know about pauses; without them durations come from ``start``/``end`` and distance
    from the records. Running dynamics and asymmetry are given for running sports only.
    """
    fit = dict(totals or {})
    span = (end - start).total_seconds() if pd.notna(end) else 0.0
    cols = _columns(run, ("hr_bpm", "speed_mps", "distance_m", *DYNAMICS))
    distance = _first(fit.get("total_distance"))
    if distance is None and "distance_m" in cols:  # the records' own, only when needed
        distance = _first(_last(cols["distance_m"]))
    out: dict[str, Any] = {
        "duration_s": _first(fit.get("total_timer_time"), fit.get("total_elapsed_time"), span),
        "elapsed_s": _first(fit.get("total_elapsed_time"), span),
        "distance_m": distance,
        "records": int(len(run)),
    }
    if "hr_bpm" in cols:
        hr = _positive(cols["hr_bpm"])
        if len(hr):
            out["hr_avg_bpm"] = float(hr.mean())
            out["hr_max_bpm"] = float(hr.max())
    if "speed_mps" in cols:
        out["speed_avg_mps"] = _first(
            fit.get("enhanced_avg_speed"), fit.get("avg_speed"), _nanmean(cols["speed_mps"])
        )
    if running:
        for col in DYNAMICS:
            if col in cols:
                v = _positive(cols[col])
                if len(v):
                    out[col] = float(v.mean())
        out.update(run_asymmetry(run))
        out.update(run_walk(run, cols))
    return finite(out)


def run_walk(
    run: pd.DataFrame, columns: Mapping[str, np.ndarray | pd.Series] | None = None
) -> dict[str, float]:
    """Running vs walking time of a session (:func:`sensorhub.plans.run_walk_segments`):
    ``run_time_s``, ``walk_time_s``, ``run_intervals``, ``longest_run_s``; empty without
    speed or cadence. Return-to-run gates check prescriptions against these. ``columns``:
    ``run``'s columns as :func:`_columns` read them (at least speed and cadence), so they
    are not read again."""
    if columns is None:
        columns = _columns(run, SIGNALS)
    signals = {c: columns[c] for c in SIGNALS if c in columns}
    if not len(run) or not signals:
        return {}
    try:
        seg = run_walk_segments(run, columns=signals)
    except ValueError:
        return {}
    return {k: float(seg[k]) for k in RUN_WALK_FIELDS if k in seg}


def gait_summary(steps: pd.DataFrame) -> dict[str, float]:
    """Step count, medians of the step metrics and GCT/flight/step-time asymmetry (the
    fields of :data:`GAIT_FIELDS` that are defined) of a per-step table (sensorhub.gait)."""
    if steps.empty:
        return {}
    if "duty_factor" not in steps and {"gct_ms", "step_time_ms"} <= set(steps.columns):
        # a live step stream has no stride times: a stride is two steps (Minetti 1998)
        steps = steps.assign(duty_factor=steps["gct_ms"] / (2.0 * steps["step_time_ms"]))
    values = {**summarise(steps), **asymmetry(steps)}
    return finite({k: values[k] for k in GAIT_FIELDS if k in values})


def finite(d: Mapping[str, Any]) -> dict[str, Any]:
    """``d`` without missing values (None, NaN): a summary only holds what was measured."""
    return {
        k: v for k, v in d.items() if v is not None and not (isinstance(v, float) and np.isnan(v))
    }


def _first(*values: Any) -> float | None:
    """The first value that is a finite number (FIT fields can be missing or arrays)."""
    for v in values:
        if finite_number(v):
            return float(v)
    return None


def _last(v: np.ndarray | pd.Series) -> float | None:
    """The last non-missing value of a column (None without one)."""
    if isinstance(v, pd.Series):
        v = v.dropna()
        return float(v.iloc[-1]) if len(v) else None
    have = np.flatnonzero(~np.isnan(v))
    return float(v[have[-1]]) if len(have) else None


def _columns(run: pd.DataFrame, names: tuple[str, ...]) -> dict[str, np.ndarray | pd.Series]:
    """``names`` that ``run`` has: float64 columns as numpy arrays (pandas' ``Series`` ops
    cost ~50x numpy's on one session, and give the same numbers: without bottleneck pandas'
    mean is numpy's sum / count), other columns as the Series (pandas' own rules). The
    arrays are read without making a Series of each (``run[c]`` costs ~15x the read)."""
    have = run_arrays(run)
    out: dict[str, np.ndarray | pd.Series] = {}
    for c in dict.fromkeys(names):
        if c in have:
            a = have[c]
            out[c] = a if isinstance(a, np.ndarray) and a.dtype == np.float64 else run[c]
    return out


def _positive(v: np.ndarray | pd.Series) -> np.ndarray | pd.Series:
    """The values above 0 (NaN is not)."""
    return v[v > 0]


def _nanmean(v: np.ndarray | pd.Series) -> float:
    """pandas' ``Series.mean()``: NaN left out (summed as 0, not counted); NaN when all are."""
    if isinstance(v, pd.Series):
        return v.mean()
    missing = np.isnan(v)
    count = len(v) - int(missing.sum())
    if count == 0:
        return float("nan")
    return float(np.where(missing, 0.0, v).sum() / count)
