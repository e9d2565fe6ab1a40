"""TCX and GPX activity files (Garmin Training Center, GPS exchange): one session per activity.

Decoding is :mod:`drivers.track` (per-point frames in SI units, TCX laps); summaries come from
:func:`sensorhub.summary.run_summary` like every other kind, so a run exported as FIT, TCX or
GPX carries the same fields. The ``run`` series is tagged ``sport`` and ``source`` (``tcx`` or
``gpx``); ``hr_bpm`` goes to the recorder for Banister TRIMP, as for FIT files.

The creator string (``Garmin Forerunner 110``, ``GPSBabel``) names a model or a program, not
one device, so it is not used to find the athlete (``devices`` stays empty). A TCX file of
courses or a GPX file of routes only (planned, no times) is "no activity": stored as seen,
with the reader's one-line reason, and no session.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from typing import ClassVar

from drivers.track import TrackActivity, TrackError, read_track

from ..normalise import RUNNING_SPORTS
from ..summary import run_summary
from .base import FileSource, IngestedSource, Series, SessionRecord, SourceError
from .registry import register

NO_ACTIVITY = "no activity"


@dataclass
class TrackSource(FileSource):
    """Base of the TCX and GPX kinds: the format is the kind's ``name``."""

    def read(self, path: PurePath, data: bytes, identity: str) -> IngestedSource:
        try:
            activities = read_track(data, "." + self.name)
        except TrackError as exc:
            if str(exc).startswith(NO_ACTIVITY):
                return IngestedSource(self.name, identity, str(path), [], warnings=[str(exc)])
            raise SourceError(str(exc)) from None
        sessions = [self._session(i, a) for i, a in enumerate(activities) if len(a.records)]
        return IngestedSource(
            kind=self.name,
            identity=identity,
            path=str(path),
            sessions=sessions,
            n_records=sum(len(a.records) for a in activities),
            warnings=[w for a in activities for w in a.warnings],
            label=",".join(dict.fromkeys(s.sport for s in sessions)) + f" {self.name.upper()}",
        )

    def _session(self, index: int, act: TrackActivity) -> SessionRecord:
        run = act.records
        start, end = run.index[0], run.index[-1]
        summary = run_summary(run, start, end, running=act.sport in RUNNING_SPORTS)
        summary["laps"] = len(act.laps)
        return SessionRecord(
            index=index,
            sport=act.sport,
            start=start,
            end=end,
            summary=summary,
            hr_bpm=run.get("hr_bpm"),
            series=[Series("run", run, {"sport": act.sport, "source": self.name})],
            warnings=list(act.warnings),
        )


@register
@dataclass
class TcxSource(TrackSource):
    """Garmin Training Center XML (``*.tcx``): one session per ``<Activity>``."""

    name: ClassVar[str] = "tcx"
    suffixes: ClassVar[tuple[str, ...]] = (".tcx",)


@register
@dataclass
class GpxSource(TrackSource):
    """GPX 1.0/1.1 tracks with times (``*.gpx``): one session per recorded track."""

    name: ClassVar[str] = "gpx"
    suffixes: ClassVar[tuple[str, ...]] = (".gpx",)
