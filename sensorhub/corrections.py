"""Fixing mistakes: delete or reassign a session, reprocess after a config change.

Each correction changes the journal and queues what InfluxDB must change — deletes of the
points that no longer hold (``#influxql`` batches, shipped in order with the writes of the same
series) and the points that replace them — in one transaction, then marks the athletes whose
daily load must be recomputed. The CLI's ``sessions delete``/``reassign`` and ``reprocess`` call
these (sensorhub/cli/fixes.py).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from drivers.archive import ArchiveError

from . import load as loadlib
from .pipeline import Pipeline
from .recorder import delete_lines, local_day, session_id, session_line
from .sources import IngestedSource, SessionRecord, SourceError, archive
from .store.journal import SessionRow


class Corrections:
    """Corrections on the journal of ``pipe`` (its kinds re-read sources from disk)."""

    def __init__(self, pipe: Pipeline) -> None:
        self.pipe = pipe

    def reread(self, row: SessionRow) -> SessionRecord | None:
        """The session as its source gives it now (the file, ``.gz`` or archive member at the
        stored path, decoded again); None when the source is no longer on disk or readable."""
        source = self.pipe.journal.source(row.source_id) if row.source_id is not None else None
        if source is None:
            return None
        kind = next((k for k in self.pipe.kinds if k.name == source["kind"]), None)
        path = Path(source["path"])
        try:
            data = archive.read_input(path)
            inner = archive.strip_gz(str(archive.inner_path(path)))
            src = kind.read(PurePosixPath(inner), data, source["sha256"]) if kind else None
        except (OSError, ArchiveError, SourceError):
            return None
        if src is None:
            return None
        key = src.file_id or src.identity
        return next((s for s in src.sessions if session_id(key, s.index) == row.id), None)

    def delete_session(self, prefix: str) -> SessionRow:
        """Remove a session: its row, its points in InfluxDB (deletes through the outbox),
        and its share of the athlete's daily load (recomputed)."""
        row = self.pipe.journal.find_session(prefix)
        kind = self._kind_of(row)
        with self.pipe.journal.transaction():
            self.pipe.journal.delete_session(row.id)
            self.pipe.recorder.enqueue(delete_lines(row, kind))
            self.pipe.journal.mark_dirty(row.athlete, row.day)
        self.pipe.recompute.pending()
        return row

    def reassign_session(self, prefix: str, athlete_id: str) -> tuple[SessionRow, bool]:
        """Give a session to another athlete: its points are deleted under the old athlete
        and written under the new one (the per-second points only when the source can be
        read again: the bool), both athletes' daily load is recomputed."""
        row = self.pipe.journal.find_session(prefix)
        old = SessionRow(**{**row.__dict__})
        new = self.pipe.cfg.athlete(athlete_id)
        row.athlete, row.day = new.id, local_day(row.start, new.tz)
        again = self.reread(old)
        lines = self.pipe.recorder.session_lines(row, again) if again else {}
        lines["session"] = [session_line(row)]
        with self.pipe.journal.transaction():
            self.pipe.journal.reassign_session(row.id, row.athlete, row.day)
            self.pipe.recorder.enqueue(delete_lines(old, self._kind_of(old)))  # own batches, first
            self.pipe.recorder.enqueue(lines)
            self.pipe.journal.mark_dirty(old.athlete, old.day)
            self.pipe.journal.mark_dirty(row.athlete, row.day)
        self.pipe.recompute.pending()
        return row, again is not None

    def reprocess(self, athlete: str | None = None) -> tuple[int, int]:
        """Recompute TRIMP and session load of stored sessions under the current configuration
        (HR limits, load method), from the heart rate of their sources re-read from disk; the
        days after are recomputed. Returns (sessions recomputed, sources no longer on disk)."""
        done = missing = 0
        for row in self.pipe.journal.session_rows(athlete):
            again = self.reread(row)
            if again is None:
                missing += 1
                continue
            a = self.pipe.cfg.athlete(row.athlete)
            src = IngestedSource(self._kind_of(row), "", "", [again])
            fresh = self.pipe.recorder.session_row(
                src, again, a, self.pipe.recorder.hr_limits(a, None)
            )
            fresh.id, fresh.source_id, fresh.partial = row.id, row.source_id, row.partial
            fresh.rpe, fresh.pain, fresh.summary = row.rpe, row.pain, row.summary
            if row.rpe is not None:
                srpe = loadlib.srpe(row.rpe, (fresh.duration_s or 0.0) / 60.0)
                fresh.load, fresh.load_method = loadlib.session_load(
                    trimp=fresh.trimp,
                    srpe=srpe,
                    duration_min=(fresh.duration_s or 0.0) / 60.0,
                    primary=self.pipe.cfg.load_primary,
                )
            if (fresh.trimp, fresh.load, fresh.load_method) == (
                row.trimp,
                row.load,
                row.load_method,
            ):
                continue
            with self.pipe.journal.transaction():
                self.pipe.journal.update_session(
                    row.id, trimp=fresh.trimp, load=fresh.load, load_method=fresh.load_method
                )
                self.pipe.recorder.enqueue({"session": [session_line(fresh)]})
                self.pipe.journal.mark_dirty(row.athlete, row.day)
            done += 1
        self.pipe.recompute.pending()
        return done, missing

    def _kind_of(self, row: SessionRow) -> str:
        source = self.pipe.journal.source(row.source_id) if row.source_id is not None else None
        return source["kind"] if source is not None else ""
