"""IMU file readers → DataFrames with ``t_s`` and sensor-axis columns (never imports sensorhub).

Output columns: ``t_s`` (seconds from the first sample), ``acc_x_g``, ``acc_y_g``,
``acc_z_g`` and/or ``gyr_x_dps``, ``gyr_y_dps``, ``gyr_z_dps``; the absolute start time is
``df.attrs["start_utc"]`` (a tz-aware ``pandas.Timestamp``) and also returned by
:class:`ImuRecording`.
"""

from .csv_generic import read_imu_csv
from .polar import ImuRecording, read_polar_logger, read_polar_pair

__all__ = ["ImuRecording", "read_imu_csv", "read_polar_logger", "read_polar_pair"]
