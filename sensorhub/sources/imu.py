"""IMU recordings (Polar Sensor Logger exports, CSV): one running session with a ``stride``
point per step, from the gait engine (:mod:`sensorhub.gait`).

The kind needs to know where the pod sat (``placement``) and, for one shank/foot pod, which
leg (``side``); two pods (one per leg) are read as a pair: the file ingested is the left pod
and ``right`` the right one, and every step gets its side. Without a placement the kind takes
no file and says so.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pandas as pd

from drivers.imu import ImuFormatError, ImuRecording, read_recording

from ..gait import DETECTORS, GaitError, analyse
from ..summary import gait_summary
from .base import FileSource, IngestedSource, Series, SessionRecord, SourceError, SourceSkipped
from .registry import register

STRIDE_FIELDS = [
    "gct_ms",
    "flight_ms",
    "step_time_ms",
    "stride_time_ms",
    "cadence_spm",
    "duty_factor",
]


@register
@dataclass
class ImuSource(FileSource):
    """IMU recordings: Polar Sensor Logger ``*ACC*.txt`` (with its GYRO file) or CSV."""

    name: ClassVar[str] = "imu"
    suffixes: ClassVar[tuple[str, ...]] = (".csv", ".txt")
    placement: str | None = None  # foot | shank | sacrum (sensorhub.gait.DETECTORS)
    side: str | None = None  # L | R: the leg of a single foot/shank pod
    right: Path | None = None  # the right pod's recording when the file read is the left pod's
    start: pd.Timestamp | None = None  # the start time of a recording without one

    def claims(self, path: Path) -> bool:
        """CSV files, and Polar Sensor Logger ``*ACC*.txt`` exports (not their companions)."""
        if path.suffix.lower() == ".txt" and "ACC" not in path.name:
            return False
        return super().claims(path) and not _is_companion(path)

    def companions(self, path: Path) -> list[Path]:
        return [self.right] if self.right else []

    def read(self, path: Path, data: bytes, identity: str) -> IngestedSource:
        if self.placement is None:
            raise SourceSkipped(
                "an IMU recording needs --placement foot|shank|sacrum to be ingested"
            )
        if self.placement not in DETECTORS:
            raise SourceError(
                f"placement must be one of {sorted(DETECTORS)}, not {self.placement!r}"
            )
        try:
            rec = read_recording(path, start_utc=self.start)
            right = read_recording(self.right, start_utc=self.start) if self.right else None
            session, n_steps = imu_session(rec, self.placement, self.side, right)
        except (ImuFormatError, GaitError) as exc:
            # the one-line report names the file already; the right pod's name stays
            raise SourceError(str(exc).removeprefix(f"{path.name}: ")) from None
        session.warnings = (
            rec.warnings
            + [f"right pod: {w}" for w in (right.warnings if right else [])]
            + session.warnings
        )
        return IngestedSource(
            kind=f"imu:{self.placement}",
            identity=identity,
            path=str(path),
            sessions=[session],
            n_records=len(rec.frame),
            warnings=list(session.warnings),
            label=f"IMU {self.placement}",
        )


def pair_identity(*shas: str) -> str:
    """The identity of a pod pair: both recordings' bytes identify it."""
    return hashlib.sha256("".join(shas).encode()).hexdigest() if len(shas) > 1 else shas[0]


def imu_session(
    rec: ImuRecording, placement: str, side: str | None = None, right: ImuRecording | None = None
) -> tuple[SessionRecord, int]:
    """Run the gait engine on one recording (or a left/right pair) and place steps in UTC."""
    for r in (rec, right):
        if r is not None and (r.start_utc is None or pd.isna(r.start_utc)):
            raise SourceError("recording has no absolute start time")
    right_frame = None
    if right is not None:
        offset = (pd.Timestamp(right.start_utc) - pd.Timestamp(rec.start_utc)).total_seconds()
        right_frame = right.frame.assign(t_s=right.frame["t_s"] + offset)
    res = analyse(rec.frame, placement, side=side, right=right_frame)
    steps = res.contacts
    # a stance cut by the recording's edge counts as a step (summary) but has no point:
    # its initial contact, the point's time, may be unknown
    whole = steps[~steps["partial"]] if "partial" in steps else steps
    t0 = pd.Timestamp(rec.start_utc).tz_convert("UTC")
    duration = float(rec.frame["t_s"].iloc[-1]) if len(rec.frame) else 0.0
    index = pd.DatetimeIndex(t0 + pd.to_timedelta(whole["ic_s"].to_numpy(), unit="s"), name="time")
    strides = pd.DataFrame(
        {c: whole[c].to_numpy(float) for c in STRIDE_FIELDS if c in whole}, index=index
    )
    sides = whole["side"].fillna("").to_numpy() if "side" in whole else [""] * len(whole)
    series = [
        Series("stride", strides[sides == s], {"side": s, "placement": placement})
        for s in sorted(set(sides))
    ]
    summary = gait_summary(steps)
    summary.update(duration_s=duration, elapsed_s=duration, records=int(len(strides)))
    end = t0 + pd.Timedelta(seconds=duration)
    session = SessionRecord(
        0, "running", t0, end, summary, sub_sport=placement, series=series, warnings=res.warnings
    )
    return session, len(strides)


def _is_companion(f: Path) -> bool:
    """Files read together with another: a Polar GYRO export, reference event tables."""
    return f.name.endswith(".events.csv") or (f.suffix.lower() == ".txt" and "GYRO" in f.name)
