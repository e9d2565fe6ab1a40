"""Routing: each input file goes to the source kind that claims it, then to the recorder.

``Pipeline.ingest(paths)``: for every file, the first source kind of :mod:`sensorhub.sources`
that claims it turns it into an :class:`~sensorhub.sources.IngestedSource`, which the
:class:`~sensorhub.recorder.Recorder` stores in one journal transaction. Then the daily load
and alerts of every athlete touched are recomputed (:mod:`sensorhub.recompute`) and the
outbox is shipped (:mod:`sensorhub.delivery`). One bad file gives one line and never stops
the others.

With InfluxDB configured and more than one input, shipping overlaps storing: a background
thread (:meth:`Delivery.start`) sends the batches already committed while the next files are
decoded, then the final ship sends the rest. The outbox is the buffer between the two (memory
bounded by the batch size, not the corpus); order per series and the fault policy are the
writer's, as in a serial ingest-then-ship.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pandas as pd

from drivers.archive import ArchiveError
from drivers.strava import StravaCsvError, read_activities_csv

from .config import Config
from .delivery import Delivery, Shipped, merged
from .recompute import Recompute
from .recorder import Recorder
from .sources import (
    FileSource,
    IngestedSource,
    SourceError,
    SourceSkipped,
    archive,
    file_kinds,
    kind_for,
)
from .store import FlushReport, Journal, StoreError, open_journal
from .store.journal import SessionRow
from .store.roster import refresh_athletes

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
    session_ids: list[str] = field(default_factory=list)  # stored or kept (duplicates)

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def line(self) -> str:
        """One line for the user: ``path: what happened``."""
        return f"{self.path}: {self.message or self.status}"


@dataclass
class IngestReport:
    files: list[FileResult] = field(default_factory=list)
    flush: FlushReport | None = None  # sent_*: the background thread's and the final ship's
    shipped: Shipped | None = None  # what the background thread sent while storing

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.failed]


def find_inputs(paths: Iterable[str | Path], kinds: list[FileSource]) -> list[Path]:
    """Files named explicitly, plus every file below the folders named that a kind claims;
    a zip (named or found) becomes the members a kind takes (``export.zip!a/b.fit``), a
    ``.gz`` file counts when a kind claims what it holds, Strava's ``activities.csv`` too."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file())
            for f in files:
                out += _expand(f, kinds) if _found(f, kinds) else []
        else:
            out += _expand(p, kinds)
    return out


def _found(f: Path, kinds: list[FileSource]) -> bool:
    """Whether a file found in a folder is an input."""
    if archive.is_archive(f) or f.name.lower() == archive.STRAVA_CSV:
        return True
    if archive.is_gz(f):
        return archive.member_kind(f.name, kinds) is not None
    return kind_for(f, kinds) is not None


def _expand(p: Path, kinds: list[FileSource]) -> list[Path]:
    if archive.is_archive(p) and p.is_file():
        return archive.list_members(p, kinds)
    return [p]


