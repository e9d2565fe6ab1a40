"""Routing: each input file goes to the source kind that claims it, then to the recorder.

``Pipeline.ingest(paths)``: for every file, the first source kind of :mod:`sensorhub.sources`
that claims it turns it into an :class:`~sensorhub.sources.IngestedSource`, which the
:class:`~sensorhub.recorder.Recorder` stores in one journal transaction. Then the daily load
and alerts of every athlete touched are recomputed (:mod:`sensorhub.recompute`) and the
outbox is shipped (:mod:`sensorhub.delivery`). One bad file gives one line and never stops
the others.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .config import Config
from .delivery import Delivery
from .recompute import Recompute
from .recorder import Recorder
from .sources import FileSource, IngestedSource, SourceError, SourceSkipped, file_kinds, kind_for
from .store import FlushReport, Journal, StoreError
from .store.journal import SessionRow

MAX_NOTES = 3  # warnings shown in a file's one-line report
MAX_INPUT_BYTES = 2 * 1024**3  # larger files are refused before they are read


@dataclass
class FileResult:
    """What happened to one input file."""

    path: Path
    status: str  # ingested | duplicate | skipped | failed
    message: str = ""
    sessions: int = 0
    points: int = 0
    partial: bool = False

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def line(self) -> str:
        """One line for the user: ``path: what happened``."""
        return f"{self.path}: {self.message or self.status}"


@dataclass
class IngestReport:
    files: list[FileResult] = field(default_factory=list)
    flush: FlushReport | None = None

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.failed]


def find_inputs(paths: Iterable[str | Path], kinds: list[FileSource]) -> list[Path]:
    """Files named explicitly, plus every file below the folders named that a kind claims."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and kind_for(f, kinds))
        else:
            out.append(p)
    return out


class Pipeline:
    """Ingest files into the journal (and InfluxDB through the outbox).

    Args:
        cfg: the configuration.
        journal: an open journal; by default the one in ``cfg.home``.
        athlete: every file goes to this athlete (``--athlete``).
        now: the current time, injectable for tests.
        sources: configured instances of source kinds by name, replacing the defaults
            (e.g. ``{"imu": ImuSource(placement="shank")}``).
    """

    def __init__(
        self,
        cfg: Config,
        journal: Journal | None = None,
        athlete: str | None = None,
        now: pd.Timestamp | None = None,
        sources: dict[str, FileSource] | None = None,
    ) -> None:
        self.cfg = cfg
        self.journal = journal or Journal(cfg.journal_path)
        self.kinds = file_kinds(cfg, **(sources or {}))
        for k in self.kinds:
            if hasattr(k, "now"):
                k.now = now
        self.recorder = Recorder(cfg, self.journal, athlete)
        self.recompute = Recompute(cfg, self.journal, now)
        self.delivery = Delivery(cfg, self.journal, now)

    def inputs(self, paths: Iterable[str | Path]) -> list[Path]:
        return find_inputs(paths, self.kinds)

    def ingest(
        self, paths: Iterable[str | Path], progress: Callable[[FileResult], None] | None = None
    ) -> IngestReport:
        """Ingest every input, recompute the athletes touched, ship the outbox."""
        report = IngestReport()
        paths = [Path(p) for p in paths]
        named = {p for p in paths if not p.is_dir()}
        for path in self.inputs(paths):
            result = self.ingest_file(path, named=path in named)
            report.files.append(result)
            if progress:
                progress(result)
        self.recompute.pending()
        report.flush = self.delivery.ship().influx
        return report

    def ingest_file(self, path: Path, named: bool = True) -> FileResult:
        """Read, convert and store one file; a bad file is a result, never an exception.

        ``named``: the file was named on purpose (not found in a folder), so a kind that won't
        take it as given (e.g. IMU without a placement) is a failure, not a skip."""
        try:
            src = self.read(path)
            if isinstance(src, FileResult):
                return src
            done = self.recorder.record(src)
        except SourceSkipped as exc:
            return FileResult(path, "failed" if named else "skipped", str(exc))
        except SourceError as exc:
            return FileResult(path, "failed", str(exc))
        except OSError as exc:
            return FileResult(path, "failed", f"cannot read ({exc.strerror or exc})")
        except StoreError:
            raise  # the journal itself failed (disk full, read-only): the run stops
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the others
            return FileResult(path, "failed", f"unexpected {type(exc).__name__}: {exc}")
        if done.status == "duplicate":
            return FileResult(path, "duplicate", done.message)
        status = "ingested" if done.sessions else "skipped"
        msg = describe(src, done.points)
        return FileResult(path, status, msg, len(done.sessions), done.points, src.partial)

    def read(self, path: Path) -> IngestedSource | FileResult:
        """The file's sessions from the kind that claims it (a duplicate is known from its
        bytes before decoding)."""
        if not path.is_file():
            return FileResult(path, "failed", "no such file")
        kind = kind_for(path, self.kinds)
        if kind is None:
            return FileResult(
                path, "skipped", f"skipped: no source kind reads {path.suffix!r} files"
            )
        size = path.stat().st_size
        if size > MAX_INPUT_BYTES:
            return FileResult(
                path, "failed", f"{size / 1024**3:.1f} GiB: larger than the 2 GiB accepted"
            )
        data = path.read_bytes()  # read once: hashed here, decoded by the kind
        shas = [hashlib.sha256(data).hexdigest()]
        shas += [hashlib.sha256(c.read_bytes()).hexdigest() for c in kind.companions(path)]
        identity = shas[0] if len(shas) == 1 else hashlib.sha256("".join(shas).encode()).hexdigest()
        if self.journal.source_by_sha(identity):
            return FileResult(path, "duplicate", "already ingested (same bytes)")
        return kind.read(path, data, identity)

    # -- conveniences for callers that log or flush outside an ingest ---------------------
    def log_session(self, prefix: str, rpe: float | None = None, pain: float | None = None) -> str:
        """Record RPE/pain for a session (see :meth:`Recorder.log`); returns its id."""
        row: SessionRow = self.recorder.log(prefix, rpe=rpe, pain=pain)
        self.recompute.pending()
        return row.id

    def flush(self) -> FlushReport | None:
        """Ship webhooks and the outbox now; the InfluxDB part of the report (None: not set)."""
        return self.delivery.ship().influx


def describe(src: IngestedSource, n_points: int) -> str:
    """The one-line report of a stored source: sessions, points, merges, warnings."""
    if not src.sessions:
        return "no activity in this file (nothing to ingest)"
    label = src.label or ",".join(dict.fromkeys(s.sport for s in src.sessions))
    msg = f"{len(src.sessions)} session(s) [{label}], {n_points} points"
    merged = sum(int(s.summary.get("duplicates_merged", 0)) for s in src.sessions)
    if merged:
        msg += f", {merged} duplicate timestamps merged"
    notes = [w for s in src.sessions for w in s.warnings] + [
        w for w in src.warnings if w not in {w for s in src.sessions for w in s.warnings}
    ]
    if len(notes) > MAX_NOTES:  # a damaged file can warn hundreds of times: one line stays short
        notes = notes[:MAX_NOTES] + [f"(+{len(notes) - MAX_NOTES} more warnings)"]
    if src.partial:
        notes.insert(0, f"PARTIAL: {src.error}")
    return msg + ("; " + "; ".join(notes) if notes else "")
