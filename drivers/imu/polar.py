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

from pathlib import Path

import numpy as np
import pandas as pd

from . import table
from .recording import ImuFormatError, ImuRecording
from .timebase import order_rows

POLAR_EPOCH = pd.Timestamp("2000-01-01", tz="UTC")
_UNITS = {
    "mg": ("acc", "g", 1e-3),
    "g": ("acc", "g", 1.0),
    "dps": ("gyr", "dps", 1.0),
    "deg/s": ("gyr", "dps", 1.0),
}
_PHONE = "Phone timestamp"

__all__ = ["POLAR_EPOCH", "ImuRecording", "is_polar_header", "read_polar_logger", "read_polar_pair"]


def is_polar_header(columns: list[str]) -> bool:
    """True for a Polar Sensor Logger header (a ``sensor timestamp [ns]`` column)."""
    return any(c.lower().startswith("sensor timestamp") for c in columns)


def _axis_columns(cols: list[str]) -> dict[str, tuple[str, float]]:
    out = {}
    for c in cols:
        name = c.strip()
        if "[" not in name or name.split("[")[0].strip().upper() not in ("X", "Y", "Z"):
            continue
        axis = name.split("[")[0].strip().lower()
        unit = name.split("[")[1].rstrip("]").strip().lower()
        if unit not in _UNITS:
            raise ImuFormatError(f"unknown unit {unit!r} in column {c!r}")
        kind, out_unit, scale = _UNITS[unit]
        out[c] = (f"{kind}_{axis}_{out_unit}", scale)
    return out


def read_polar_logger(path: str | Path, tz: str = "UTC") -> ImuRecording:
    """Read one Polar Sensor Logger ACC or GYRO text file.

    ``start_utc`` is ``NaT`` when neither clock gives an absolute time. Rows are put in time
    order by the rules of :mod:`drivers.imu.timebase`; reading is bounded as in
    :mod:`drivers.imu.table`. Raises :class:`ImuFormatError`.
    """
    path = Path(path)
    table.check_file(path)
    header = table.read_header(path)
    ns_col = next((c for c in header.columns if c.lower().startswith("sensor timestamp")), None)
    if ns_col is None:
        raise ImuFormatError(f"{path.name}: no 'sensor timestamp [ns]' column")
    axes = _axis_columns(header.columns)
    if not axes:
        raise ImuFormatError(f"{path.name}: no X/Y/Z columns with units")
    kinds = {ns_col: "ns", **{c: "float" for c in axes}}
    if _PHONE in header.columns:
        kinds[_PHONE] = "time?"  # only a fallback clock: unreadable text is not fatal
    tab = table.read_columns(path, header, kinds)
    ns = tab.cols[ns_col]
    valid = ns != table.NS_MISSING
    t = np.full(ns.size, np.nan)
    if valid.any():
        t[valid] = (ns[valid] - ns[valid].min()) / 1e9
    warnings: list[str] = []
    pos = order_rows(t, warnings)
    frame = pd.DataFrame({"t_s": t[pos] - t[pos[0]]})
    for col, (name, scale) in axes.items():
        frame[name] = tab.cols[col][pos] * scale
        if not np.isfinite(frame[name]).any():
            raise ImuFormatError(f"{path.name}: column {col!r} has no values")
    start = _start(int(ns[pos[0]]), tab.cols.get(_PHONE), pos[0], tz)
    frame.attrs["start_utc"] = start
    return ImuRecording(frame, start, warnings)


def _start(ns0: int, phone: np.ndarray | None, row: int, tz: str) -> pd.Timestamp:
    """Sensor clock when it gives a plausible year, else the phone clock (zone ``tz``)."""
    start = POLAR_EPOCH + pd.Timedelta(ns0, "ns")
    if 2015 <= start.year <= 2100:
        return start
    if phone is not None and not np.isnat(phone[row]):
        return pd.Timestamp(phone[row]).tz_localize(tz).tz_convert("UTC")
    return pd.NaT


def read_polar_pair(
    acc_path: str | Path, gyro_path: str | Path | None = None, tz: str = "UTC"
) -> ImuRecording:
    """ACC file plus optional GYRO file, gyro interpolated onto the ACC time base."""
    acc = read_polar_logger(acc_path, tz)
    if gyro_path is None:
        return acc
    gyr = read_polar_logger(gyro_path, tz)
    if pd.isna(acc.start_utc) or pd.isna(gyr.start_utc):
        raise ImuFormatError("ACC and GYRO files without absolute times cannot be aligned")
    offset = (gyr.start_utc - acc.start_utc).total_seconds()
    frame = acc.frame.copy()
    tg = gyr.frame["t_s"].to_numpy() + offset
    for c in gyr.frame.columns:
        if c.startswith("gyr_"):
            frame[c] = np.interp(frame["t_s"], tg, gyr.frame[c], left=np.nan, right=np.nan)
    frame.attrs["start_utc"] = acc.start_utc
    warnings = acc.warnings + [f"GYRO file: {w}" for w in gyr.warnings]
    return ImuRecording(frame, acc.start_utc, warnings)
