"""Recursive exponential average shared by EWMA-ACWR and the PMC."""

from __future__ import annotations

import numpy as np


def ewma(values: np.ndarray, alpha: float, seed: float | None = None) -> np.ndarray:
    """``y_t = y_{t-1} + alpha · (x_t − y_{t-1})``, i.e. ``alpha · x_t + (1 − alpha) · y_{t-1}``.

    ``seed`` is ``y_{-1}``, the value before the first day. ``None`` seeds with the first
    value itself, so ``y_0 = x_0``: pandas' ``ewm(alpha=..., adjust=False)``, used for
    EWMA-ACWR (the recursion is Williams et al. 2017's). ``seed=0.0`` starts
    from nothing, as the TrainingPeaks PMC does.
    """
    x = np.asarray(values, dtype=float)
    out = np.empty(len(x), dtype=float)
    if len(x) == 0:
        return out
    y = float(x[0] if seed is None else seed)
    for i, v in enumerate(x):
        y += alpha * (v - y)
        out[i] = y
    return out
