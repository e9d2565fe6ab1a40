"""The one place an :class:`~sensorhub.sources.IngestedSource` becomes stored results.

:meth:`Recorder.record` stores a source in one journal transaction: the source row, its
sessions (session load computed the same way for every kind: Banister TRIMP from the
athlete's HR limits — configured, else reported by the device, else remembered from an
earlier file — falling back to duration; Foster's sRPE once an RPE is logged), its points
through :mod:`sensorhub.store.lineprotocol` into the outbox, and a durable mark that the
athlete's daily load must be recomputed (cleared by :mod:`sensorhub.recompute` when that
recompute commits). A crash at any point leaves either all of it or none of it.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass, field

import pandas as pd

from . import faultpoints
from . import load as loadlib
from .config import Athlete, Config
from .sources import HrLimits, IngestedSource, SessionRecord
from .store import Journal, frame_to_lines, point_line
from .store.journal import SessionRow


@dataclass
class Recorded:
    """What :meth:`Recorder.record` did with a source."""

    status: str  # stored | duplicate
    athlete: str = ""
    sessions: list[SessionRow] = field(default_factory=list)
    points: int = 0
    message: str = ""


class Recorder:
    """Store sources for ``cfg`` in ``journal``.

    Args:
        athlete: the athlete every source goes to (``--athlete``); otherwise the source's
            own athlete, then a configured device serial/address, then ``default_athlete``.
    """

    def __init__(self, cfg: Config, journal: Journal, athlete: str | None = None) -> None:
        self.cfg = cfg
        self.journal = journal
        self.athlete_override = athlete

    def record(self, src: IngestedSource) -> Recorded:
        """Store ``src`` (one transaction); a source already stored is a no-op."""
        if self.journal.source_by_sha(src.identity):
            return Recorded("duplicate", message="already ingested (same bytes)")
        if src.file_id and self.journal.source_by_file_id(src.file_id):
            return Recorded(
                "duplicate", message=f"already ingested (same FIT file_id {src.file_id})"
            )
        athlete = self.resolve_athlete(src)
        rows, lines = [], {}
        limits = self.hr_limits(athlete, src.hr_limits)
        for s in src.sessions:
            row = self.session_row(src, s, athlete, limits)
            rows.append(row)
            for measurement, ls in self.session_lines(row, s).items():
                lines.setdefault(measurement, []).extend(ls)
        try:
            return self._store(src, athlete, rows, lines)
        except sqlite3.IntegrityError:
            # another process stored the same source between our check and our insert
            if self.journal.source_by_sha(src.identity) or (
                src.file_id and self.journal.source_by_file_id(src.file_id)
            ):
                return Recorded("duplicate", message="already ingested (by another process)")
            raise

    def _store(
        self, src: IngestedSource, athlete: Athlete, rows: list[SessionRow], lines: dict
    ) -> Recorded:
        with self.journal.transaction():
            source_id = self.journal.add_source(
                path=src.path,
                sha256=src.identity,
                fit_file_id=src.file_id,
                kind=src.kind,
                athlete=athlete.id,
                ingested_at=pd.Timestamp.now(tz="UTC").isoformat(),
                n_sessions=len(rows),
                n_records=src.n_records,
                partial=int(src.partial),
                message=src.error or "; ".join(src.warnings) or None,
            )
            for row in rows:
                row.source_id = source_id
                self.journal.add_session(row)
            for extra in src.extras:
                for series in extra.store(self.journal, athlete.id, source_id):
                    tags = {"athlete": athlete.id, **series.tags}
                    lines.setdefault(series.measurement, []).extend(
                        frame_to_lines(series.measurement, series.frame, tags)
                    )
            n_points = self.enqueue(lines)
            if rows:
                self.journal.mark_dirty(athlete.id, min(r.day for r in rows))
            if src.hr_limits and (src.hr_limits.rest or src.hr_limits.max):
                hl = src.hr_limits
                self.journal.set_device_hr(athlete.id, hl.rest, hl.max, hl.sex)
            faultpoints.checkpoint("record.before_commit")
        faultpoints.checkpoint("record.after_commit")
        return Recorded("stored", athlete.id, rows, n_points)

    # -- athletes -----------------------------------------------------------------
    def resolve_athlete(self, src: IngestedSource) -> Athlete:
        """``--athlete`` wins, then the source's own athlete, a configured device, the default."""
        if self.athlete_override:
            return self.cfg.athlete(self.athlete_override)
        if src.athlete:
            return self.cfg.athlete(src.athlete)
        for device in src.devices:
            a = self.cfg.athlete_for_device(device)
            if a:
                return a
        return self.cfg.athlete(self.cfg.default_athlete)

    def hr_limits(self, athlete: Athlete, reported: HrLimits | None) -> HrLimits:
        """HR rest/max and sex for TRIMP: the athlete's config first, then what this source's
        device reported, then what an earlier device reported for this athlete."""
        known = HrLimits(*self.journal.device_hr(athlete.id))
        reported = reported or HrLimits()
        rest = athlete.hr_rest or reported.rest or known.rest
        hr_max = athlete.hr_max or reported.max or known.max
        configured = athlete.hr_rest is not None or athlete.hr_max is not None
        sex = athlete.sex if configured else (reported.sex or known.sex or athlete.sex)
        if rest and hr_max and hr_max <= rest:
            rest = hr_max = None
        return HrLimits(rest, hr_max, sex)

    # -- sessions -----------------------------------------------------------------
    def session_row(
        self, src: IngestedSource, s: SessionRecord, athlete: Athlete, limits: HrLimits
    ) -> SessionRow:
        """The journal row of one session, with its session load."""
        trimp = None
        if limits.rest and limits.max and s.hr_bpm is not None and s.hr_bpm.notna().any():
            trimp = loadlib.trimp_banister(s.hr_bpm, limits.rest, limits.max, limits.sex or "male")
        duration_s = s.summary.get("duration_s")
        load, method = loadlib.session_load(
            trimp=trimp, duration_min=(duration_s or 0.0) / 60.0, primary=self.cfg.load_primary
        )
        return SessionRow(
            id=session_id(src.file_id or src.identity, s.index),
            athlete=athlete.id,
            sport=s.sport,
            sub_sport=s.sub_sport,
            start=s.start,
            end=s.end,
            day=local_day(s.start, athlete.tz),
            duration_s=duration_s,
            distance_m=s.summary.get("distance_m"),
            trimp=trimp,
            load=load,
            load_method=method,
            partial=src.partial,
            summary=dict(s.summary),
        )

    def session_lines(self, row: SessionRow, s: SessionRecord) -> dict[str, list[str]]:
        """Line protocol of a session: its series and its ``session`` point."""
        out: dict[str, list[str]] = {}
        for series in s.series:
            tags = {"athlete": row.athlete, **series.tags}
            out.setdefault(series.measurement, []).extend(
                frame_to_lines(series.measurement, series.frame, tags)
            )
        out["session"] = [session_line(row)]
        return out

    def enqueue(self, lines: dict[str, list[str]]) -> int:
        n = 0
        for measurement, ls in lines.items():
            self.journal.outbox.enqueue(measurement, ls, self.cfg.influx.batch_points)
            n += sum(1 for ln in ls if ln)
        return n

    # -- RPE and pain -------------------------------------------------------------
    def log(self, prefix: str, rpe: float | None = None, pain: float | None = None) -> SessionRow:
        """Record RPE (CR-10) and/or pain (0–10) for a session; its load is recomputed and the
        athlete marked for a daily-load recompute."""
        for name, v in (("rpe", rpe), ("pain", pain)):
            if v is not None and not 0 <= v <= 10:
                raise ValueError(f"{name} must be between 0 and 10, not {v}")
        s = self.journal.find_session(prefix)
        s.rpe = rpe if rpe is not None else s.rpe
        s.pain = pain if pain is not None else s.pain
        duration_min = (s.duration_s or 0.0) / 60.0
        srpe = loadlib.srpe(s.rpe, duration_min) if s.rpe is not None else None
        s.load, s.load_method = loadlib.session_load(
            trimp=s.trimp, srpe=srpe, duration_min=duration_min, primary=self.cfg.load_primary
        )
        fields = {"rpe": s.rpe, "pain": s.pain, "srpe": srpe, "load": s.load}
        fields["load_method"] = s.load_method
        line = point_line("session", {"athlete": s.athlete, "sport": s.sport}, fields, s.start)
        with self.journal.transaction():
            self.journal.update_session(
                s.id, rpe=s.rpe, pain=s.pain, load=s.load, load_method=s.load_method
            )
            self.journal.outbox.enqueue("session", [line], self.cfg.influx.batch_points)
            self.journal.mark_dirty(s.athlete, s.day)
        return s


def session_line(row: SessionRow) -> str | None:
    """The ``session`` point of a row (tags athlete, sport), at the session's start."""
    fields = {
        **row.summary,
        "trimp": row.trimp,
        "load": row.load,
        "load_method": row.load_method,
        "session_id": row.id,
        "partial": bool(row.partial),
    }
    return point_line("session", {"athlete": row.athlete, "sport": row.sport}, fields, row.start)


def session_id(identity: str, index: int) -> str:
    """A stable id: the same file gives the same ids whatever its path."""
    return hashlib.sha1(f"{identity}#{index}".encode()).hexdigest()[:12]


def local_day(t: pd.Timestamp, tz: str) -> str:
    return t.tz_convert(tz).strftime("%Y-%m-%d")
