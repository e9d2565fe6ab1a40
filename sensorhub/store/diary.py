"""The symptom diary and return-to-run plan state in the journal (tables ``checkins``,
``plan_state``, ``plan_events``). See docs/return-to-run.md.

* ``checkins`` — one row per rating: the athlete's local ``day``, ``when`` (``during``,
  ``after``, ``next-morning``, ``rest-day``), ``site``, ``side``, ``pain`` and ``stiffness``
  (0–10 numeric rating scale), an optional ``note`` and ``session_id``; ``source_id`` is the
  ``sources`` row that brought it (a check-in is stored through the recorder like any source),
  ``recorded_at`` when it was entered (UTC). There is at most one row per athlete, day, when,
  site, side and session: a new rating for the same slot replaces the old one (the same slot
  is the same ``symptom`` point in InfluxDB, so the journal and InfluxDB agree).
* ``plan_state`` — per athlete, ``PlanState.to_dict()`` as JSON (plan, start day, clinician
  overrides), the plan's source (a template name or a file path) and, for a plan file, the
  file's text, so the plan still loads when the file moves.
* ``plan_events`` — the audit log of plan starts and clinician overrides: who, why, for which
  day, and when it was entered. The replay reads the overrides from the state JSON.

All values are plain (ISO strings, floats): this module knows no plan types.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from .backends import PgDb, SqliteDb
    from .journal import Journal

# a template: {pk}, {int}, {real} are the backend's column types (sensorhub.store.dialect)
DIARY_SCHEMA = """
CREATE TABLE IF NOT EXISTS checkins (
    id {pk},
    athlete TEXT NOT NULL,
    day TEXT NOT NULL,
    "when" TEXT NOT NULL,
    site TEXT NOT NULL,
    side TEXT NOT NULL,
    pain {real} NOT NULL,
    stiffness {real} NOT NULL DEFAULT 0,
    note TEXT,
    session_id TEXT,
    source_id {int},
    recorded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS checkins_athlete_day ON checkins(athlete, day);
CREATE TABLE IF NOT EXISTS plan_state (
    athlete TEXT PRIMARY KEY,
    state_json TEXT NOT NULL,
    plan_source TEXT NOT NULL,
    plan_toml TEXT,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS plan_events (
    id {pk},
    athlete TEXT NOT NULL,
    kind TEXT NOT NULL,
    day TEXT NOT NULL,
    "by" TEXT,
    why TEXT,
    detail TEXT,
    recorded_at TEXT NOT NULL
);
"""

CHECKIN_FIELDS = ("day", "when", "site", "side", "pain", "stiffness", "note", "session_id")
SLOT = ("day", "when", "site", "side")  # + session_id (NULL = no session)


@dataclass
class CheckinRow:
    """One stored check-in (``day`` an ISO date, ``recorded_at`` an ISO UTC time)."""

    id: int
    athlete: str
    day: str
    when: str
    site: str
    side: str
    pain: float
    stiffness: float
    note: str | None
    session_id: str | None
    source_id: int | None
    recorded_at: str

    def values(self) -> dict[str, Any]:
        """The check-in fields (``CHECKIN_FIELDS``) as a dict."""
        return {k: getattr(self, k) for k in CHECKIN_FIELDS}


def _now() -> str:
    return pd.Timestamp.now(tz="UTC").isoformat()


class Diary:
    """Check-ins and plan state of a :class:`Journal` (same connection, same transactions).

    Methods do not open transactions: callers wrap writes in ``journal.transaction()``
    (the recorder does for new check-ins)."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.db: SqliteDb | PgDb = journal.db

    # -- check-ins ---------------------------------------------------------------------
    def same_slot(self, athlete: str, values: dict[str, Any]) -> CheckinRow | None:
        """The stored check-in in the same slot (athlete, day, when, site, side, session)."""
        r = self.db.execute(
            'SELECT * FROM checkins WHERE athlete=? AND day=? AND "when"=? AND site=? AND side=?'
            f" AND session_id {self.db.dialect.is_} ?",
            (athlete, *(values[k] for k in SLOT), values.get("session_id")),
        ).fetchone()
        return CheckinRow(**dict(r)) if r else None

    def add_checkin(
        self,
        athlete: str,
        values: dict[str, Any],
        recorded_at: str | None = None,
        source_id: int | None = None,
    ) -> tuple[int, bool]:
        """Store a check-in (``values``: ``CHECKIN_FIELDS``, ``day`` an ISO date); a check-in
        in the same slot is replaced. Returns (id, replaced)."""
        old = self.same_slot(athlete, values)
        row = {k: values.get(k) for k in CHECKIN_FIELDS}
        row |= {"source_id": source_id, "recorded_at": recorded_at or _now()}
        if old is not None:
            self._update(old.id, row)
            return old.id, True
        cols = ",".join(f'"{k}"' for k in ("athlete", *row))
        marks = ",".join("?" for _ in range(len(row) + 1))
        new_id = self.db.insert(
            f"INSERT INTO checkins ({cols}) VALUES ({marks})", (athlete, *row.values())
        )
        return new_id, False

    def _update(self, checkin_id: int, row: dict[str, Any]) -> None:
        sets = ",".join(f'"{k}"=?' for k in row)
        self.db.execute(f"UPDATE checkins SET {sets} WHERE id=?", (*row.values(), checkin_id))

    def edit_checkin(self, checkin_id: int, values: dict[str, Any]) -> CheckinRow:
        """Replace the fields of check-in ``checkin_id`` (KeyError when there is none, ValueError
        when another check-in already holds the new slot); returns the stored row."""
        old = self.checkin(checkin_id)
        if old is None:
            raise KeyError(
                f"check-in {checkin_id}: no such check-in (see `sensorhub checkin list`)"
            )
        clash = self.same_slot(old.athlete, values)
        if clash is not None and clash.id != checkin_id:
            raise ValueError(
                f"check-in {checkin_id}: check-in {clash.id} already rates {values['when']} "
                f"{values['site']} {values['side']} on {values['day']} (edit or delete that one)"
            )
        self._update(checkin_id, {k: values.get(k) for k in CHECKIN_FIELDS})
        return self.checkin(checkin_id)  # type: ignore[return-value]

    def delete_checkin(self, checkin_id: int) -> CheckinRow:
        """Delete check-in ``checkin_id`` and return what it was (KeyError when there is none)."""
        old = self.checkin(checkin_id)
        if old is None:
            raise KeyError(
                f"check-in {checkin_id}: no such check-in (see `sensorhub checkin list`)"
            )
        self.db.execute("DELETE FROM checkins WHERE id=?", (checkin_id,))
        return old

    def checkin(self, checkin_id: int) -> CheckinRow | None:
        r = self.db.execute("SELECT * FROM checkins WHERE id=?", (checkin_id,)).fetchone()
        return CheckinRow(**dict(r)) if r else None

    def checkins(self, athlete: str | None = None) -> list[CheckinRow]:
        """Check-ins by day (then entry order), all athletes unless ``athlete``."""
        sql = "SELECT * FROM checkins" + (" WHERE athlete=?" if athlete else "")
        rows = self.db.execute(sql + " ORDER BY athlete, day, id", (athlete,) if athlete else ())
        return [CheckinRow(**dict(r)) for r in rows]

    def checkins_frame(self, athlete: str) -> pd.DataFrame:
        """The athlete's check-ins as the plan engine takes them (``CHECKIN_FIELDS`` + ``id``)."""
        rows = [{"id": r.id, **r.values()} for r in self.checkins(athlete)]
        return pd.DataFrame(rows, columns=["id", *CHECKIN_FIELDS])

    # -- plan state --------------------------------------------------------------------
    def plan_state(self, athlete: str) -> dict[str, Any] | None:
        """``{"state": <PlanState dict>, "plan_source", "plan_toml", "updated_at"}`` or None."""
        r = self.db.execute("SELECT * FROM plan_state WHERE athlete=?", (athlete,)).fetchone()
        if r is None:
            return None
        return {
            "state": json.loads(r["state_json"]),
            "plan_source": r["plan_source"],
            "plan_toml": r["plan_toml"],
            "updated_at": r["updated_at"],
        }

    def set_plan_state(
        self,
        athlete: str,
        state: dict[str, Any],
        plan_source: str | None = None,
        plan_toml: str | None = None,
    ) -> None:
        """Store the athlete's plan state; ``plan_source``/``plan_toml`` only when starting a
        plan (an update of the state keeps the stored plan)."""
        body = json.dumps(state, sort_keys=True, ensure_ascii=False)
        if plan_source is None:
            cur = self.db.execute(
                "UPDATE plan_state SET state_json=?, updated_at=? WHERE athlete=?",
                (body, _now(), athlete),
            )
            if cur.rowcount != 1:
                raise KeyError(f"{athlete}: no plan started (sensorhub plan start)")
            return
        cols = ("athlete", "state_json", "plan_source", "plan_toml", "updated_at")
        self.db.execute(
            self.db.dialect.replace_into("plan_state", cols, ("athlete",)),
            (athlete, body, plan_source, plan_toml, _now()),
        )

    def plan_athletes(self) -> list[str]:
        """Athletes with a plan."""
        return [r[0] for r in self.db.execute("SELECT athlete FROM plan_state ORDER BY athlete")]

    def add_plan_event(
        self,
        athlete: str,
        kind: str,
        day: str,
        by: str | None = None,
        why: str | None = None,
        detail: str | None = None,
    ) -> int:
        """Append to the audit log (``kind``: start, advance, back)."""
        return self.db.insert(
            'INSERT INTO plan_events (athlete, kind, day, "by", why, detail, recorded_at) '
            "VALUES (?,?,?,?,?,?,?)",
            (athlete, kind, day, by, why, detail, _now()),
        )

    def plan_events(self, athlete: str) -> list[dict[str, Any]]:
        """The athlete's audit log, oldest first."""
        rows = self.db.execute(
            "SELECT * FROM plan_events WHERE athlete=? ORDER BY id", (athlete,)
        ).fetchall()
        return [dict(r) for r in rows]
