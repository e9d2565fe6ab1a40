"""The outbox: line-protocol batches not yet acknowledged by InfluxDB.

It lives in the journal's SQLite file (same connection, same transactions as the sources
and sessions it belongs to), so a crash never leaves a session stored without its points or
points queued for a session that was rolled back. A batch leaves the outbox only after
InfluxDB acknowledged it (see :mod:`sensorhub.store.influx`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

OUTBOX_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    measurement TEXT NOT NULL,
    n_points INTEGER NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
"""


@dataclass
class OutboxBatch:
    id: int
    measurement: str
    n_points: int
    body: str
    attempts: int


class Outbox:
    """The outbox table of one journal connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.db.executescript(OUTBOX_SCHEMA)

    def enqueue(self, measurement: str, lines: Iterable[str], batch_points: int) -> int:
        """Put lines in the outbox in batches of at most ``batch_points``; returns batches added."""
        lines = [ln for ln in lines if ln]
        now = pd.Timestamp.now(tz="UTC").isoformat()
        batches = [lines[i : i + batch_points] for i in range(0, len(lines), batch_points)]
        self.db.executemany(
            "INSERT INTO outbox (created_at, measurement, n_points, body) VALUES (?,?,?,?)",
            [(now, measurement, len(b), "\n".join(b)) for b in batches],
        )
        return len(batches)

    def batches(self, limit: int | None = None) -> list[OutboxBatch]:
        """Batches in the order they were queued (oldest first)."""
        sql = "SELECT id, measurement, n_points, body, attempts FROM outbox ORDER BY id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [OutboxBatch(*r) for r in self.db.execute(sql)]

    def ack(self, batch_id: int) -> None:
        self.db.execute("DELETE FROM outbox WHERE id=?", (batch_id,))

    def failed(self, batch_id: int, error: str) -> None:
        self.db.execute(
            "UPDATE outbox SET attempts=attempts+1, last_error=? WHERE id=?",
            (error[:500], batch_id),
        )

    def stats(self) -> dict[str, Any]:
        r = self.db.execute(
            "SELECT COUNT(*), COALESCE(SUM(n_points),0), MIN(created_at), MAX(attempts) FROM outbox"
        ).fetchone()
        err = self.db.execute(
            "SELECT last_error FROM outbox WHERE last_error IS NOT NULL ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return {
            "batches": r[0],
            "points": r[1],
            "oldest": r[2],
            "max_attempts": r[3] or 0,
            "last_error": err[0] if err else None,
        }
