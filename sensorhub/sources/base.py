"""What every source kind delivers: an :class:`IngestedSource` of :class:`SessionRecord` s.

A source kind (a plugin in this package) turns its input — a FIT file, an IMU recording, a
live BLE session, … — into one :class:`IngestedSource`. It knows its format and nothing about
storage, athletes' configuration or load: the :class:`~sensorhub.recorder.Recorder` resolves
the athlete, computes session load the same way for every kind and stores everything in one
journal transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import pandas as pd

from ..config import Config


class SourceError(ValueError):
    """An input that cannot be used: one line saying why (the file name is added by the caller)."""


class SourceSkipped(SourceError):
    """An input this kind does not take as given (e.g. an IMU recording without --placement)."""


@dataclass
class Series:
    """Points of one measurement: a frame (UTC ``DatetimeIndex``, one column per field) and
    its tags other than ``athlete`` (the recorder adds it)."""

    measurement: str
    frame: pd.DataFrame
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class HrLimits:
    """Resting/maximal HR (bpm) and sex for Banister TRIMP, as a device or file reports them."""

    rest: float | None = None
    max: float | None = None
    sex: str | None = None


@dataclass
class SessionRecord:
    """One session of a source.

    ``summary`` holds the SI-named numbers of the ``session`` measurement
    (:mod:`sensorhub.summary`); ``hr_bpm`` the per-sample heart rate (UTC index) when there is
    one, for TRIMP; ``series`` the points to write (``run`` per record, ``stride`` per step).
    """

    index: int
    sport: str
    start: pd.Timestamp
    end: pd.Timestamp
    summary: dict[str, Any]
    sub_sport: str = ""
    hr_bpm: pd.Series | None = None
    series: list[Series] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def n_points(self) -> int:
        return sum(len(s.frame) for s in self.series)


class Extra(Protocol):
    """Something a source stores besides sessions (a check-in, a readiness result), in the
    recorder's transaction: ``store`` writes its journal rows and returns its points."""

    def store(self, journal: Any, athlete: str, source_id: int) -> list[Series]: ...


@dataclass
class IngestedSource:
    """One input turned into sessions.

    ``identity`` is what makes the input unique (the sha256 of its bytes; for a pod pair, of
    both files; for a live session, its start and athlete): storing the same identity twice is
    a no-op. ``devices`` (serial numbers, addresses) let the recorder find the athlete when
    ``athlete`` is not given.
    """

    kind: str
    identity: str
    path: str
    sessions: list[SessionRecord]
    n_records: int = 0
    file_id: str | None = None
    athlete: str | None = None
    devices: list[str] = field(default_factory=list)
    hr_limits: HrLimits | None = None
    partial: bool = False
    error: str | None = None  # why the input is partial
    warnings: list[str] = field(default_factory=list)
    label: str = ""  # how the one-line report names the sessions, e.g. "IMU shank"
    extras: list[Extra] = field(default_factory=list)


class SourceKind(Protocol):
    """A source plugin: ``name`` (the ``sources.kind`` column), the file suffixes it takes,
    and ``read`` from the input's bytes to an :class:`IngestedSource`."""

    name: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]]

    def claims(self, path: Path) -> bool:
        """Whether this kind reads ``path`` (by suffix, or by a look at the file)."""
        ...

    def read(self, path: Path, data: bytes, identity: str) -> IngestedSource:
        """The sessions in ``data`` (the bytes of ``path``); SourceError when unusable."""
        ...


@dataclass
class FileSource:
    """Base of file-based kinds: claims files by suffix; subclasses implement ``read``."""

    name: ClassVar[str] = ""
    suffixes: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_config(cls, cfg: Config) -> FileSource:
        """The kind as the configuration sets it up (default: no settings)."""
        return cls()

    def claims(self, path: Path) -> bool:
        return path.suffix.lower() in self.suffixes

    def companions(self, path: Path) -> list[Path]:
        """Other files read together with ``path`` (their bytes are part of its identity)."""
        return []

    def read(self, path: Path, data: bytes, identity: str) -> IngestedSource:
        raise NotImplementedError
