"""FIT files (watches, footpods, bike computers): one session per FIT ``session`` message.

Decoding is :mod:`drivers.fit`; field names, units and cadence rules are
:mod:`sensorhub.normalise`; what the file says about itself (file_id, device serials, the
wearer's HR limits) is :mod:`sensorhub.fitmeta`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pandas as pd

import drivers.fit
from drivers.fit import FitError, FitMessages

from ..config import Athlete, Config
from ..fitmeta import device_serials, fit_file_id, hr_limits
from ..normalise import SessionFrame, no_time_reason
from ..normalise import sessions as split_sessions
from ..summary import run_summary
from .base import FileSource, HrLimits, IngestedSource, Series, SessionRecord, SourceError
from .registry import register


@register
@dataclass
class FitSource(FileSource):
    """FIT activity files (``*.fit``)."""

    name: ClassVar[str] = "fit"
    suffixes: ClassVar[tuple[str, ...]] = (".fit",)
    power_source: str = "auto"
    now: pd.Timestamp | None = None  # records later than a day after this are clock faults
    cfg: Config | None = None  # to find the wearer's time zone for device-local times

    @classmethod
    def from_config(cls, cfg: Config) -> FitSource:
        return cls(power_source=cfg.fit.power_source, cfg=cfg)

    def _tz(self, devices: list[str]) -> str | None:
        """The configured time zone of the device's owner: anchors device-local times
        (``activity.local_timestamp``) when a file has no UTC time at all."""
        owner = next(
            (a for d in devices if self.cfg and (a := self.cfg.athlete_for_device(d))), None
        )
        return owner.tz if owner and owner.tz != "UTC" else None

    def read(self, path: Path, data: bytes, identity: str) -> IngestedSource:
        try:  # frames are built when first read: a message that fails to decode raises there
            return self._read(path, data, identity)
        except FitError as exc:
            raise SourceError(str(exc)) from None

    def _read(self, path: Path, data: bytes, identity: str) -> IngestedSource:
        msgs = drivers.fit.decode(data)
        devices = device_serials(msgs)
        tz = self._tz(devices)
        frames = split_sessions(msgs, now=self.now, power_source=self.power_source, tz=tz)
        if not frames:
            reason = no_time_reason(msgs, tz=tz, now=self.now)
            if reason:
                raise SourceError(reason)
        own = hr_limits(_UNCONFIGURED, msgs)  # the file's own limits; the recorder decides
        return IngestedSource(
            kind=self.name,
            identity=identity,
            path=str(path),
            sessions=[_session(sf) for sf in frames],
            n_records=int(sum(len(sf.run) for sf in frames)),
            file_id=fit_file_id(msgs),
            devices=devices,
            hr_limits=HrLimits(own.rest, own.max, _sex(msgs)),
            partial=bool(msgs.partial),
            error=msgs.error,
            warnings=list(msgs.warnings),
        )


def _session(sf: SessionFrame) -> SessionRecord:
    summary = run_summary(sf.run, sf.start, sf.end, sf.fit_summary, sf.is_running)
    summary["duplicates_merged"] = int(sf.duplicates_merged)
    if sf.power_source:
        summary["power_source"] = sf.power_source
    hr = sf.run.get("hr_bpm")
    return SessionRecord(
        index=sf.index,
        sport=sf.sport,
        sub_sport=sf.sub_sport,
        start=sf.start,
        end=sf.end,
        summary=summary,
        hr_bpm=hr,
        series=[Series("run", sf.run, {"sport": sf.sport, "source": "fit"})],
        warnings=list(sf.warnings),
    )


def _sex(msgs: FitMessages) -> str | None:
    prof = msgs.fields("user_profile", ("gender",))  # the frame itself is not needed
    g = prof["gender"].iloc[0] if "gender" in prof and len(prof) else None
    return g if g in ("male", "female") else None


_UNCONFIGURED = Athlete(id="default")  # no configured limits: hr_limits reports the file's
