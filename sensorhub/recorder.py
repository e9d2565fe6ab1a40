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
from dataclasses import dataclass, field

import pandas as pd

from . import faultpoints
from . import load as loadlib
from .config import Athlete, Config
from .sources import HrLimits, IngestedSource, SessionRecord
from .store import ConflictError, Journal, frame_to_lines, point_line
from .store.journal import Row, SessionRow
from .store.lineprotocol import INFLUXQL_MARK, epoch_ms
from .summary import DYNAMICS


@dataclass
class Recorded:
    """What :meth:`Recorder.record` did with a source."""

    status: str  # stored | duplicate
    athlete: str = ""
    sessions: list[SessionRow] = field(default_factory=list)
    points: int = 0
    message: str = ""
    kept: list[str] = field(default_factory=list)  # stored sessions this source duplicates


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
        self._no_trimp: dict[str, str] = {}  # athlete -> why TRIMP could not be computed
        self._told: set[str] = set()  # athletes already told why (once per run)

    def record(self, src: IngestedSource) -> Recorded:
        """Store ``src`` (one transaction); a source already stored is a no-op.

        A session that is the same activity as a stored one (:func:`same_activity`) is kept
        once: the richer copy (:func:`richness`) stays, the other is recorded as its
        duplicate; a richer new copy replaces the stored one (its points are deleted through
        the outbox before the new ones are queued, and its athlete is marked for recompute).
        """
        known = self.journal.source_by_sha(src.identity)
        if known:
            return Recorded(
                "duplicate",
                message="already ingested (same bytes)",
                kept=self.sessions_of(known["id"]),
            )
        athlete = self.resolve_athlete(src)
        limits = self.hr_limits(athlete, src.hr_limits)
        plan = self.dedup(src, athlete.id)
        rows, lines = [], {}
        for s in src.sessions:
            if s.index in plan.dropped:
                continue
            row = self.session_row(src, s, athlete, limits)
            rows.append(row)
            for measurement, ls in self.session_lines(row, s).items():
                lines.setdefault(measurement, []).extend(ls)
        try:
            done = self._store(src, athlete, rows, lines, plan)
        except ConflictError:
            # another process stored the same source between our check and our insert
            if self.journal.source_by_sha(src.identity):
                return Recorded("duplicate", message="already ingested (by another process)")
            raise
        kept = sorted(set(plan.dropped.values()))
        done.kept = kept
        if src.sessions and not rows:
            done.status = "duplicate"
        if kept:
            done.message = "duplicate of " + ", ".join(kept)
        if plan.replaced:
            replaced = ", ".join(r.id for r, _ in plan.replaced)
            done.message = "; ".join(filter(None, [done.message, f"replaces {replaced}"]))
        return done

    def sessions_of(self, source_id: int) -> list[str]:
        """Ids of a stored source's sessions, or of the sessions it duplicates."""
        own = [r.id for r in self.journal.sessions_of_source(source_id)]
        row = self.journal.source(source_id)
        dup = row["duplicate_of"] if row is not None and "duplicate_of" in row.keys() else None  # noqa: SIM118
        return own + [i for i in (dup or "").split(",") if i and i not in own]

    def _store(
        self,
        src: IngestedSource,
        athlete: Athlete,
        rows: list[SessionRow],
        lines: dict,
        plan: DedupPlan | None = None,
    ) -> Recorded:
        plan = plan or DedupPlan()
        with self.journal.transaction():
            self._replace(plan)  # first: a replaced source gives up its FIT file_id
            source_id = self.journal.add_source(
                path=src.path,
                sha256=src.identity,
                fit_file_id=None if plan.file_id_taken else src.file_id,
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
            if plan.dropped:
                self.journal.mark_duplicate(source_id, sorted(set(plan.dropped.values())))
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
        why = self._no_trimp.get(athlete.id)
        if why and athlete.id not in self._told:  # say it once, not for every file
            self._told.add(athlete.id)
            return Recorded("stored", athlete.id, rows, n_points, message=why)
        return Recorded("stored", athlete.id, rows, n_points)

    # -- one activity, one session ------------------------------------------------------
    def dedup(self, src: IngestedSource, athlete: str) -> DedupPlan:
        """Which new sessions duplicate stored ones, and which stored ones they replace."""
        plan = DedupPlan()
        if src.kind not in ACTIVITY_KINDS:
            return plan
        replaced: dict[str, tuple[SessionRow, Row, str]] = {}
        for s in src.sessions:
            new_rank = richness(s.summary, src.partial, src.file_id)
            dups = [
                (row, source)
                for row, source in self.journal.sessions_near(athlete, s.start, s.end)
                if source is not None
                and source["kind"] in ACTIVITY_KINDS
                and row.id not in replaced
                and same_activity(s, row)
            ]
            if not dups:
                continue
            best = max(
                dups, key=lambda d: richness(d[0].summary, d[0].partial, d[1]["fit_file_id"])
            )
            best_rank = richness(best[0].summary, best[0].partial, best[1]["fit_file_id"])
            if new_rank > best_rank:
                new_id = session_id(src.file_id or src.identity, s.index)
                for row, source in dups:
                    replaced[row.id] = (row, source, new_id)
            else:
                plan.dropped[s.index] = best[0].id
        plan.replaced = [(row, (source, new_id)) for row, source, new_id in replaced.values()]
        if src.file_id:
            other = self.journal.source_by_file_id(src.file_id)
            gone = {source["id"] for _, (source, _) in plan.replaced}
            survivors = other is not None and (
                other["id"] not in gone
                or len(self.journal.sessions_of_source(other["id"]))
                > sum(1 for _, (so, _) in plan.replaced if so["id"] == other["id"])
            )
            plan.file_id_taken = bool(other is not None and survivors)
            plan.release_file_id = other is not None and not survivors
        return plan

    def _replace(self, plan: DedupPlan) -> None:
        """Delete the stored sessions a richer copy replaces: rows, then their points."""
        for old, (source, new_id) in plan.replaced:
            release = plan.release_file_id and source["fit_file_id"] is not None
            self.journal.delete_session(old.id)
            self.enqueue(delete_lines(old, source["kind"]))
            self.journal.mark_duplicate(source["id"], [new_id], release_file_id=release)
            self.journal.mark_dirty(old.athlete, old.day)

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
        has_hr = s.hr_bpm is not None and s.hr_bpm.notna().any()
        if limits.rest and limits.max and has_hr:
            trimp = loadlib.trimp_banister(s.hr_bpm, limits.rest, limits.max, limits.sex or "male")
        elif has_hr and self.cfg.load_primary == "trimp":
            missing = " and ".join(
                n for n, v in (("hr_rest", limits.rest), ("hr_max", limits.max)) if not v
            )
            self._no_trimp[athlete.id] = (
                f"no HR limits for {athlete.id}: set {missing} in the config for TRIMP "
                "(load falls back to another method until then)"
            )
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
            n += sum(map(bool, ls))  # lines that are there (not None or empty)
        return n

    # -- what the athlete typed in elsewhere (Strava) -----------------------------------
    def annotate(self, session: str, fields: dict) -> int:
        """Add ``name``, ``activity_type``, ``note`` to a session's summary and log its
        ``rpe`` through :meth:`log` (load recomputed); 1 when anything changed, else 0."""
        row = self.journal.session(session)
        if row is None:
            return 0
        text = {k: v for k, v in fields.items() if k != "rpe" and row.summary.get(k) != v}
        rpe = fields.get("rpe")
        changed = 0
        if rpe is not None and row.rpe != rpe:
            row = self.log(row.id, rpe=rpe)
            changed = 1
        if text:
            row.summary.update(text)
            with self.journal.transaction():
                self.journal.update_session(row.id, summary=row.summary)
                self.journal.outbox.enqueue(
                    "session", [session_line(row)], self.cfg.influx.batch_points
                )
            changed = 1
        return changed

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
        # the span in Unix ms: the Run board's session variables select on these
        "start_ms": epoch_ms(row.start),
        "end_ms": epoch_ms(row.end),
    }
    return point_line("session", {"athlete": row.athlete, "sport": row.sport}, fields, row.start)


