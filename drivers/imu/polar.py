"""Polar Sensor Logger (Android app) text export: ACC and GYRO files.

Assumed format (documented here because no public specification was found):

* one file per stream, ``;``-separated, a header line then one sample per line::

      Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]          (ACC)
      Phone timestamp;sensor timestamp [ns];X [dps];Y [dps];Z [dps]       (GYRO)

* ``Phone timestamp``: the phone's local wall clock, ISO-8601 without zone
  (e.g. ``2023-05-01T10:11:12.123``); ``tz`` tells its zone (default UTC);
* ``sensor timestamp [ns]``: the sensor clock in ns since 2000-01-01T00:00:00 UTC (the
  Polar BLE SDK epoch). It gives sample times; the absolute start is taken from it when it
  falls in a plausible year range, otherwise from the phone timestamp.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

POLAR_EPOCH = pd.Timestamp("2000-01-01", tz="UTC")
_UNITS = {
    "mg": ("acc", "g", 1e-3),
    "g": ("acc", "g", 1.0),
    "dps": ("gyr", "dps", 1.0),
    "deg/s": ("gyr", "dps", 1.0),
}


@dataclass
class ImuRecording:
    """A decoded IMU stream: ``frame`` (t_s + sensor axes) and its UTC start time."""

    frame: pd.DataFrame
    start_utc: pd.Timestamp


def _axis_columns(cols: list[str]) -> dict[str, tuple[str, float]]:
    out = {}
    for c in cols:
        name = c.strip()
        if "[" not in name or name.split("[")[0].strip().upper() not in ("X", "Y", "Z"):
            continue
        axis = name.split("[")[0].strip().lower()
        unit = name.split("[")[1].rstrip("]").strip().lower()
        if unit not in _UNITS:
            raise ValueError(f"unknown unit {unit!r} in column {c!r}")
        kind, out_unit, scale = _UNITS[unit]
        out[c] = (f"{kind}_{axis}_{out_unit}", scale)
    return out


def read_polar_logger(path: str | Path, tz: str = "UTC") -> ImuRecording:
    """Read one Polar Sensor Logger ACC or GYRO text file."""
    raw = pd.read_csv(path, sep=";", skipinitialspace=True)
    raw.columns = [c.strip() for c in raw.columns]
    ns_col = next((c for c in raw.columns if c.lower().startswith("sensor timestamp")), None)
    if ns_col is None:
        raise ValueError(f"{path}: no 'sensor timestamp [ns]' column")
    axes = _axis_columns(list(raw.columns))
    if not axes:
        raise ValueError(f"{path}: no X/Y/Z columns with units")
    raw = raw.dropna(subset=[ns_col]).sort_values(ns_col, kind="stable")
    ns = raw[ns_col].to_numpy(dtype=np.int64)
    frame = pd.DataFrame({"t_s": (ns - ns[0]) / 1e9})
    for col, (name, scale) in axes.items():
        frame[name] = pd.to_numeric(raw[col], errors="coerce").to_numpy(float) * scale
    start = POLAR_EPOCH + pd.Timedelta(int(ns[0]), "ns")
    if not 2015 <= start.year <= 2100 and "Phone timestamp" in raw.columns:
        start = pd.Timestamp(raw["Phone timestamp"].iloc[0]).tz_localize(tz).tz_convert("UTC")
    frame.attrs["start_utc"] = start
    return ImuRecording(frame, start)


def read_polar_pair(
    acc_path: str | Path, gyro_path: str | Path | None = None, tz: str = "UTC"
) -> ImuRecording:
    """ACC file plus optional GYRO file, gyro interpolated onto the ACC time base."""
    acc = read_polar_logger(acc_path, tz)
    if gyro_path is None:
        return acc
    gyr = read_polar_logger(gyro_path, tz)
    offset = (gyr.start_utc - acc.start_utc).total_seconds()
    frame = acc.frame.copy()
    tg = gyr.frame["t_s"].to_numpy() + offset
    for c in gyr.frame.columns:
        if c.startswith("gyr_"):
            frame[c] = np.interp(frame["t_s"], tg, gyr.frame[c], left=np.nan, right=np.nan)
    frame.attrs["start_utc"] = acc.start_utc
    return ImuRecording(frame, acc.start_utc)
