"""Alerts in the journal: the ``alerts`` table and the durable ``webhook_queue``.

Both live in the journal (same connection, same transactions). The webhook
queue is separate from the InfluxDB outbox: a row leaves it only after the webhook answered
2xx, so alerts survive a receiver that is down and a restart of sensorhub.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from .backends import PgDb, Row, SqliteDb
    from .journal import Journal

# a template: {pk}, {int}, {real} are the backend's column types (sensorhub.store.dialect)
ALERT_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    id {pk},
    athlete TEXT NOT NULL,
    rule TEXT NOT NULL,
    severity TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    value {real},
    threshold {real},
    peak {real},
    message TEXT NOT NULL,
    ref TEXT,
    cleared_at TEXT,
    cleared_value {real},
    created_at TEXT NOT NULL,
    UNIQUE (athlete, rule, opened_at)
);
CREATE INDEX IF NOT EXISTS alerts_open ON alerts(athlete, rule, cleared_at);
CREATE TABLE IF NOT EXISTS webhook_queue (
    id {pk},
    alert_id {int} REFERENCES alerts(id),
    created_at TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts {int} NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT
);
"""


@dataclass
class WebhookItem:
    id: int
    alert_id: int | None
    body: str
    attempts: int


def _iso(t: pd.Timestamp) -> str:
    return pd.Timestamp(t).tz_convert("UTC").isoformat()


class AlertStore:
    """The alert tables of a :class:`Journal` (created with the journal's schema)."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.db: SqliteDb | PgDb = journal.db

    # -- alerts ------------------------------------------------------------------------
    def add(self, athlete: str, row: dict[str, Any]) -> int:
        """Insert an alert (``opened_at`` a Timestamp); returns its id."""
        row = {**row, "athlete": athlete, "created_at": _iso(pd.Timestamp.now(tz="UTC"))}
        for k in ("opened_at", "cleared_at"):
            if row.get(k) is not None and not pd.isna(row[k]):
                row[k] = _iso(row[k])
            else:
                row[k] = None
        cols = ",".join(row)
        marks = ",".join("?" for _ in row)
        return self.db.insert(f"INSERT INTO alerts ({cols}) VALUES ({marks})", tuple(row.values()))

    def clear(self, alert_id: int, t: pd.Timestamp, value: float | None) -> None:
        self.db.execute(
            "UPDATE alerts SET cleared_at=?, cleared_value=? WHERE id=?", (_iso(t), value, alert_id)
        )

    def update_peak(self, alert_id: int, peak: float | None) -> None:
        self.db.execute("UPDATE alerts SET peak=? WHERE id=?", (peak, alert_id))

    UPDATABLE = (
        "value",
        "peak",
        "message",
        "ref",
        "threshold",
        "severity",
        "cleared_at",
        "cleared_value",
    )

    def update(self, alert_id: int, **values: Any) -> None:
        """Set columns of a stored alert (the reconciliation of a replayed history)."""
        unknown = set(values) - set(self.UPDATABLE)
        if unknown:
            raise ValueError(f"unknown alert columns {sorted(unknown)}")
        sets = ",".join(f"{k}=?" for k in values)
        self.db.execute(f"UPDATE alerts SET {sets} WHERE id=?", (*values.values(), alert_id))

    def delete(self, alert_id: int) -> None:
        """Delete an alert and its webhooks not yet sent."""
        self.db.execute("DELETE FROM webhook_queue WHERE alert_id=?", (alert_id,))
        self.db.execute("DELETE FROM alerts WHERE id=?", (alert_id,))

    def of_rule(self, athlete: str, rule: str) -> list[Row]:
        return self.db.execute(
            "SELECT * FROM alerts WHERE athlete=? AND rule=? ORDER BY opened_at", (athlete, rule)
        ).fetchall()

    def open_alert(self, athlete: str, rule: str) -> Row | None:
        return self.db.execute(
            "SELECT * FROM alerts WHERE athlete=? AND rule=? AND cleared_at IS NULL "
            "ORDER BY opened_at DESC LIMIT 1",
            (athlete, rule),
        ).fetchone()

    def get(self, alert_id: int) -> Row | None:
        return self.db.execute("SELECT * FROM alerts WHERE id=?", (alert_id,)).fetchone()

    def frame(self, athlete: str | None = None, open_only: bool = False) -> pd.DataFrame:
        """Alerts as a DataFrame, oldest first."""
        where, args = [], []
        if athlete:
            where.append("athlete=?")
            args.append(athlete)
        if open_only:
            where.append("cleared_at IS NULL")
        sql = "SELECT * FROM alerts" + (" WHERE " + " AND ".join(where) if where else "")
        rows = self.db.execute(sql + " ORDER BY opened_at, id", args).fetchall()
        return pd.DataFrame([dict(r) for r in rows])

    # -- webhook queue -------------------------------------------------------------------
    def queue_webhook(self, alert_id: int | None, body: str, now: pd.Timestamp) -> int:
        return self.db.insert(
            "INSERT INTO webhook_queue (alert_id, created_at, body, next_attempt_at) "
            "VALUES (?,?,?,?)",
            (alert_id, _iso(now), body, _iso(now)),
        )

    def due_webhooks(self, now: pd.Timestamp, max_attempts: int) -> list[WebhookItem]:
        rows = self.db.execute(
            "SELECT id, alert_id, body, attempts FROM webhook_queue "
            "WHERE next_attempt_at <= ? AND attempts < ? ORDER BY id",
            (_iso(now), max_attempts),
        ).fetchall()
        return [WebhookItem(*r) for r in rows]

    def webhook_sent(self, item_id: int) -> None:
        self.db.execute("DELETE FROM webhook_queue WHERE id=?", (item_id,))
        self.journal.bump("webhook_sent")

    def webhook_failed(self, item_id: int, error: str, next_at: pd.Timestamp) -> None:
        self.db.execute(
            "UPDATE webhook_queue SET attempts=attempts+1, last_error=?, next_attempt_at=? "
            "WHERE id=?",
            (error[:500], _iso(next_at), item_id),
        )

    def postpone_webhooks(self, item_ids: list[int], next_at: pd.Timestamp) -> None:
        self.db.executemany(
            "UPDATE webhook_queue SET next_attempt_at=? WHERE id=?",
            [(_iso(next_at), i) for i in item_ids],
        )

    def webhook_stats(self) -> dict[str, Any]:
        r = self.db.execute(
            "SELECT COUNT(*), MIN(created_at), MAX(attempts) FROM webhook_queue"
        ).fetchone()
        err = self.db.execute(
            "SELECT last_error FROM webhook_queue WHERE last_error IS NOT NULL "
            "ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return {
            "waiting": r[0],
            "oldest": r[1],
            "max_attempts": r[2] or 0,
            "last_error": err[0] if err else None,
        }