def session_id(identity: str, index: int) -> str:
    """A stable id: the same file gives the same ids whatever its path."""
    return hashlib.sha1(f"{identity}#{index}".encode()).hexdigest()[:12]


def local_day(t: pd.Timestamp, tz: str) -> str:
    return t.tz_convert(tz).strftime("%Y-%m-%d")


#: Kinds whose sessions are recordings of one activity (a watch's file and its exports).
ACTIVITY_KINDS = frozenset({"fit", "tcx", "gpx"})
#: Marks an outbox line as an InfluxQL statement for ``/query`` (not line protocol). To a
#: writer that does not know it the line is a line-protocol comment: InfluxDB answers 204
#: and ignores it (the delete is then not applied; see docs/schema.md "Corrections").
MAX_SHIFT_H = 14  # time-zone errors: whole hours, at most UTC-12…UTC+14
SHIFT_TOLERANCE_S = 5.0


@dataclass
class DedupPlan:
    """What :meth:`Recorder.dedup` decided for a new source."""

    dropped: dict[int, str] = field(default_factory=dict)  # new session index -> kept id
    replaced: list = field(default_factory=list)  # (old row, (its source row, new id))
    file_id_taken: bool = False  # a stored source keeps this FIT file_id
    release_file_id: bool = False  # the stored source with it is replaced entirely


