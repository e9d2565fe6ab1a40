"""The journal: SQLite (WAL) in the state directory — the embedded default — or PostgreSQL.

It holds every ingested source (by sha256 and FIT file_id, so re-ingesting a file is a
no-op), sessions with their summaries, daily load per athlete, the HR limits devices reported,
the durable "recompute this athlete" marks, alerts and their webhook queue
(:mod:`sensorhub.store.alerts`), and the outbox of line-protocol batches not yet acknowledged
by InfluxDB (:mod:`sensorhub.store.outbox`). No SQL lives outside ``sensorhub/store``.

Both backends run the same SQL (:mod:`sensorhub.store.dialect` holds what differs) on the
connections of :mod:`sensorhub.store.backends`; the location is a path or ``sqlite:///…``
(SQLite) or a ``postgresql://`` URL (docs/scale.md).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .alerts import ALERT_SCHEMA, AlertStore
from .backends import (
    ConflictError,
    PgDb,
    PgTarget,
    Row,
    SqliteDb,
    StoreError,
    connect,
    parse_target,
    sqlite_error,
)
from .diary import DIARY_SCHEMA, Diary
from .outbox import Outbox
from .readiness import READINESS_SCHEMA, ReadinessStore

__all__ = ["ConflictError", "Journal", "PgTarget", "Row", "SessionRow", "StoreError"]

# a template: {pk}, {int}, {real} are the backend's column types (sensorhub.store.dialect)
SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    id {pk},
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    fit_file_id TEXT UNIQUE,
    kind TEXT NOT NULL,
    athlete TEXT,
    ingested_at TEXT NOT NULL,
    n_sessions {int} NOT NULL,
    n_records {int} NOT NULL,
    partial {int} NOT NULL DEFAULT 0,
    message TEXT
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    source_id {int} NOT NULL REFERENCES sources(id),
    athlete TEXT NOT NULL,
    sport TEXT NOT NULL,
    sub_sport TEXT,
    start TEXT NOT NULL,
    "end" TEXT NOT NULL,
    day TEXT NOT NULL,
    duration_s {real},
    distance_m {real},
    trimp {real},
    rpe {real},
    pain {real},
    load {real},
    load_method TEXT,
    partial {int} NOT NULL DEFAULT 0,
    summary TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_athlete_day ON sessions(athlete, day);
CREATE TABLE IF NOT EXISTS daily_load (
    athlete TEXT NOT NULL,
    day TEXT NOT NULL,
    values_json TEXT NOT NULL,
    PRIMARY KEY (athlete, day)
);
CREATE TABLE IF NOT EXISTS device_hr (
    athlete TEXT PRIMARY KEY,
    hr_rest {real},
    hr_max {real},
    sex TEXT,
    seen_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dirty (
    athlete TEXT PRIMARY KEY,
    since_day TEXT NOT NULL,
    marks {int} NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value {int} NOT NULL
);
"""

SOURCE_COLUMNS = (
    "path",
    "sha256",
    "fit_file_id",
    "kind",
    "athlete",
    "ingested_at",
    "n_sessions",
    "n_records",
    "partial",
    "message",
)
SESSION_COLUMNS = (
    "id",
    "source_id",
    "athlete",
    "sport",
    "sub_sport",
    "start",
    "end",
    "day",
    "duration_s",
    "distance_m",
    "trimp",
    "rpe",
    "pain",
    "load",
    "load_method",
    "partial",
    "summary",
)


@dataclass
class SessionRow:
    """One stored session. Times are UTC; ``day`` is the athlete's local calendar day;
    ``summary`` holds the SI-named numbers of the ``session`` measurement (docs/schema.md)."""

    id: str
    athlete: str
    sport: str
    start: pd.Timestamp
    end: pd.Timestamp
    day: str
    sub_sport: str = ""
    source_id: int | None = None
    duration_s: float | None = None
    distance_m: float | None = None
    trimp: float | None = None
    rpe: float | None = None
    pain: float | None = None
    load: float | None = None
    load_method: str | None = None
    partial: bool = False
    summary: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_db(cls, r: Row) -> SessionRow:
        d = dict(r)
        d["start"] = pd.Timestamp(d["start"])
        d["end"] = pd.Timestamp(d["end"])
        d["partial"] = bool(d["partial"])
        d["summary"] = json.loads(d["summary"])
        return cls(**d)

    def db_values(self) -> tuple:
        d = {k: getattr(self, k) for k in SESSION_COLUMNS}
        d["start"], d["end"] = self.start.isoformat(), self.end.isoformat()
        d["partial"] = int(self.partial)
        d["summary"] = json.dumps(self.summary, default=str, sort_keys=True)
        return tuple(d[k] for k in SESSION_COLUMNS)


