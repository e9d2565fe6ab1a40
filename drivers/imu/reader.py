"""One entry point for every IMU file format: :func:`read_recording`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import table
from .csv_generic import is_project_header, read_project_csv
from .polar import is_polar_header, read_polar_pair
from .recording import ImuFormatError, ImuRecording
from .timebase import as_utc, resolve_start


def read_recording(path: str | Path, start_utc: pd.Timestamp | str | None = None) -> ImuRecording:
    """Read an IMU recording of any supported format, placed on the UTC time line.

    Formats, told apart by the header line:

    * Polar Sensor Logger export (``sensor timestamp [ns]`` column): an ACC file, merged with
      its GYRO file when one sits beside it (same name with ``GYRO`` for ``ACC``); a GYRO file
      with its ACC sibling is read as that pair;
    * project CSV (:mod:`drivers.imu.csv_generic`): ``time`` (ISO-8601, UTC), or ``t_s``
      (seconds) plus an optional ``start_utc`` column; sensor axes ``acc_x_g…``/``gyr_x_dps…``
      or body axes ``acc_v_g/acc_ap_g/acc_ml_g``.

    ``start_utc``: UTC time of the first sample, used only when the file has no absolute time
    (zone-less = UTC); without it the file's modification time is taken as the end of the
    recording, with a warning in :attr:`ImuRecording.warnings`. Row order, duplicates and size
    limits follow :mod:`drivers.imu.timebase` and :mod:`drivers.imu.table`.

    Raises :class:`ImuFormatError` (a ``ValueError``, one line) for anything unusable.
    """
    path = Path(path)
    given = as_utc(start_utc)
    table.check_file(path)
    columns = table.read_header(path).columns
    try:
        if is_polar_header(columns):
            acc, gyro = _polar_pair(path)
            rec = read_polar_pair(acc, gyro)
        elif is_project_header(columns):
            rec = read_project_csv(path)
        else:
            raise ImuFormatError(
                "not an IMU recording: expected a Polar Sensor Logger export or a CSV with "
                "'time' or 't_s' and acc_*_g/gyr_*_dps columns"
            )
    except ImuFormatError as e:
        msg = str(e)
        raise ImuFormatError(msg if path.name in msg else f"{path.name}: {msg}") from None
    file_start = None if pd.isna(rec.start_utc) else rec.start_utc
    duration = float(rec.frame["t_s"].iloc[-1])
    start = resolve_start(file_start, given, path, duration, rec.warnings)
    rec.frame.attrs["start_utc"] = start
    return ImuRecording(rec.frame, start, rec.warnings)


def _polar_pair(path: Path) -> tuple[Path, Path | None]:
    """(ACC file, GYRO file or None) for a Polar export given as either file."""
    if "GYRO" in path.name:
        acc = path.with_name(path.name.replace("GYRO", "ACC"))
        return (acc, path) if acc.is_file() else (path, None)
    if "ACC" in path.name:
        gyro = path.with_name(path.name.replace("ACC", "GYRO"))
        return path, gyro if gyro.is_file() else None
    return path, None
