"""The local journal: SQLite (WAL) in the state directory.

It is the embedded default store: sources (by sha256 and FIT file_id, so re-ingesting a
file is a no-op), sessions with their summaries, daily load per athlete, and the outbox of
line-protocol batches that InfluxDB has not yet acknowledged.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from .outbox import Outbox

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
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


class Journal:
    """SQLite journal; one connection per instance, transactions with :meth:`transaction`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA)
        self.outbox = Outbox(self.db)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- sources ---------------------------------------------------------------
    def source_by_sha(self, sha256: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM sources WHERE sha256=?", (sha256,)).fetchone()

    def source_by_file_id(self, file_id: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM sources WHERE fit_file_id=?", (file_id,)).fetchone()

    def add_source(self, **row: Any) -> int:
        cols = ",".join(row)
        marks = ",".join("?" for _ in row)
        cur = self.db.execute(f"INSERT INTO sources ({cols}) VALUES ({marks})", tuple(row.values()))
        return int(cur.lastrowid)

    # -- sessions --------------------------------------------------------------
    def add_session(self, row: dict[str, Any]) -> None:
        row = dict(row)
        row["summary"] = json.dumps(row.get("summary", {}), default=str, sort_keys=True)
        cols = ",".join(row)
        marks = ",".join("?" for _ in row)
        self.db.execute(
            f"INSERT OR REPLACE INTO sessions ({cols}) VALUES ({marks})", tuple(row.values())
        )

    def sessions(self, athlete: str | None = None) -> pd.DataFrame:
        sql = "SELECT * FROM sessions" + (" WHERE athlete=?" if athlete else "") + " ORDER BY start"
        rows = self.db.execute(sql, (athlete,) if athlete else ()).fetchall()
        return pd.DataFrame([dict(r) for r in rows])

    def session(self, session_id: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM sessions WHERE id=?", (session_id,)).fetchone()

    def find_sessions(self, prefix: str) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT * FROM sessions WHERE id LIKE ? ORDER BY start", (prefix + "%",)
        ).fetchall()

    def update_session(self, session_id: str, **values: Any) -> None:
        sets = ",".join(f"{k}=?" for k in values)
        self.db.execute(f"UPDATE sessions SET {sets} WHERE id=?", (*values.values(), session_id))

    def athletes(self) -> list[str]:
        return [
            r[0] for r in self.db.execute("SELECT DISTINCT athlete FROM sessions ORDER BY athlete")
        ]

    # -- daily load ------------------------------------------------------------
    def replace_daily_load(self, athlete: str, table: pd.DataFrame) -> None:
        """Store the athlete's whole daily table (index: day), replacing what was there."""
        self.db.execute("DELETE FROM daily_load WHERE athlete=?", (athlete,))
        rows = [
            (athlete, day.strftime("%Y-%m-%d"), json.dumps({k: _num(v) for k, v in vals.items()}))
            for day, vals in table.to_dict("index").items()
        ]
        self.db.executemany("INSERT INTO daily_load VALUES (?,?,?)", rows)

    def daily_load(self, athlete: str) -> pd.DataFrame:
        rows = self.db.execute(
            "SELECT day, values_json FROM daily_load WHERE athlete=? ORDER BY day", (athlete,)
        ).fetchall()
        if not rows:
            return pd.DataFrame()
        df = pd.DataFrame(
            [json.loads(r[1]) for r in rows], index=pd.to_datetime([r[0] for r in rows])
        )
        df.index.name = "day"
        return df.astype(float)

    # -- counters --------------------------------------------------------------
    def bump(self, name: str, by: int = 1) -> None:
        self.db.execute(
            "INSERT INTO counters VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value=value+?",
            (name, by, by),
        )

    def counters(self) -> dict[str, int]:
        return {r[0]: r[1] for r in self.db.execute("SELECT name, value FROM counters")}


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f != f else f
