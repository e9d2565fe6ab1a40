"""Readiness-test results in the journal (table ``readiness``). See docs/readiness.md.

One row per test of both legs (hop, heel-raise, balance): who, which test, where the pod sat,
when (UTC ``time`` and the athlete's local ``day``), the involved leg, the per-leg summaries
and the limb symmetry indices as JSON (the dicts of
:meth:`sensorhub.readiness.ReadinessResult.to_json`), the pain reported during the test
(0–10) and the source row it came from.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from .backends import PgDb, SqliteDb
    from .journal import Journal

# a template: {pk}, {int}, {real} are the backend's column types (sensorhub.store.dialect)
READINESS_SCHEMA = """
CREATE TABLE IF NOT EXISTS readiness (
    id {pk},
    athlete TEXT NOT NULL,
    kind TEXT NOT NULL,
    placement TEXT NOT NULL,
    day TEXT NOT NULL,
    time TEXT NOT NULL,
    involved TEXT,
    legs TEXT NOT NULL,
    lsi TEXT NOT NULL,
    pain {real},
    source_id {int} REFERENCES sources(id),
    recorded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS readiness_athlete_time ON readiness(athlete, time);
"""

#: Every LSI field a test can have (``sensorhub.readiness.LSI_FIELDS``), in a fixed order.
LSI_COLUMNS = (
    "lsi_height_pct",
    "lsi_rsi_pct",
    "lsi_reps_pct",
    "lsi_rms_pct",
    "lsi_jerk_pct",
    "lsi_path_pct",
    "lsi_area_pct",
)
RESULT_COLUMNS = ("kind", "day", "time", "placement", "involved", *LSI_COLUMNS, "pain")
LIST_COLUMNS = ("id", "athlete", "source_id", *RESULT_COLUMNS)


class ReadinessStore:
    """Readiness results of a :class:`Journal` (same connection, same transactions)."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.db: SqliteDb | PgDb = journal.db

    def add(
        self,
        athlete: str,
        kind: str,
        placement: str,
        time: pd.Timestamp,
        day: str,
        legs: dict[str, dict[str, Any]],
        lsi: dict[str, float | None],
        involved: str | None = None,
        pain: float | None = None,
        source_id: int | None = None,
    ) -> int:
        """Store one test (call inside :meth:`Journal.transaction`); returns its row id.

        ``time``: the test's start (UTC); ``day``: the athlete's local date (YYYY-MM-DD);
        ``legs``: {"L": {...}, "R": {...}}; ``lsi``: {"lsi_…_pct": % or None}; ``pain`` 0–10.
        """
        return self.db.insert(
            "INSERT INTO readiness (athlete, kind, placement, day, time, involved, legs, lsi, "
            "pain, source_id, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                athlete,
                kind,
                placement,
                day,
                pd.Timestamp(time).tz_convert("UTC").isoformat(),
                involved,
                json.dumps(legs, default=_json_value, sort_keys=True),
                json.dumps(lsi, default=_json_value, sort_keys=True),
                pain,
                source_id,
                pd.Timestamp.now(tz="UTC").isoformat(),
            ),
        )

    def rows(self, athlete: str | None = None) -> list[dict[str, Any]]:
        """Stored tests as dicts (``legs`` and ``lsi`` decoded), oldest first."""
        sql = "SELECT * FROM readiness" + (" WHERE athlete=?" if athlete else "")
        cur = self.db.execute(sql + " ORDER BY time, id", (athlete,) if athlete else ())
        out = []
        for r in cur:
            d = dict(r)
            d["legs"], d["lsi"] = json.loads(d["legs"]), json.loads(d["lsi"])
            out.append(d)
        return out

    def list(self, athlete: str | None = None) -> pd.DataFrame:
        """Tests of one athlete (or all), oldest first: :data:`LIST_COLUMNS` (``time`` UTC
        timestamps, LSI and pain as floats, NaN when missing) plus ``legs`` (dicts)."""
        rows = self.rows(athlete)
        df = pd.DataFrame(
            [{**{c: r.get(c) for c in LIST_COLUMNS if c in r}, **r["lsi"]} for r in rows],
            columns=list(LIST_COLUMNS),
        )
        df["legs"] = pd.Series([r["legs"] for r in rows], dtype=object)
        return _typed(df)

    def results(self, athlete: str) -> pd.DataFrame:
        """The athlete's tests for the plan engine, oldest first (:data:`RESULT_COLUMNS`):
        ``kind`` ("hop", "heel-raise", "balance"), ``day`` (local date, "YYYY-MM-DD"),
        ``time`` (UTC), ``placement``, ``involved`` ("L", "R"; NA for none), the
        ``lsi_*_pct`` columns (%, NaN when the test has none) and ``pain`` (0–10, NaN when
        not given)."""
        return self.list(athlete)[list(RESULT_COLUMNS)].reset_index(drop=True)


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    for c in (*LSI_COLUMNS, "pain"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df["time"] = pd.to_datetime(df["time"], utc=True, format="ISO8601")
    return df


def _json_value(v: Any) -> Any:
    """numpy scalars and the like as plain JSON numbers (NaN → null)."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return None if math.isnan(f) else f