class Pipeline:
    """Ingest files into the journal (and InfluxDB through the outbox).

    Args:
        cfg: the configuration.
        journal: an open journal; by default the one in ``cfg.home``.
        athlete: every file goes to this athlete (``--athlete``).
        now: the current time, injectable for tests.
        sources: configured instances of source kinds by name, replacing the defaults
            (e.g. ``{"imu": ImuSource(placement="shank")}``).
        overlap: ship while storing (see the module docstring); False: store every file,
            then ship (the old order, kept for the benchmark's comparison).
    """

    def __init__(
        self,
        cfg: Config,
        journal: Journal | None = None,
        athlete: str | None = None,
        now: pd.Timestamp | None = None,
        sources: dict[str, FileSource] | None = None,
        overlap: bool = True,
    ) -> None:
        self.cfg = cfg
        self.overlap = overlap
        self.journal = journal or open_journal(cfg)
        refresh_athletes(cfg, self.journal)  # athletes stored in the journal join the config's
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
        """Ingest every input, recompute the athletes touched, ship the outbox.

        Members of an archive are inputs too (one result each): the archive is streamed once,
        member by member, when its first member comes up. Strava ``activities.csv`` files
        are applied after the files they describe are stored. Several inputs: the outbox
        ships on a background thread meanwhile (``overlap``)."""
        paths = [Path(p) for p in paths]
        inputs = self.inputs(paths)
        background = self.overlap and len(inputs) > 1 and self.delivery.start()
        try:
            report = self._ingest_all(paths, inputs, progress)
            self.recompute.pending()
        finally:
            shipped = self.delivery.stop() if background else None
        report.shipped = shipped
        report.flush = merged(self.delivery.ship().influx, shipped)
        return report

    def _ingest_all(
        self,
        paths: list[Path],
        inputs: list[Path],
        progress: Callable[[FileResult], None] | None,
    ) -> IngestReport:
        report = IngestReport()
        named = {p for p in paths if not p.is_dir()}
        done_archives: set[Path] = set()
        strava: list[tuple[Path, Path, bytes]] = []  # (csv input, export root, bytes)

        def add(result: FileResult) -> None:
            report.files.append(result)
            if progress:
                progress(result)

        for path in inputs:
            found = archive.split_member(path)
            outer = found[0] if found else path if archive.is_archive(path) else None
            if outer is not None:
                if outer not in done_archives:
                    done_archives.add(outer)
                    for result in self._ingest_archive(outer, strava):
                        add(result)
            elif path.name.lower() == archive.STRAVA_CSV:
                strava.append((path, path.parent, b""))
            else:
                add(self.ingest_file(path, named=path in named))
        for csv_path, root, data in strava:
            add(self.apply_strava(csv_path, root, data, report.files))
        return report

    def _ingest_archive(
        self, path: Path, strava: list[tuple[Path, Path, bytes]]
    ) -> Iterator[FileResult]:
        """One result per member a kind takes (and per refused member), streamed."""
        if not path.is_file():
            yield FileResult(path, "failed", "no such file")
            return
        for mpath, m in archive.members(path):
            if m.error:
                yield FileResult(mpath, "failed", m.error)
            elif archive.inner_path(m.name).name.lower() == archive.STRAVA_CSV:
                strava.append((mpath, path, m.data))
            elif archive.member_kind(m.name, self.kinds) is not None:
                yield self.ingest_file(mpath, data=m.data)

    def ingest_file(self, path: Path, named: bool = True, data: bytes | None = None) -> FileResult:
        """Read, convert and store one file; a bad file is a result, never an exception.

        ``named``: the file was named on purpose (not found in a folder), so a kind that won't
        take it as given (e.g. IMU without a placement) is a failure, not a skip. ``data``:
        the bytes of an archive member (``path`` is then its ``export.zip!a/b.fit`` name)."""
        # an `athletes add/edit` since the last file applies now (one counter read if not)
        refresh_athletes(self.cfg, self.journal)
        try:
            src = self.read(path, data)
            if isinstance(src, FileResult):
                return src
            done = self.recorder.record(src)
        except SourceSkipped as exc:
            return FileResult(path, "failed" if named else "skipped", str(exc))
        except (SourceError, ArchiveError) as exc:
            return FileResult(path, "failed", str(exc))
        except OSError as exc:
            return FileResult(path, "failed", f"cannot read ({exc.strerror or exc})")
        except StoreError:
            raise  # the journal itself failed (disk full, read-only): the run stops
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the others
            return FileResult(path, "failed", f"unexpected {type(exc).__name__}: {exc}")
        if done.status == "duplicate":
            return FileResult(path, "duplicate", done.message, session_ids=done.kept)
        status = "ingested" if done.sessions else "skipped"
        msg = describe(src, done.points, len(done.sessions))
        msg += f"; {done.message}" if done.message else ""
        ids = [r.id for r in done.sessions] + done.kept
        return FileResult(
            path, status, msg, len(done.sessions), done.points, src.partial, session_ids=ids
        )

    def read(self, path: Path, data: bytes | None = None) -> IngestedSource | FileResult:
        """The file's sessions from the kind that claims it (a duplicate is known from its
        bytes before decoding). ``data``: an archive member's bytes; a ``.gz`` file is
        gunzipped (within the caps of :mod:`drivers.archive`)."""
        if data is None and not path.is_file():
            return FileResult(path, "failed", "no such file")
        name = archive.strip_gz(str(archive.inner_path(path)))
        kind = kind_for(Path(name), self.kinds)
        if kind is None:
            suffix = Path(name).suffix
            return FileResult(path, "skipped", f"skipped: no source kind reads {suffix!r} files")
        if data is None:
            size = path.stat().st_size
            if size > MAX_INPUT_BYTES:
                return FileResult(
                    path, "failed", f"{size / 1024**3:.1f} GiB: larger than the 2 GiB accepted"
                )
            # read once: hashed here, decoded by the kind (a .gz within the archive caps)
            data = archive.open_maybe_gz(path, max_bytes=MAX_INPUT_BYTES)
        shas = [hashlib.sha256(data).hexdigest()]
        shas += [hashlib.sha256(c.read_bytes()).hexdigest() for c in kind.companions(path)]
        identity = shas[0] if len(shas) == 1 else hashlib.sha256("".join(shas).encode()).hexdigest()
        known = self.journal.source_by_sha(identity)
        if known:
            return FileResult(
                path,
                "duplicate",
                "already ingested (same bytes)",
                session_ids=self.recorder.sessions_of(known["id"]),
            )
        kind_path = PurePosixPath(name) if archive.split_member(path) else Path(name)
        src = kind.read(kind_path, data, identity)
        src.path = str(path)  # the journal keeps where to find it again (export.zip!a/b.fit)
        return src

    # -- Strava activities.csv ------------------------------------------------------------
    def apply_strava(
        self, csv_path: Path, root: Path, data: bytes, results: list[FileResult]
    ) -> FileResult:
        """Attach name, type, RPE and private note of Strava's ``activities.csv`` to the
        sessions of the files it names (matched by :func:`~sensorhub.sources.archive.
        export_key`, among the files of this ingest below ``root``). RPE goes through
        :meth:`Recorder.log`, so session load is recomputed; the rest into the summary."""
        try:
            df = read_activities_csv(data or csv_path.read_bytes())
        except (StravaCsvError, OSError) as exc:
            return FileResult(csv_path, "failed", str(exc))
        by_key: dict[str, list[str]] = {}
        for r in results:
            if r.session_ids and _below(r.path, root):
                by_key.setdefault(archive.export_key(r.path), []).extend(r.session_ids)
        changed = 0
        for row in df.itertuples(index=False):
            if not isinstance(row.filename, str):
                continue  # a manual entry: no file
            for sid in by_key.get(archive.export_key(row.filename), []):
                changed += self.recorder.annotate(sid, strava_fields(row))
        msg = f"Strava activities.csv: {len(df)} activities, {changed} session(s) updated"
        return FileResult(csv_path, "ingested" if changed else "duplicate", msg)

    # -- conveniences for callers that log or flush outside an ingest ---------------------
    def log_session(self, prefix: str, rpe: float | None = None, pain: float | None = None) -> str:
        """Record RPE/pain for a session (see :meth:`Recorder.log`); returns its id."""
        row: SessionRow = self.recorder.log(prefix, rpe=rpe, pain=pain)
        self.recompute.pending()
        return row.id

    def flush(self) -> FlushReport | None:
        """Ship webhooks and the outbox now; the InfluxDB part of the report (None: not set)."""
        return self.delivery.ship().influx


