"""Recording → arrays: time, sampling rate, accelerations (g) and angular rates (deg/s).

Accepts the gait engine's frames: ``t_s`` plus sensor axes ``acc_x_g/acc_y_g/acc_z_g``
(optional ``gyr_x_dps``…) or body axes ``acc_v_g/acc_ap_g/acc_ml_g`` (optional ``gyr_*_dps``).
Units given in m/s² or mg are converted with the gait engine's rule (median |a|).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sensorhub.gait.errors import GaitError
from sensorhub.gait.signal import fix_units, sampling_rate, uniform

from .errors import ReadinessError

SENSOR_ACC = ("acc_x_g", "acc_y_g", "acc_z_g")
SENSOR_GYR = ("gyr_x_dps", "gyr_y_dps", "gyr_z_dps")
BODY_ACC = ("acc_ap_g", "acc_ml_g", "acc_v_g")
BODY_GYR = ("gyr_ap_dps", "gyr_ml_dps", "gyr_v_dps")


@dataclass
class Recording:
    """Uniformly sampled signals of one leg's trial.

    ``acc`` (n, k) in g, sensor or body axes (k = 2 or 3); ``gyr`` (n, 3) deg/s or None;
    ``body`` says whether the columns are already body axes (ap, ml, v order).
    """

    t: np.ndarray
    fs: float
    acc: np.ndarray
    gyr: np.ndarray | None
    body: bool
    warnings: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return float(self.t[-1] - self.t[0]) if self.t.size else 0.0


def _columns(frame: pd.DataFrame) -> tuple[list[str], list[str], bool]:
    if all(c in frame.columns for c in SENSOR_ACC):
        gyr = [c for c in SENSOR_GYR if c in frame.columns]
        return list(SENSOR_ACC), gyr if len(gyr) == 3 else [], False
    acc = [c for c in BODY_ACC if c in frame.columns]
    if "acc_v_g" not in acc:
        raise ReadinessError(
            "recording needs t_s plus acc_x_g/acc_y_g/acc_z_g (sensor axes) "
            "or acc_v_g/acc_ap_g/acc_ml_g (body axes)"
        )
    gyr = [c for c in BODY_GYR if c in frame.columns]
    return acc, gyr if len(gyr) == 3 else [], True


def recording(frame: pd.DataFrame | None, leg: str = "") -> Recording:
    """Validate and resample one recording (linear interpolation onto a uniform grid)."""
    name = f"{leg} recording" if leg else "recording"
    if frame is None or len(frame) == 0:
        raise ReadinessError(f"the {name} is missing or empty")
    if "t_s" not in frame.columns:
        raise ReadinessError(f"the {name} has no t_s column (time in seconds)")
    acc_cols, gyr_cols, body = _columns(frame)
    warnings: list[str] = []
    frame = fix_units(frame, warnings)
    try:
        fs = sampling_rate(frame["t_s"].to_numpy(float))
    except GaitError as exc:
        raise ReadinessError(f"the {name}: {exc}") from None
    cols = acc_cols + gyr_cols
    t, x = uniform(frame["t_s"].to_numpy(float), frame[cols].to_numpy(float), fs)
    if len(t) < 10:
        raise ReadinessError(f"the {name} is too short ({len(t)} samples)")
    k = len(acc_cols)
    gyr = x[:, k:] if gyr_cols else None
    return Recording(t=t, fs=fs, acc=x[:, :k], gyr=gyr, body=body, warnings=warnings)