store_error = sqlite_error  # the SQLite failure as one line (kept under its old name)


class AmbiguousSession(KeyError):
    """A session id prefix that matches no session, or several."""


MIN_ID_PREFIX = 4


class Journal:
    """The journal; one connection per instance, transactions with :meth:`transaction`.

    ``where``: a path or ``sqlite:///path`` (SQLite), or a ``postgresql://`` URL. Opening a
    second instance on the same place is cheap on both backends (the PostgreSQL schema is
    checked with one query), e.g. for a shipping thread's own connection.
    """

    def __init__(self, where: str | Path | PgTarget) -> None:
        target = parse_target(where)
        self.path: Path | PgTarget = target
        self.db: SqliteDb | PgDb = connect(target)
        try:
            self._open()
        except sqlite3.Error as exc:  # e.g. a filesystem turned read-only, a full disk
            self.db.close()
            raise sqlite_error(exc, Path(str(target))) from None
        except BaseException:
            self.db.close()
            raise

    def _open(self) -> None:
        db = self.db
        if not db.schema_current():
            with db.schema_transaction():
                db.script(SCHEMA + ALERT_SCHEMA + DIARY_SCHEMA + READINESS_SCHEMA)
                Outbox.create_schema(db)
                if isinstance(db, PgDb):  # no ALTER TABLE later, inside a busy server's writes
                    db.add_column("sources", "duplicate_of", "TEXT")
                db.mark_schema()
        self._has_duplicate_of = isinstance(db, PgDb)
        self._session_upsert = db.dialect.replace_into("sessions", SESSION_COLUMNS, ("id",))
        self.outbox = Outbox(db)
        self.alerts = AlertStore(self)
        self.diary = Diary(self)
        self.readiness = ReadinessStore(self)

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.db.dialect.name

    def reopen(self) -> Journal:
        """A second journal (own connection) on the same store."""
        return Journal(self.path)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[SqliteDb | PgDb]:
        """One write transaction (SQLite ``BEGIN IMMEDIATE``; PostgreSQL with the writers'
        lock, :mod:`sensorhub.store.backends`); a database failure becomes a
        :class:`StoreError`, a uniqueness conflict a :class:`ConflictError`."""
        with self.db.transaction() as db:
            yield db

    # -- sources ---------------------------------------------------------------
    def source_by_sha(self, sha256: str) -> Row | None:
        return self.db.execute("SELECT * FROM sources WHERE sha256=?", (sha256,)).fetchone()

    def source_by_file_id(self, file_id: str) -> Row | None:
        return self.db.execute("SELECT * FROM sources WHERE fit_file_id=?", (file_id,)).fetchone()

    def source(self, source_id: int) -> Row | None:
        return self.db.execute("SELECT * FROM sources WHERE id=?", (source_id,)).fetchone()

    def add_source(self, **row: Any) -> int:
        unknown = set(row) - set(SOURCE_COLUMNS)
        if unknown:
            raise ValueError(f"unknown source columns {sorted(unknown)}")
        cols = ",".join(row)
        marks = ",".join("?" for _ in row)
        return self.db.insert(f"INSERT INTO sources ({cols}) VALUES ({marks})", tuple(row.values()))

    def source_counts(self) -> tuple[int, int]:
        """(sources, of which partial)."""
        r = self.db.execute("SELECT COUNT(*), COALESCE(SUM(partial),0) FROM sources").fetchone()
        return int(r[0]), int(r[1])

    # -- sessions --------------------------------------------------------------
    def add_session(self, row: SessionRow) -> None:
        self.db.execute(self._session_upsert, row.db_values())

    def session_rows(self, athlete: str | None = None) -> list[SessionRow]:
        sql = "SELECT * FROM sessions" + (" WHERE athlete=?" if athlete else "") + " ORDER BY start"
        return [SessionRow.from_db(r) for r in self.db.execute(sql, (athlete,) if athlete else ())]

    def sessions(self, athlete: str | None = None) -> pd.DataFrame:
        """Sessions as a table, oldest first (``summary`` holds each session's dict)."""
        rows = self.db.execute(
            "SELECT * FROM sessions" + (" WHERE athlete=?" if athlete else "") + " ORDER BY start",
            (athlete,) if athlete else (),
        ).fetchall()
        df = pd.DataFrame([dict(r) for r in rows])
        if not df.empty:
            df["summary"] = [json.loads(s) for s in df["summary"]]
        return df

    def session_table(self, athlete: str | None = None) -> pd.DataFrame:
        """Sessions with their summary fields as columns (``summary.`` fields that share a name
        with a session column are left out), ``start`` as UTC timestamps."""
        df = self.sessions(athlete)
        if df.empty:
            return df
        summ = pd.DataFrame(list(df["summary"]), index=df.index)
        summ = summ[[c for c in summ.columns if c not in df.columns]]
        out = pd.concat([df.drop(columns="summary"), summ], axis=1)
        out["start"] = pd.to_datetime(out["start"], utc=True, format="ISO8601")
        out["end"] = pd.to_datetime(out["end"], utc=True, format="ISO8601")
        return out

    def session(self, session_id: str) -> SessionRow | None:
        r = self.db.execute("SELECT * FROM sessions WHERE id=?", (session_id,)).fetchone()
        return SessionRow.from_db(r) if r else None

    def find_session(self, prefix: str) -> SessionRow:
        """The one session whose id starts with ``prefix`` (at least 4 characters, no wildcards:
        ``%`` and ``_`` match themselves); :class:`AmbiguousSession` otherwise."""
        prefix = prefix.strip().lower()
        if len(prefix) < MIN_ID_PREFIX:
            raise AmbiguousSession(
                f"session id {prefix!r}: give at least {MIN_ID_PREFIX} characters"
            )
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self.db.execute(
            "SELECT * FROM sessions WHERE id LIKE ? ESCAPE '\\' ORDER BY start LIMIT 3",
            (escaped + "%",),
        ).fetchall()
        if len(rows) != 1:
            what = "no session" if not rows else "several sessions"
            raise AmbiguousSession(f"{what} match {prefix!r} (see `sensorhub sessions`)")
        return SessionRow.from_db(rows[0])

    def update_session(self, session_id: str, **values: Any) -> None:
        unknown = set(values) - set(SESSION_COLUMNS)
        if unknown:
            raise ValueError(f"unknown session columns {sorted(unknown)}")
        if "summary" in values:
            values["summary"] = json.dumps(values["summary"], default=str, sort_keys=True)
        sets = ",".join(f'"{k}"=?' for k in values)
        self.db.execute(f"UPDATE sessions SET {sets} WHERE id=?", (*values.values(), session_id))

    def athletes(self) -> list[str]:
        return [
            r[0] for r in self.db.execute("SELECT DISTINCT athlete FROM sessions ORDER BY athlete")
        ]

    def session_count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0])

    # -- HR limits reported by devices -------------------------------------------
    def set_device_hr(
        self, athlete: str, hr_rest: float | None, hr_max: float | None, sex: str | None
    ) -> None:
        """Remember the HR limits a device reported for the athlete (the latest file wins)."""
        self.db.execute(
            "INSERT INTO device_hr VALUES (?,?,?,?,?) ON CONFLICT(athlete) DO UPDATE SET"
            " hr_rest=COALESCE(excluded.hr_rest, device_hr.hr_rest),"
            " hr_max=COALESCE(excluded.hr_max, device_hr.hr_max),"
            " sex=COALESCE(excluded.sex, device_hr.sex), seen_at=excluded.seen_at",
            (athlete, hr_rest, hr_max, sex, pd.Timestamp.now(tz="UTC").isoformat()),
        )

    def device_hr(self, athlete: str) -> tuple[float | None, float | None, str | None]:
        r = self.db.execute(
            "SELECT hr_rest, hr_max, sex FROM device_hr WHERE athlete=?", (athlete,)
        ).fetchone()
        return (r[0], r[1], r[2]) if r else (None, None, None)

    # -- recompute marks -------------------------------------------------------
    def mark_dirty(self, athlete: str, since_day: str) -> None:
        """Durably note that ``athlete``'s daily load must be recomputed from ``since_day``
        (written in the same transaction as the data that made it stale)."""
        least = self.db.dialect.least
        self.db.execute(
            "INSERT INTO dirty VALUES (?,?,1) ON CONFLICT(athlete) DO UPDATE SET"
            f" since_day={least}(dirty.since_day, excluded.since_day), marks=dirty.marks+1",
            (athlete, since_day),
        )

    def dirty(self) -> dict[str, tuple[str, int]]:
        """{athlete: (since_day, marks)} of pending recomputes."""
        return {r[0]: (r[1], r[2]) for r in self.db.execute("SELECT * FROM dirty ORDER BY 1")}

    def clear_dirty(self, athlete: str, marks: int) -> None:
        """Clear the mark if nothing marked it again since it was read (``marks`` unchanged).

        A mark that is gone was cleared by another process's recompute meanwhile, which may
        have read newer sessions than this one (whose table is being stored now): the
        athlete is marked again, so the next recompute (every command finishes pending ones)
        stores the newest table and InfluxDB gets its values last. Never happens in one
        process alone.
        """
        gone = self.db.execute("DELETE FROM dirty WHERE athlete=? AND marks=?", (athlete, marks))
        if gone.rowcount:
            return
        self.db.execute(
            "INSERT INTO dirty SELECT ?, COALESCE(MIN(day), '0001-01-01'), 1 FROM sessions"
            " WHERE athlete=? ON CONFLICT(athlete) DO NOTHING",
            (athlete, athlete),
        )

    # -- daily load ------------------------------------------------------------
    def replace_daily_load(self, athlete: str, table: pd.DataFrame) -> None:
        """Store the athlete's whole daily table (index: day), replacing what was there."""
        self.db.execute("DELETE FROM daily_load WHERE athlete=?", (athlete,))
        if table.empty:
            return
        cols = list(table.columns)
        values = zip(*(table[c].tolist() for c in cols), strict=True)  # column by column: fast
        rows = [
            (athlete, day, json.dumps(dict(zip(cols, map(_value, vals), strict=True))))
            for day, vals in zip(table.index.strftime("%Y-%m-%d"), values, strict=True)
        ]
        self.db.executemany("INSERT INTO daily_load VALUES (?,?,?)", rows)

    def daily_load(self, athlete: str) -> pd.DataFrame:
        """The stored daily table: numeric columns as floats, text columns (a ratio's status)
        as strings; index ``day`` (tz-naive local dates)."""
        rows = self.db.execute(
            "SELECT day, values_json FROM daily_load WHERE athlete=? ORDER BY day", (athlete,)
        ).fetchall()
        if not rows:
            return pd.DataFrame()
        df = pd.DataFrame(
            [json.loads(r[1]) for r in rows], index=pd.to_datetime([r[0] for r in rows])
        )
        df.index.name = "day"
        for c in df.columns:
            col = df[c]  # numbers already (most columns): no per-value check (~0.2 s a season)
            if col.dtype.kind in "fiub" or (
                col.dtype == object
                and col.map(lambda v: v is None or isinstance(v, int | float)).all()
            ):
                df[c] = col.astype(float)
        return df

    # -- counters --------------------------------------------------------------
    def bump(self, name: str, by: int = 1) -> None:
        self.db.execute(
            "INSERT INTO counters VALUES (?, ?) ON CONFLICT(name) DO UPDATE"
            " SET value=counters.value+?",
            (name, by, by),
        )

    def counters(self) -> dict[str, int]:
        return {r[0]: r[1] for r in self.db.execute("SELECT name, value FROM counters")}

    # -- fixing mistakes: duplicates, deletes, reassignment (sensorhub.cli.fixes) ------------
    # ``sources.duplicate_of`` (added by ALTER TABLE on first use, old journals included):
    # the ids of the sessions (comma-separated) that this source's sessions duplicate.
    def _duplicate_column(self) -> None:
        if getattr(self, "_has_duplicate_of", False):
            return
        self.db.add_column("sources", "duplicate_of", "TEXT")
        self._has_duplicate_of = True

    def sessions_near(
        self, athlete: str, start: pd.Timestamp, end: pd.Timestamp, slack_h: float = 15.0
    ) -> list[tuple[SessionRow, Row]]:
        """(session, its source row) of ``athlete`` within ``slack_h`` hours of [start, end]
        (candidates for the same activity stored twice, time-zone shifts included)."""
        lo = (start - pd.Timedelta(hours=slack_h)).isoformat()
        hi = (end + pd.Timedelta(hours=slack_h)).isoformat()
        rows = self.db.execute(
            'SELECT * FROM sessions WHERE athlete=? AND start<? AND "end">? ORDER BY start',
            (athlete, hi, lo),
        ).fetchall()
        return [(SessionRow.from_db(r), self.source(r["source_id"])) for r in rows]

    def mark_duplicate(
        self, source_id: int, kept: list[str], release_file_id: bool = False
    ) -> None:
        """Note that source ``source_id``'s sessions duplicate the sessions ``kept``;
        ``release_file_id``: forget its FIT file_id (a richer copy with it is stored)."""
        self._duplicate_column()
        row = self.db.execute("SELECT duplicate_of FROM sources WHERE id=?", (source_id,))
        old = (row.fetchone() or [None])[0]
        ids = list(dict.fromkeys([*(old.split(",") if old else []), *kept]))
        self.db.execute(
            "UPDATE sources SET duplicate_of=? WHERE id=?", (",".join(ids) or None, source_id)
        )
        if release_file_id:
            self.db.execute("UPDATE sources SET fit_file_id=NULL WHERE id=?", (source_id,))

    def duplicates(self) -> dict[str, list[str]]:
        """{kept session id: paths of the sources recorded as its duplicates}: what the
        ``sessions`` listing shows as "duplicate of …"."""
        self._duplicate_column()
        out: dict[str, list[str]] = {}
        for path, dup in self.db.execute(
            "SELECT path, duplicate_of FROM sources WHERE duplicate_of IS NOT NULL ORDER BY id"
        ):
            for sid in dup.split(","):
                out.setdefault(sid, []).append(path)
        return out

    def sessions_of_source(self, source_id: int) -> list[SessionRow]:
        rows = self.db.execute(
            "SELECT * FROM sessions WHERE source_id=? ORDER BY start", (source_id,)
        ).fetchall()
        return [SessionRow.from_db(r) for r in rows]

    def delete_session(self, session_id: str) -> None:
        """Remove one session (its source row stays: the same bytes stay "already ingested")."""
        row = self.db.execute("SELECT source_id FROM sessions WHERE id=?", (session_id,))
        found = row.fetchone()
        self.db.execute("DELETE FROM sessions WHERE id=?", (session_id,))
        if found:
            self.db.execute(
                "UPDATE sources SET n_sessions=(SELECT COUNT(*) FROM sessions WHERE source_id=?)"
                " WHERE id=?",
                (found[0], found[0]),
            )

    def reassign_session(self, session_id: str, athlete: str, day: str) -> None:
        """Give a session to another athlete (``day``: its local day in their time zone)."""
        self.db.execute(
            "UPDATE sessions SET athlete=?, day=? WHERE id=?", (athlete, day, session_id)
        )

    def athlete_counts(self) -> list[tuple[str, int, str, str]]:
        """(athlete, sessions, first day, last day) of every athlete with sessions."""
        return [
            (r[0], int(r[1]), r[2], r[3])
            for r in self.db.execute(
                "SELECT athlete, COUNT(*), MIN(day), MAX(day) FROM sessions"
                " GROUP BY athlete ORDER BY athlete"
            )
        ]


def _value(v: Any) -> float | str | None:
    """A daily-table cell for JSON: text stays text, numbers become floats, NaN null."""
    if isinstance(v, str):
        return v
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f != f else f
