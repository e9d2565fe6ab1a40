"""Limb symmetry index (LSI), the usual return-to-run criterion (pass mark ≥ 90 %).

LSI = involved / uninvolved × 100 for metrics where more is better (hop height, RSI, heel-raise
reps). For metrics where less is better (sway RMS, jerk…) the ratio is inverted,
uninvolved / involved × 100, so that in every case LSI < 100 % means the involved leg did worse.
Without a named involved leg the LSI is the smaller / larger × 100 (≤ 100 %, orientation-free):
it says how symmetric the legs are, not which one is behind.
"""

from __future__ import annotations

import math

LEGS = ("L", "R")


def limb_symmetry_index(
    left: float | None,
    right: float | None,
    involved: str | None = None,
    higher_is_better: bool = True,
) -> float | None:
    """LSI in percent (see the module docstring); None when a value is missing or zero."""
    vals = {"L": left, "R": right}
    if any(v is None or not math.isfinite(v) or v <= 0 for v in vals.values()):
        return None
    if involved is None:
        return 100.0 * min(left, right) / max(left, right)
    inv, uninv = vals[involved], vals["R" if involved == "L" else "L"]
    return 100.0 * (inv / uninv if higher_is_better else uninv / inv)
