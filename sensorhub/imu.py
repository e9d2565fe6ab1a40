"""IMU recordings → a running session: per-step ``stride`` frame and a session summary.

Readers live in :mod:`drivers.imu`; the gait engine in :mod:`sensorhub.gait`. This module only
joins them for the pipeline: it places steps on the UTC time line and names the summary
fields as docs/schema.md does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from drivers.imu import ImuRecording, read_imu_csv, read_polar_pair

from .gait import analyse
from .values import finite_number

IMU_SUFFIXES = {".txt", ".csv"}
PLACEMENTS = ("foot", "shank", "sacrum")
STRIDE_FIELDS = [
    "gct_ms",
    "flight_ms",
    "step_time_ms",
    "stride_time_ms",
    "cadence_spm",
    "duty_factor",
]
SUMMARY_FIELDS = [
    "n_steps",
    "cadence_spm",
    "gct_ms",
    "flight_ms",
    "step_time_ms",
    "duty_factor",
    "gct_ms_left",
    "gct_ms_right",
    "gct_si_pct",
    "gct_sa_pct",
    "gct_balance_left_pct",
    "flight_si_pct",
    "step_time_si_pct",
]


class ImuInputError(ValueError):
    """An IMU file that cannot be used (format, time base, settings)."""


@dataclass
class ImuSession:
    start: pd.Timestamp
    end: pd.Timestamp
    strides: pd.DataFrame  # UTC index "time" (initial contact), side column, STRIDE_FIELDS
    summary: dict
    warnings: list[str] = field(default_factory=list)


def read_recording(path: Path) -> ImuRecording:
    """A Polar Sensor Logger export (ACC, with its GYRO file beside it when present) or a
    CSV already in the project's naming (``time`` ISO-8601 UTC or ``t_s`` + ``start_utc``
    column, and ``acc_*_g``/``gyr_*_dps`` columns)."""
    head = path.read_text(encoding="utf-8", errors="replace")[:2000]
    if "sensor timestamp" in head.lower():
        gyro = _gyro_sibling(path)
        return read_polar_pair(path, gyro)
    cols = [c.strip() for c in head.splitlines()[0].split(",")] if head else []
    data = [c for c in cols if c.startswith(("acc_", "gyr_"))]
    if not data:
        raise ImuInputError("not an IMU recording (no acc_*/gyr_* columns, no Polar header)")
    if "time" in cols:
        return read_imu_csv(path, {"t": "time", **{c: c for c in data}})
    raise ImuInputError("IMU CSV needs a 'time' column (ISO-8601, UTC) to place it in time")


def _gyro_sibling(acc: Path) -> Path | None:
    if "ACC" not in acc.name:
        return None
    g = acc.with_name(acc.name.replace("ACC", "GYRO"))
    return g if g.exists() else None


def imu_session(
    rec: ImuRecording, placement: str, side: str | None = None, right: ImuRecording | None = None
) -> ImuSession:
    """Run the gait engine on one recording and place its steps in UTC.

    With ``right``, ``rec`` is the left pod and ``right`` the right one (two shank or foot
    pods): both are put on the left pod's time line and every step gets its side.
    """
    if placement not in PLACEMENTS:
        raise ImuInputError(f"placement must be one of {PLACEMENTS}, not {placement!r}")
    for r in (rec, right):
        if r is not None and (r.start_utc is None or pd.isna(r.start_utc)):
            raise ImuInputError("recording has no absolute start time")
    right_frame = None
    if right is not None:
        offset = (pd.Timestamp(right.start_utc) - pd.Timestamp(rec.start_utc)).total_seconds()
        right_frame = right.frame.assign(t_s=right.frame["t_s"] + offset)
    res = analyse(rec.frame, placement, side=side, right=right_frame)
    steps = res.contacts
    t0 = pd.Timestamp(rec.start_utc).tz_convert("UTC")
    duration = float(rec.frame["t_s"].iloc[-1]) if len(rec.frame) else 0.0
    index = pd.DatetimeIndex(t0 + pd.to_timedelta(steps["ic_s"].to_numpy(), unit="s"), name="time")
    strides = pd.DataFrame(
        {c: steps[c].to_numpy(float) for c in STRIDE_FIELDS if c in steps}, index=index
    )
    strides["side"] = steps["side"].to_numpy() if "side" in steps else None
    summary = {
        k: float(res.summary[k]) for k in SUMMARY_FIELDS if finite_number(res.summary.get(k))
    }
    summary.update(duration_s=duration, elapsed_s=duration, records=int(len(strides)))
    return ImuSession(t0, t0 + pd.Timedelta(seconds=duration), strides, summary, list(res.warnings))
