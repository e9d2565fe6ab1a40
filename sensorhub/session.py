"""Session summaries: one dict of SI-named numbers per session (the `session` measurement)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .normalise import SessionFrame, asymmetry
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


def summarise(sf: SessionFrame) -> dict[str, Any]:
    """Summary of one session: durations (s), distance (m), HR (bpm), speed (m/s), dynamics.

    Durations and distance come from the FIT session message when present (the device's
    own totals, which know about pauses), else from the records. Running dynamics and
    asymmetry are given for running sports only.
    """
    run, fit = sf.run, sf.fit_summary
    span = (sf.end - sf.start).total_seconds() if pd.notna(sf.end) else 0.0
    out: dict[str, Any] = {
        "duration_s": _first(fit.get("total_timer_time"), fit.get("total_elapsed_time"), span),
        "elapsed_s": _first(fit.get("total_elapsed_time"), span),
        "distance_m": _first(fit.get("total_distance"), _last(run, "distance_m")),
        "records": int(len(run)),
        "duplicates_merged": int(sf.duplicates_merged),
    }
    if "hr_bpm" in run:
        hr = run["hr_bpm"][run["hr_bpm"] > 0]
        if len(hr):
            out["hr_avg_bpm"] = float(hr.mean())
            out["hr_max_bpm"] = float(hr.max())
    if "speed_mps" in run:
        out["speed_avg_mps"] = _first(
            fit.get("enhanced_avg_speed"), fit.get("avg_speed"), run["speed_mps"].mean()
        )
    if sf.is_running:
        for col in DYNAMICS:
            if col in run:
                v = run[col][run[col] > 0]
                if len(v):
                    out[col] = float(v.mean())
        out.update(asymmetry(run))
    return {
        k: v for k, v in out.items() if v is not None and not (isinstance(v, float) and np.isnan(v))
    }


def _first(*values: Any) -> float | None:
    """The first value that is a finite number (FIT fields can be missing or arrays)."""
    for v in values:
        if finite_number(v):
            return float(v)
    return None


def _last(run: pd.DataFrame, col: str) -> float | None:
    if col not in run:
        return None
    s = run[col].dropna()
    return float(s.iloc[-1]) if len(s) else None