def describe(src: IngestedSource, n_points: int, n_sessions: int | None = None) -> str:
    """The one-line report of a stored source: sessions, points, merges, warnings
    (``n_sessions``: those stored, when duplicates were left out)."""
    if not src.sessions:
        reason = next((w for w in src.warnings if w.startswith("no activity")), None)
        return reason or "no activity in this file (nothing to ingest)"
    label = src.label or ",".join(dict.fromkeys(s.sport for s in src.sessions))
    n = len(src.sessions) if n_sessions is None else n_sessions
    msg = f"{n} session(s) [{label}], {n_points} points"
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


def strava_fields(row: object) -> dict[str, object]:
    """What a Strava ``activities.csv`` row adds to a session: ``name``, ``activity_type``,
    ``note`` (the private note) into the summary, ``rpe`` (CR-10) through the RPE path."""
    out: dict[str, object] = {}
    for key, col in (("name", "name"), ("activity_type", "type"), ("note", "private_note")):
        v = getattr(row, col)
        if isinstance(v, str) and v.strip():
            out[key] = v.strip()
    rpe = row.rpe
    if rpe is not None and not pd.isna(rpe):
        out["rpe"] = float(rpe)
    return out


def _below(path: Path, root: Path) -> bool:
    """Whether an input (a file or an archive member) lies in the export at ``root``."""
    found = archive.split_member(path)
    if found:
        return found[0] == root or root in found[0].parents
    return path == root or root in path.parents
