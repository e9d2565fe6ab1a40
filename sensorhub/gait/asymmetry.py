"""Left/right asymmetry of gait metrics.

* symmetry index SI = (L − R) / (0.5 (L + R)) × 100 % (Robinson et al. 1987);
* symmetry angle SA = (45° − arctan(L/R)) / 90° × 100 % (Zifchock et al. 2008,
  *Gait Posture* 27:622-627), which does not depend on a reference side and stays bounded;
* balance B = L / (L + R) × 100 % (as reported by Garmin/Stryd for GCT); SI = 4 (B − 50).

Positive SI / SA and B > 50 % mean the left value is larger.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def symmetry_index(left: float, right: float) -> float:
    """SI in percent (Robinson et al. 1987)."""
    den = 0.5 * (left + right)
    return float(100.0 * (left - right) / den) if den else float("nan")


def symmetry_angle(left: float, right: float) -> float:
    """Symmetry angle in percent (Zifchock et al. 2008), with their correction beyond 90°."""
    if right == 0:
        return float("nan")
    sa = 45.0 - np.degrees(np.arctan(left / right))
    if sa > 90.0:
        sa -= 180.0
    return float(100.0 * sa / 90.0)


def balance(left: float, right: float) -> float:
    """Left share in percent: B = L / (L + R) × 100."""
    tot = left + right
    return float(100.0 * left / tot) if tot else float("nan")


def asymmetry(
    steps: pd.DataFrame, metrics: tuple[str, ...] = ("gct_ms", "flight_ms", "step_time_ms")
) -> dict[str, float]:
    """Per metric: ``{m}_left``, ``{m}_right`` (medians), ``{m}_si_pct``, ``{m}_sa_pct``,
    ``{m}_balance_left_pct``. Empty dict when either side has no steps.

    A step's flight and step time belong to the contact that starts it.
    """
    if "side" not in steps:
        return {}
    out: dict[str, float] = {}
    for m in metrics:
        if m not in steps:
            continue
        left = steps.loc[steps["side"] == "L", m].dropna()
        right = steps.loc[steps["side"] == "R", m].dropna()
        if left.empty or right.empty:
            continue
        lv, rv = float(left.median()), float(right.median())
        base = m.removesuffix("_ms")
        out[f"{m}_left"], out[f"{m}_right"] = lv, rv
        out[f"{base}_si_pct"] = symmetry_index(lv, rv)
        out[f"{base}_sa_pct"] = symmetry_angle(lv, rv)
        out[f"{base}_balance_left_pct"] = balance(lv, rv)
    return out
