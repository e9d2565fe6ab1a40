"""IMU file readers → DataFrames with ``t_s`` and IMU columns (never imports sensorhub).

Entry point: :func:`read_recording` (any supported format, placed on the UTC time line);
the per-format readers below it are public for notebooks and custom files.

Output columns: ``t_s`` (seconds from the first sample, increasing), then sensor axes
``acc_x_g``, ``acc_y_g``, ``acc_z_g``, ``gyr_x_dps``… and/or body axes ``acc_v_g``,
``acc_ap_g``, ``acc_ml_g``, ``gyr_ml_dps``…; the absolute start time is
:attr:`ImuRecording.start_utc` (a tz-aware ``pandas.Timestamp``, also in
``frame.attrs["start_utc"]``); what the reader changed or guessed is in
:attr:`ImuRecording.warnings`. Unusable input raises :class:`ImuFormatError` (a ``ValueError``).
"""

from .csv_generic import read_imu_csv, read_project_csv
from .polar import read_polar_logger, read_polar_pair
from .reader import read_recording
from .recording import ImuFormatError, ImuRecording
from .table import MAX_FILE_BYTES, MAX_LINE_BYTES

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_LINE_BYTES",
    "ImuFormatError",
    "ImuRecording",
    "read_imu_csv",
    "read_polar_logger",
    "read_polar_pair",
    "read_project_csv",
    "read_recording",
]