def same_activity(s: SessionRecord, row: SessionRow) -> bool:
    """Whether a new session and a stored one (same athlete) are one activity recorded twice.

    Either their time spans overlap by at least half of the shorter one, with the same sport
    (``generic`` matches any: exports lose the sport), or their fingerprints agree —
    duration within 2 s, record count within 2, distance within 0.5 % (or 10 m), mean HR
    within 0.5 bpm — and their starts differ by whole hours (1…14 h, ± 5 s): an exporter's
    time-zone error, as GoldenCheetah's re-save of a Garmin file two hours off.
    """
    if not (s.sport == row.sport or "generic" in (s.sport, row.sport)):
        return False
    overlap = (min(s.end, row.end) - max(s.start, row.start)).total_seconds()
    shorter = min((s.end - s.start).total_seconds(), (row.end - row.start).total_seconds())
    if overlap > 0 and overlap >= 0.5 * max(shorter, 1.0):
        return True
    shift_s = (s.start - row.start).total_seconds()
    hours = round(shift_s / 3600)
    if not 1 <= abs(hours) <= MAX_SHIFT_H or abs(shift_s - hours * 3600) > SHIFT_TOLERANCE_S:
        return False
    return fingerprint_match(s.summary, row.summary)


def fingerprint_match(a: dict, b: dict) -> bool:
    """Duration, record count, distance and mean HR of two summaries agree (see above);
    distance and HR count when both summaries have them, and one of them must."""

    def close(key: str, tol: float, rel: float = 0.0) -> bool:
        x, y = a[key], b[key]
        return abs(x - y) <= max(tol, rel * max(abs(x), abs(y)))

    if any(k not in a or k not in b for k in ("duration_s", "records")):
        return False
    if not (close("duration_s", 2.0) and close("records", 2.0)):
        return False
    tolerances = {"distance_m": (10.0, 0.005), "hr_avg_bpm": (0.5, 0.0)}
    shared = [k for k in tolerances if k in a and k in b]
    return bool(shared) and all(close(k, *tolerances[k]) for k in shared)


def richness(summary: dict, partial: bool, file_id: str | None) -> tuple:
    """How complete a copy is, compared as a tuple (larger is richer): complete before
    partial; more running dynamics and power fields (developer fields such as Stryd's
    included, :data:`sensorhub.summary.DYNAMICS`); a real device (a FIT file_id with a
    serial number) before an export; more records; more summary fields."""
    serial = (file_id or "").split("/")
    device = len(serial) > 2 and serial[2] not in ("", "0")
    dynamics = sum(1 for k in DYNAMICS if k in summary)
    return (not partial, dynamics, device, int(summary.get("records", 0)), len(summary))


def delete_lines(row: SessionRow, kind: str) -> dict[str, list[str]]:
    """InfluxQL deletes of a stored session's points, by the series they were written to
    (outbox order: a delete is sent after older writes of its series, before newer ones).

    ``run`` points by athlete, sport and source within the session's span (FIT/TCX/GPX),
    ``stride`` points by athlete within the span (IMU), the ``session`` point at its start.
    """
    lo, hi = _ns(row.start), _ns(row.end)
    a, sp = _q(row.athlete), _q(row.sport)
    span = f"time >= {lo} AND time <= {hi}"
    out: dict[str, list[str]] = {}
    if kind in ACTIVITY_KINDS:
        out["run"] = [
            f'DELETE FROM "run" WHERE "athlete"={a} AND "sport"={sp} AND "source"={_q(kind)} AND {span}'
        ]
    elif kind == "imu":
        out["stride"] = [f'DELETE FROM "stride" WHERE "athlete"={a} AND {span}']
    else:
        out["run"] = [f'DELETE FROM "run" WHERE "athlete"={a} AND "sport"={sp} AND {span}']
    out["session"] = [f'DELETE FROM "session" WHERE "athlete"={a} AND "sport"={sp} AND time = {lo}']
    return {m: [INFLUXQL_MARK + q for q in qs] for m, qs in out.items()}


def _ns(t: pd.Timestamp) -> int:
    return int(pd.Timestamp(t).as_unit("ns").value)


def _q(text: str) -> str:
    """An InfluxQL string literal."""
    return "'" + str(text).replace("\\", "\\\\").replace("'", "\\'") + "'"
