"""Helpers shared by the gait tests: load the synthetic generator, match contacts."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def load_generator():
    spec = importlib.util.spec_from_file_location(
        "imu_generate", ROOT / "fixtures" / "imu" / "generate.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def match(det: pd.DataFrame, ref: pd.DataFrame, tol_s: float = 0.06) -> list[tuple[int, int]]:
    """Greedy one-to-one matching of detected to reference ICs within ``tol_s``.

    Detections without an IC (partial contacts cut at the start) never match.
    """
    pairs, used = [], set()
    d_ic = det["ic_s"].to_numpy(float)
    d_ic = np.where(np.isfinite(d_ic), d_ic, np.inf)
    for i, ic in enumerate(ref["ic_s"].to_numpy(float)):
        if d_ic.size == 0:
            break
        j = int(np.argmin(np.abs(d_ic - ic)))
        if abs(d_ic[j] - ic) <= tol_s and j not in used:
            used.add(j)
            pairs.append((i, j))
    return pairs
