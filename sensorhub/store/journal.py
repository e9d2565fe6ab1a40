"""The local journal: SQLite (WAL) in the state directory — the embedded default store.

It holds every ingested source (by sha256 and FIT file_id, so re-ingesting a file is a
no-op), sessions with their summaries, daily load per athlete, the HR limits devices reported,
the durable "recompute this athlete" marks, alerts and their webhook queue
(:mod:`sensorhub.store.alerts`), and the outbox of line-protocol batches not yet acknowledged
by InfluxDB (:mod:`sensorhub.store.outbox`). No SQL lives outside ``sensorhub/store``.
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
from .diary import DIARY_SCHEMA, Diary
from .outbox import Outbox
from .readiness import READINESS_SCHEMA, ReadinessStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    fit_file_id TEXT UNIQUE,
    kind TEXT NOT NULL,
    athlete TEXT,
    ingested_at TEXT NOT NULL,
    n_sessions INTEGER NOT NULL,
    n_records INTEGER NOT NULL,
    partial INTEGER NOT NULL DEFAULT 0,
    message TEXT
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES sources(id),
    athlete TEXT NOT NULL,
    sport TEXT NOT NULL,
    sub_sport TEXT,
    start TEXT NOT NULL,
    end TEXT NOT NULL,
    day TEXT NOT NULL,
    duration_s REAL,
    distance_m REAL,
    trimp REAL,
    rpe REAL,
    pain REAL,
    load REAL,
    load_method TEXT,
    partial INTEGER NOT NULL DEFAULT 0,
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
    hr_rest REAL,
    hr_max REAL,
    sex TEXT,
    seen_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dirty (
    athlete TEXT PRIMARY KEY,
    since_day TEXT NOT NULL,
    marks INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
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
    def from_db(cls, r: sqlite3.Row) -> SessionRow:
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


class StoreError(RuntimeError):
    """The journal cannot be used (disk full, not writable, damaged): one line, run stops."""


def store_error(exc: sqlite3.Error, path: Path) -> StoreError:
    """A one-line :class:`StoreError` for an SQLite failure on the journal at ``path``."""
    text = str(exc)
    if "full" in text:
        return StoreError(f"state dir full: free space in {path.parent} ({text})")
    if "readonly" in text or "unable to open" in text or "read-only" in text:
        return StoreError(f"state dir not writable: {path.parent} ({text})")
    return StoreError(f"journal {path}: {text}")


class AmbiguousSession(KeyError):
    """A session id prefix that matches no session, or several."""


MIN_ID_PREFIX = 4


class Journal:
    """SQLite journal; one connection per instance, transactions with :meth:`transaction`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from None
        try:
            self._open()
        except sqlite3.Error as exc:  # e.g. a filesystem turned read-only, a full disk
            self.db.close()
            raise store_error(exc, self.path) from None

    def _open(self) -> None:
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA + ALERT_SCHEMA + DIARY_SCHEMA + READINESS_SCHEMA)
        self.outbox = Outbox(self.db)
        self.alerts = AlertStore(self)
        self.diary = Diary(self)
        self.readiness = ReadinessStore(self)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One SQLite transaction; an SQLite failure becomes a :class:`StoreError`."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                if self.db.in_transaction:  # SQLite may already have rolled back (disk full)
                    self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
        except (sqlite3.OperationalError, sqlite3.DatabaseError) as exc:
            if isinstance(exc, sqlite3.IntegrityError):
                raise
            raise store_error(exc, self.path) from None

    # -- sources ---------------------------------------------------------------
    def source_by_sha(self, sha256: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM sources WHERE sha256=?", (sha256,)).fetchone()

    def source_by_file_id(self, file_id: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM sources WHERE fit_file_id=?", (file_id,)).fetchone()

    def source(self, source_id: int) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM sources WHERE id=?", (source_id,)).fetchone()

    def add_source(self, **row: Any) -> int:
        unknown = set(row) - set(SOURCE_COLUMNS)
        if unknown:
            raise ValueError(f"unknown source columns {sorted(unknown)}")
        cols = ",".join(row)
        marks = ",".join("?" for _ in row)
        cur = self.db.execute(f"INSERT INTO sources ({cols}) VALUES ({marks})", tuple(row.values()))
        return int(cur.lastrowid)

    def source_counts(self) -> tuple[int, int]:
        """(sources, of which partial)."""
        r = self.db.execute("SELECT COUNT(*), COALESCE(SUM(partial),0) FROM sources").fetchone()
        return int(r[0]), int(r[1])

    # -- sessions --------------------------------------------------------------
    def add_session(self, row: SessionRow) -> None:
        marks = ",".join("?" for _ in SESSION_COLUMNS)
        self.db.execute(
            f"INSERT OR REPLACE INTO sessions ({','.join(SESSION_COLUMNS)}) VALUES ({marks})",
            row.db_values(),
        )

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
        sets = ",".join(f"{k}=?" for k in values)
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
            "INSERT INTO device_hr VALUES (?,?,?,?,?) ON CONFLICT(athlete) DO UPDATE SET "
            "hr_rest=COALESCE(excluded.hr_rest, hr_rest), hr_max=COALESCE(excluded.hr_max, hr_max),"
            " sex=COALESCE(excluded.sex, sex), seen_at=excluded.seen_at",
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
        self.db.execute(
            "INSERT INTO dirty VALUES (?,?,1) ON CONFLICT(athlete) DO UPDATE SET "
            "since_day=MIN(since_day, excluded.since_day), marks=marks+1",
            (athlete, since_day),
        )

    def dirty(self) -> dict[str, tuple[str, int]]:
        """{athlete: (since_day, marks)} of pending recomputes."""
        return {r[0]: (r[1], r[2]) for r in self.db.execute("SELECT * FROM dirty ORDER BY 1")}

    def clear_dirty(self, athlete: str, marks: int) -> None:
        """Clear the mark if nothing marked it again since it was read (``marks`` unchanged)."""
        self.db.execute("DELETE FROM dirty WHERE athlete=? AND marks=?", (athlete, marks))

    # -- daily load ------------------------------------------------------------
    def replace_daily_load(self, athlete: str, table: pd.DataFrame) -> None:
        """Store the athlete's whole daily table (index: day), replacing what was there."""
        self.db.execute("DELETE FROM daily_load WHERE athlete=?", (athlete,))
        rows = [
            (athlete, day.strftime("%Y-%m-%d"), json.dumps({k: _value(v) for k, v in vals.items()}))
            for day, vals in table.to_dict("index").items()
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
            if df[c].map(lambda v: v is None or isinstance(v, int | float)).all():
                df[c] = df[c].astype(float)
        return df

    # -- counters --------------------------------------------------------------
    def bump(self, name: str, by: int = 1) -> None:
        self.db.execute(
            "INSERT INTO counters VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value=value+?",
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
        have = {r[1] for r in self.db.execute("PRAGMA table_info(sources)")}
        if "duplicate_of" not in have:
            try:
                self.db.execute("ALTER TABLE sources ADD COLUMN duplicate_of TEXT")
            except sqlite3.OperationalError as exc:  # another process added it first
                if "duplicate column" not in str(exc):
                    raise
        self._has_duplicate_of = True

    def sessions_near(
        self, athlete: str, start: pd.Timestamp, end: pd.Timestamp, slack_h: float = 15.0
    ) -> list[tuple[SessionRow, sqlite3.Row]]:
        """(session, its source row) of ``athlete`` within ``slack_h`` hours of [start, end]
        (candidates for the same activity stored twice, time-zone shifts included)."""
        lo = (start - pd.Timedelta(hours=slack_h)).isoformat()
        hi = (end + pd.Timedelta(hours=slack_h)).isoformat()
        rows = self.db.execute(
            "SELECT * FROM sessions WHERE athlete=? AND start<? AND end>? ORDER BY start",
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
