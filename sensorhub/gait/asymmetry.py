"""Left/right asymmetry of gait metrics. Positive SI / SA and B > 50 % mean left is larger.

* symmetry index SI = (L − R) / (0.5 (L + R)) × 100 %, after Robinson, Herzog & Nigg (1987),
  *J Manipulative Physiol Ther* 10:172-176, who define it as (R − L) / (0.5 (R + L)) × 100;
  we use (L − R) so that every index here is positive when the left value is larger;
* symmetry angle SA = (arctan(L/R) − 45°) / 90° × 100 %, after Zifchock, Davis, Higginson &
  Royer (2008), *Gait Posture* 27:622-627, who write (45° − arctan(X_L/X_R)) / 90° × 100 %
  (positive when right is larger); ours is its negative, with the same sign as SI. It does
  not depend on a reference value and stays within ±100 %;
* balance B = L / (L + R) × 100 % (as reported by Garmin/Stryd for GCT); SI = 4 (B − 50).

Worked example (GCT L 255 ms, R 245 ms): SI = +4.0 %, SA = +1.2731 %, B = 51.0 %.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def symmetry_index(left: float, right: float) -> float:
    """SI = (L − R) / (0.5 (L + R)) × 100, in percent; positive when left is larger.

    Robinson et al. (1987) define SI with (R − L); this is its negative (our L/R sign).
    NaN when L + R = 0.
    """
    den = 0.5 * (left + right)
    return float(100.0 * (left - right) / den) if den else float("nan")


def symmetry_angle(left: float, right: float) -> float:
    """SA = (arctan(L/R) − 45°) / 90° × 100, in percent; positive when left is larger.

    Zifchock et al. (2008) write (45° − arctan(X_L/X_R)) / 90° × 100 (positive when right is
    larger); we negate it to share SI's sign. Their correction for a ratio below −1 (angle
    beyond ±90°, only possible with values of opposite sign) is kept. NaN when R = 0.
    """
    if right == 0:
        return float("nan")
    sa = np.degrees(np.arctan(left / right)) - 45.0
    if sa < -90.0:
        sa += 180.0
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
