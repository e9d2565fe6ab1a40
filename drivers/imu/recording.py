"""What every IMU reader returns, and the one error it raises for unusable input."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


class ImuFormatError(ValueError):
    """An IMU file that cannot be used; the message is one line that says why."""


@dataclass
class ImuRecording:
    """A decoded IMU stream.

    ``frame``: ``t_s`` (s from the first sample, increasing) and ``acc_*_g``/``gyr_*_dps``
    columns; ``start_utc``: tz-aware UTC time of ``t_s == 0`` (``NaT`` only from the
    low-level readers when the file carries no absolute time); ``warnings``: what the reader
    changed or guessed (sorted rows, dropped duplicates, start time from the file's mtime…).
    """

    frame: pd.DataFrame
    start_utc: pd.Timestamp
    warnings: list[str] = field(default_factory=list)
