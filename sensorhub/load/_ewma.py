"""Recursive exponential average shared by EWMA-ACWR and the PMC."""

from __future__ import annotations

import numpy as np


def ewma(values: np.ndarray, alpha: float, seed: float = 0.0) -> np.ndarray:
    """``y_t = y_{t-1} + alpha · (x_t − y_{t-1})`` with ``y_{-1} = seed``.

    Equivalent to ``alpha · x_t + (1 − alpha) · y_{t-1}`` (Williams et al. 2017; Coggan's PMC).
    """
    out = np.empty(len(values), dtype=float)
    y = float(seed)
    for i, x in enumerate(np.asarray(values, dtype=float)):
        y += alpha * (x - y)
        out[i] = y
    return out
