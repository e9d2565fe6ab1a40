"""Sensor axes → body axes, so a pod strapped at any angle works.

* vertical (``v``) = direction of the mean acceleration (gravity; the mean of running
  acceleration over whole strides is +1 g upward, as the body does not accelerate on average);
* antero-posterior (``ap``) = principal direction (largest variance, PCA) of the horizontal
  part of the acceleration: running moves the body fore-aft more than sideways.
  Its sign is chosen so that the largest excursion is negative (the braking / impact
  deceleration at contact is the sharpest AP feature at sacrum and shank);
* medio-lateral (``ml``) = ap × v, positive to the **right** (right-handed: ap, ml, v).

Gyroscope columns are rotated with the same matrix. Mean-removal and PCA follow the usual
"functional calibration" used for trunk-worn IMUs (e.g. Moe-Nilssen 1998, *Clin Biomech*).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import GaitError

SENSOR_AXES = ("x", "y", "z")


def body_rotation(acc: np.ndarray) -> np.ndarray:
    """3×3 matrix R whose rows are the body axes (ap, ml, v) in sensor coordinates."""
    acc = np.asarray(acc, float)
    acc = acc[np.all(np.isfinite(acc), axis=1)]
    if len(acc) < 10:
        raise GaitError("not enough finite acceleration samples to find gravity")
    g = acc.mean(axis=0)
    if np.linalg.norm(g) < 1e-6:
        raise GaitError("mean acceleration is zero: cannot find the vertical")
    v = g / np.linalg.norm(g)
    h = acc - np.outer(acc @ v, v)
    h = h - h.mean(axis=0)
    _, _, vt = np.linalg.svd(h, full_matrices=False)
    ap = vt[0] - (vt[0] @ v) * v
    ap /= np.linalg.norm(ap)
    proj = h @ ap
    if abs(proj.min()) < abs(proj.max()):
        ap = -ap
    ml = np.cross(ap, v)
    return np.vstack([ap, ml, v])


def to_body_axes(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``t_s`` plus ``acc_v_g``, ``acc_ap_g``, ``acc_ml_g`` (and ``gyr_*_dps``)
    from sensor columns ``acc_x_g``… (``gyr_x_dps``…). Frames already in body axes
    are returned unchanged."""
    acc_cols = [f"acc_{a}_g" for a in SENSOR_AXES]
    if not all(c in frame.columns for c in acc_cols):
        if "acc_v_g" in frame.columns or "gyr_ml_dps" in frame.columns:
            return frame
        raise GaitError("frame needs acc_x_g/acc_y_g/acc_z_g or body-axis columns")
    r = body_rotation(frame[acc_cols].to_numpy(float))
    out = pd.DataFrame({"t_s": frame["t_s"].to_numpy(float)}, index=frame.index)
    body = frame[acc_cols].to_numpy(float) @ r.T
    for j, name in enumerate(("ap", "ml", "v")):
        out[f"acc_{name}_g"] = body[:, j]
    gyr_cols = [f"gyr_{a}_dps" for a in SENSOR_AXES]
    if all(c in frame.columns for c in gyr_cols):
        gb = frame[gyr_cols].to_numpy(float) @ r.T
        for j, name in enumerate(("ap", "ml", "v")):
            out[f"gyr_{name}_dps"] = gb[:, j]
    return out
