"""CSV readers: the project's own IMU CSV, and any CSV through a column mapping.

Project CSV (what ``fixtures/imu``, ``../shared/gait`` and ``sensorhub emulate --imu`` use):

* time: ``time`` (ISO-8601; a zone-less time is read as UTC, with a warning) **or** ``t_s``
  (seconds) with an optional ``start_utc`` column (ISO-8601 UTC time of ``t_s = 0``; one value,
  e.g. on the first row only, the other cells empty). With both, ``time`` is used;
* data, units in the names: sensor axes ``acc_x_g, acc_y_g, acc_z_g`` (all three) and/or
  ``gyr_x_dps, gyr_y_dps, gyr_z_dps`` (all three), or body axes ``acc_v_g`` (required),
  ``acc_ap_g``, ``acc_ml_g`` and ``gyr_v_dps/gyr_ap_dps/gyr_ml_dps``. Other columns (e.g.
  ``grf_v``) are ignored; an ``acc_*``/``gyr_*`` column not in these lists is an error, so a
  unit mix-up is never silently dropped.

Mapping CSV: ``mapping`` maps output names to source columns, e.g.
``{"t": "time", "acc_x_g": "ax", "acc_y_g": "ay", "acc_z_g": "az"}``. The time column
(key ``"t"``) is numeric (``time_unit`` 's', 'ms', 'us', 'ns') or date-time text.
``scale`` multiplies data columns (e.g. ``{"acc_x_g": 1/9.80665}`` for m/s² input).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import table
from .recording import ImuFormatError, ImuRecording
from .timebase import as_utc, order_rows

_TIME_DIV = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}
SENSOR_SETS = (("acc_x_g", "acc_y_g", "acc_z_g"), ("gyr_x_dps", "gyr_y_dps", "gyr_z_dps"))
BODY_COLUMNS = ("acc_v_g", "acc_ap_g", "acc_ml_g", "gyr_v_dps", "gyr_ap_dps", "gyr_ml_dps")
KNOWN = tuple(c for s in SENSOR_SETS for c in s) + BODY_COLUMNS


def is_project_header(columns: list[str]) -> bool:
    """True when the header has a time column and at least one ``acc_``/``gyr_`` column."""
    has_time = "time" in columns or "t_s" in columns
    return has_time and any(c.startswith(("acc_", "gyr_")) for c in columns)


def data_columns(columns: list[str]) -> list[str]:
    """The IMU data columns of a project CSV header, checked (see module doc)."""
    imu = [c for c in columns if c.startswith(("acc_", "gyr_"))]
    unknown = [c for c in imu if c not in KNOWN]
    if unknown:
        raise ImuFormatError(
            f"unknown IMU column {unknown[0]!r}: use acc_x_g/acc_y_g/acc_z_g, "
            "gyr_x_dps/gyr_y_dps/gyr_z_dps or body axes acc_v_g/acc_ap_g/acc_ml_g (units in g, dps)"
        )
    if not imu:
        raise ImuFormatError(
            "no IMU columns: expected acc_x_g/acc_y_g/acc_z_g (sensor axes), "
            "acc_v_g/acc_ap_g/acc_ml_g (body axes) or gyr_*_dps"
        )
    for group in SENSOR_SETS:
        have = [c for c in group if c in imu]
        if have and len(have) < 3:
            missing = [c for c in group if c not in imu]
            raise ImuFormatError(
                f"missing column {missing[0]!r} (sensor axes need {', '.join(group)})"
            )
    body_acc = [c for c in imu if c in BODY_COLUMNS and c.startswith("acc_")]
    if body_acc and "acc_x_g" in imu:
        raise ImuFormatError("both sensor axes (acc_x_g…) and body axes (acc_v_g…): keep one set")
    if body_acc and "acc_v_g" not in imu:
        raise ImuFormatError("missing column 'acc_v_g' (body-axis acceleration needs the vertical)")
    return [c for c in KNOWN if c in imu]


def read_project_csv(path: str | Path, start_utc: pd.Timestamp | None = None) -> ImuRecording:
    """Read a project CSV (module doc). ``start_utc`` (UTC time of the first sample) is used
    only when the file has no absolute time; else ``NaT``. Raises :class:`ImuFormatError`."""
    path = Path(path)
    table.check_file(path)
    header = table.read_header(path)
    data = data_columns(header.columns)
    if "time" in header.columns:
        kinds = {"time": "time"}
    elif "t_s" in header.columns:
        kinds = {"t_s": "float"}
        if "start_utc" in header.columns:
            kinds["start_utc"] = "label"
    else:
        raise ImuFormatError("no time column: expected 'time' (ISO-8601, UTC) or 't_s' (seconds)")
    tab = table.read_columns(path, header, {**kinds, **dict.fromkeys(data, "float")})
    warnings: list[str] = []
    if "time" in kinds:
        t, origin = _seconds(tab.cols["time"])
        if tab.naive_times:
            warnings.append("'time' has no time zone: read as UTC")
    else:
        t, origin = tab.cols["t_s"], _start_column(tab.labels.get("start_utc"))
        origin = origin if origin is not None else as_utc(start_utc)
    pos = order_rows(t, warnings)
    frame = _frame(t, pos, {c: tab.cols[c] for c in data})
    start = origin + pd.Timedelta(seconds=float(t[pos[0]])) if origin is not None else pd.NaT
    frame.attrs["start_utc"] = start
    return ImuRecording(frame, start, warnings)


def _seconds(times: np.ndarray) -> tuple[np.ndarray, pd.Timestamp | None]:
    """datetime64 → float seconds from the earliest time, and that time (UTC)."""
    ok = ~np.isnat(times)
    if not ok.any():
        return np.full(times.size, np.nan), None
    t0 = times[ok].min()
    t = np.where(ok, (times - t0).astype("timedelta64[ns]").astype(np.int64) / 1e9, np.nan)
    return t, pd.Timestamp(t0).tz_localize("UTC")


def _start_column(values: set[str] | None) -> pd.Timestamp | None:
    if not values:
        return None
    if len(values) > 1:
        shown = ", ".join(sorted(values)[:3])
        raise ImuFormatError(
            f"column 'start_utc' has {len(values)} different values ({shown}): "
            "one recording per file"
        )
    return as_utc(next(iter(values)))


def _frame(t: np.ndarray, pos: np.ndarray, data: dict[str, np.ndarray]) -> pd.DataFrame:
    frame = pd.DataFrame({"t_s": t[pos] - t[pos[0]]})
    for name, values in data.items():
        col = values[pos]
        if not np.isfinite(col).any():
            raise ImuFormatError(f"column {name!r} has no values (empty or NaN in every row)")
        frame[name] = col
    return frame


def read_imu_csv(
    path: str | Path,
    mapping: dict[str, str],
    *,
    sep: str | None = None,
    time_unit: str = "s",
    start_utc: str | pd.Timestamp | None = None,
    scale: dict[str, float] | None = None,
) -> ImuRecording:
    """Read any CSV into ``t_s`` + sensor-axis columns through ``mapping`` (module doc).

    ``start_utc`` is used for a numeric time column (``NaT`` without it). ``sep`` defaults to
    the header's most frequent of ``,``, ``;`` and tab. Raises :class:`ImuFormatError`.
    """
    if "t" not in mapping:
        raise ImuFormatError("mapping needs a 't' entry for the time column")
    if time_unit not in _TIME_DIV:
        raise ImuFormatError(f"time_unit must be one of {sorted(_TIME_DIV)}, not {time_unit!r}")
    path = Path(path)
    table.check_file(path)
    header = table.read_header(path)
    if sep is not None:
        header.sep = sep
    missing = [c for c in mapping.values() if c not in header.columns]
    if missing:
        raise ImuFormatError(f"{path.name}: columns {missing} not found (have {header.columns})")
    tcol = mapping["t"]
    kind = "float" if _numeric(header, tcol) else "time"
    data = {out: src for out, src in mapping.items() if out != "t"}
    tab = table.read_columns(path, header, {tcol: kind, **dict.fromkeys(data.values(), "float")})
    if kind == "float":
        t, origin = tab.cols[tcol] / _TIME_DIV[time_unit], as_utc(start_utc)
    else:
        t, origin = _seconds(tab.cols[tcol])
    warnings: list[str] = []
    pos = order_rows(t, warnings)
    factors = scale or {}
    frame = _frame(t, pos, {o: tab.cols[s] * factors.get(o, 1.0) for o, s in data.items()})
    start = origin + pd.Timedelta(seconds=float(t[pos[0]])) if origin is not None else pd.NaT
    frame.attrs["start_utc"] = start
    return ImuRecording(frame, start, warnings)


def _numeric(header: table.Header, col: str) -> bool:
    """Is ``col`` numeric in the first data row? (No row: numeric; the read then finds none.)"""
    i = header.columns.index(col)
    if i >= len(header.first_row):
        return True
    try:
        float(header.first_row[i])
    except ValueError:
        return False
    return True
