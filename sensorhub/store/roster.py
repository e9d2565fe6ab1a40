"""Athletes and their devices in the journal (table ``athletes``), on SQLite and PostgreSQL.

The TOML config's ``[[athletes]]`` need a file on every machine; a shared PostgreSQL journal
serves many stateless workers, so athletes can live here instead, edited with ``sensorhub
athletes add/edit/remove`` (docs/configuration.md). One row per athlete: the fields of
:class:`sensorhub.config.Athlete` (``hr_rest``/``hr_max`` in bpm, ``tz`` an IANA zone,
``devices`` a JSON list of FIT serial numbers and BLE addresses) and ``updated_at`` (UTC, ISO
8601). Values are validated by the caller (the ``Athlete`` dataclass) before they are written.

Every write bumps the journal counter ``roster`` in its own transaction, so a long-running
process (a worker) learns whether its copy is stale from one small read
(:func:`refresh_athletes`) instead of reading every row for each job. The table is created on
the first write (``CREATE TABLE IF NOT EXISTS`` inside the write transaction), so journals
created before it — PostgreSQL ones included, whose schema is not re-run on open — need no
migration; with the counter at 0 nothing reads the table at all.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from ..config import Config
    from .backends import PgDb, SqliteDb
    from .journal import Journal

# a template: {real} is the backend's float type (sensorhub.store.dialect)
ROSTER_SCHEMA = """
CREATE TABLE IF NOT EXISTS athletes (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    sex TEXT NOT NULL,
    hr_rest {real},
    hr_max {real},
    tz TEXT NOT NULL,
    devices TEXT NOT NULL,
    updated_at TEXT NOT NULL
)
"""
VERSION_COUNTER = "roster"  # a row of the journal's ``counters`` table
COLUMNS = ("id", "name", "sex", "hr_rest", "hr_max", "tz", "devices", "updated_at")


@dataclass(frozen=True)
class StoredAthlete:
    """One row of ``athletes`` (``hr_*`` in bpm, ``updated_at`` UTC ISO 8601)."""

    id: str
    name: str
    sex: str
    hr_rest: float | None
    hr_max: float | None
    tz: str
    devices: tuple[str, ...]
    updated_at: str

    def fields(self) -> dict[str, Any]:
        """The :class:`sensorhub.config.Athlete` keyword arguments."""
        return {
            "id": self.id,
            "name": self.name,
            "sex": self.sex,
            "hr_rest": self.hr_rest,
            "hr_max": self.hr_max,
            "tz": self.tz,
            "devices": list(self.devices),
        }


class Roster:
    """The ``athletes`` table of a :class:`Journal` (same connection, same transactions)."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.db: SqliteDb | PgDb = journal.db

    def version(self) -> int:
        """How many writes the table has seen (0: never written, so it may not exist)."""
        row = self.db.execute(
            "SELECT value FROM counters WHERE name=?", (VERSION_COUNTER,)
        ).fetchone()
        return int(row[0]) if row else 0

    def all(self) -> list[StoredAthlete]:
        """Every stored athlete, by id."""
        if self.version() == 0:
            return []  # the table may not exist yet
        rows = self.db.execute(f"SELECT {','.join(COLUMNS)} FROM athletes ORDER BY id")
        return [_row(r) for r in rows]

    def get(self, athlete_id: str) -> StoredAthlete | None:
        if self.version() == 0:
            return None
        row = self.db.execute(
            f"SELECT {','.join(COLUMNS)} FROM athletes WHERE id=?",
            (athlete_id,),
        ).fetchone()
        return _row(row) if row else None

    def upsert(
        self,
        athlete_id: str,
        name: str,
        sex: str,
        hr_rest: float | None,
        hr_max: float | None,
        tz: str,
        devices: Sequence[str],
    ) -> StoredAthlete:
        """Store one athlete, replacing the row with the same id; call it inside
        :meth:`Journal.transaction` (with the checks that decided it)."""
        self._create()
        now = pd.Timestamp.now(tz="UTC").isoformat()
        values = (athlete_id, name, sex, hr_rest, hr_max, tz, json.dumps(list(devices)), now)
        self.db.execute(self.db.dialect.replace_into("athletes", COLUMNS, ("id",)), values)
        self.journal.bump(VERSION_COUNTER)
        return StoredAthlete(*values[:6], tuple(devices), now)  # type: ignore[arg-type]

    def remove(self, athlete_id: str) -> bool:
        """Delete one athlete's row (inside a transaction); False when there was none."""
        if self.version() == 0:
            return False
        gone = self.db.execute("DELETE FROM athletes WHERE id=?", (athlete_id,)).rowcount
        if gone:
            self.journal.bump(VERSION_COUNTER)
        return bool(gone)

    def _create(self) -> None:
        # inside the caller's write transaction: on PostgreSQL it holds the writers' lock, so
        # two first writes never race to create the table
        self.db.execute(self.db.dialect.ddl(ROSTER_SCHEMA))


def _row(r: Any) -> StoredAthlete:
    return StoredAthlete(
        r[0],
        r[1],
        r[2],
        None if r[3] is None else float(r[3]),
        None if r[4] is None else float(r[4]),
        r[5],
        tuple(json.loads(r[6])),
        r[7],
    )


def refresh_athletes(cfg: Config, journal: Journal) -> bool:
    """Give ``cfg`` the journal's stored athletes when they changed since it last read them
    (one counter read otherwise); True when it re-read them. Call it before each job or
    command that resolves athletes, so an edit applies without a restart."""
    version = Roster(journal).version()
    key = (str(journal.path), version)
    if cfg.stored_from == key:
        return False
    cfg.use_stored_athletes([a.fields() for a in Roster(journal).all()], key)
    return True
