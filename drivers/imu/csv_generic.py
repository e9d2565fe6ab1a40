"""Generic IMU CSV with a column mapping.

``mapping`` maps output names to source columns, e.g.
``{"t": "time", "acc_x_g": "ax", "acc_y_g": "ay", "acc_z_g": "az"}``. The time column
(key ``"t"``) is numeric seconds (``time_unit`` 's', 'ms', 'us', 'ns') or date-time text.
``scale`` multiplies data columns (e.g. ``{"acc_x_g": 1/9.80665}`` for m/s² input).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .polar import ImuRecording

_TIME_DIV = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}


def read_imu_csv(
    path: str | Path,
    mapping: dict[str, str],
    *,
    sep: str = ",",
    time_unit: str = "s",
    start_utc: str | pd.Timestamp | None = None,
    scale: dict[str, float] | None = None,
) -> ImuRecording:
    """Read a CSV into ``t_s`` + sensor-axis columns (see module doc)."""
    if "t" not in mapping:
        raise ValueError("mapping needs a 't' entry for the time column")
    raw = pd.read_csv(path, sep=sep)
    missing = [c for c in mapping.values() if c not in raw.columns]
    if missing:
        raise ValueError(f"{path}: columns {missing} not found (have {list(raw.columns)})")
    tcol = raw[mapping["t"]]
    if pd.api.types.is_numeric_dtype(tcol):
        t = tcol.to_numpy(float) / _TIME_DIV[time_unit]
        start = pd.Timestamp(start_utc) if start_utc is not None else pd.NaT
    else:
        ts = pd.to_datetime(tcol, utc=True)
        t = (ts - ts.iloc[0]).dt.total_seconds().to_numpy()
        start = ts.iloc[0]
    if isinstance(start, pd.Timestamp) and start.tzinfo is None:
        start = start.tz_localize("UTC")
    frame = pd.DataFrame({"t_s": t - t[0]})
    for out, src in mapping.items():
        if out != "t":
            frame[out] = pd.to_numeric(raw[src], errors="coerce").to_numpy(float) * (
                (scale or {}).get(out, 1.0)
            )
    frame = frame[np.isfinite(frame["t_s"])].sort_values("t_s", ignore_index=True)
    frame.attrs["start_utc"] = start
    return ImuRecording(frame, start)
