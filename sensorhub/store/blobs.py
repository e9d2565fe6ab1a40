"""Submitted files' bytes in the shared PostgreSQL journal, and the job list over them.

``sensorhub submit`` stores each file's raw bytes in the ``blobs`` table (keyed by sha256, so
a second copy of a file is the same row) in the same transaction that defers its job
(:mod:`sensorhub.jobs`), so a file is never queued without its bytes or stored without a
job. Workers read the bytes back by sha256; a file a worker refused keeps its one-line
``reason`` here (Procrastinate's own tables keep the job's status, not why it failed).

Retention: a file's bytes are deleted once its job has succeeded (:meth:`Blobs.delete`;
the journal's ``sources`` row keeps the sha256, so re-submitting the same bytes later queues
them again and their job finds a duplicate); a failed job keeps them, with its reason, so it
can be retried. The table holds only what waits, runs or failed — not every file ever sent.

PostgreSQL only: an SQLite journal serves one machine, where ``sensorhub ingest`` reads the
files directly. Blob size: at most :data:`MAX_BLOB_BYTES` (docs/scale.md); a ``bytea`` value
is TOASTed (compressed, out of line) by PostgreSQL, so the table scans stay small.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .backends import PgDb

MAX_BLOB_BYTES = 64 * 1024**2  # 64 MiB: a long FIT file is 1-5 MiB; bigger ones are refused
REASON_CHARS = 500

BLOB_SCHEMA = """
CREATE TABLE IF NOT EXISTS blobs (
    sha256 TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    athlete TEXT NOT NULL,
    size BIGINT NOT NULL,
    data BYTEA NOT NULL,
    submitted_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    reason TEXT
)
"""
# Procrastinate's jobs of the ingest task with their file (``args->>'sha256'``).
JOBS_SQL = """
SELECT j.id, j.status::text AS status, j.attempts, j.task_name,
       COALESCE(b.name, j.args->>'name', '') AS name,
       COALESCE(b.athlete, j.args->>'athlete', '') AS athlete, b.reason
  FROM procrastinate_jobs j
  LEFT JOIN blobs b ON b.sha256 = j.args->>'sha256'
"""


@dataclass(frozen=True)
class Blob:
    """A submitted file: its name as submitted, the athlete its job locks, its bytes."""

    sha256: str
    name: str
    athlete: str
    data: bytes


@dataclass(frozen=True)
class JobRow:
    """One job as ``sensorhub jobs`` lists it."""

    id: int
    status: str  # todo | doing | succeeded | failed | cancelled | aborted
    attempts: int
    task: str
    name: str
    athlete: str
    reason: str | None


class Blobs:
    """The ``blobs`` table of a PostgreSQL journal connection."""

    def __init__(self, db: PgDb) -> None:
        self.db = db

    def create_schema(self) -> None:
        """Create the table if it is missing (idempotent)."""
        self.db.execute(BLOB_SCHEMA)

    def has_table(self, name: str) -> bool:
        """Whether a table ``name`` exists in the current schema (e.g. Procrastinate's)."""
        row = self.db.execute("SELECT to_regclass(?) IS NOT NULL", (name,)).fetchone()
        return bool(row[0])

    def put(self, sha256: str, name: str, athlete: str, data: bytes) -> bool:
        """Store a file's bytes; False when these bytes were submitted before (a no-op).

        Call it inside the transaction that defers the job."""
        row = self.db.execute(
            "INSERT INTO blobs (sha256, name, athlete, size, data) VALUES (?,?,?,?,?)"
            " ON CONFLICT (sha256) DO NOTHING RETURNING sha256",
            (sha256, name, athlete, len(data), data),
        ).fetchone()
        return row is not None

    def get(self, sha256: str) -> Blob | None:
        row = self.db.execute(
            "SELECT sha256, name, athlete, data FROM blobs WHERE sha256=?", (sha256,)
        ).fetchone()
        return Blob(row[0], row[1], row[2], bytes(row[3])) if row else None

    def delete(self, sha256: str) -> bool:
        """Drop a file's bytes once its job has succeeded (False: they were gone already).

        The journal's ``sources`` row keeps the sha256, so the same bytes submitted again
        are stored and queued again, and their job finds them already ingested."""
        return bool(self.db.execute("DELETE FROM blobs WHERE sha256=?", (sha256,)).rowcount)

    def set_reason(self, sha256: str, reason: str | None) -> None:
        """Why the file's job failed (None: clear it, the job succeeded)."""
        self.db.execute(
            "UPDATE blobs SET reason=? WHERE sha256=?",
            (None if reason is None else reason[:REASON_CHARS], sha256),
        )

    def jobs(self, failed: bool = False, task: str | None = None) -> list[JobRow]:
        """Jobs oldest first (``failed``: only failed ones; ``task``: of that task only)."""
        where, args = [], []
        if failed:
            where.append("j.status = 'failed'")
        if task:
            where.append("j.task_name = ?")
            args.append(task)
        sql = JOBS_SQL + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY j.id"
        return [JobRow(*r) for r in self.db.execute(sql, args)]

    def counts(self) -> dict[str, int]:
        """Jobs by status (all tasks)."""
        rows = self.db.execute(
            "SELECT status::text, COUNT(*) FROM procrastinate_jobs GROUP BY status"
        )
        return {r[0]: int(r[1]) for r in rows}

    def stats(self) -> dict[str, Any]:
        """Stored files and bytes."""
        row = self.db.execute("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM blobs").fetchone()
        return {"files": int(row[0]), "bytes": int(row[1])}


def ensure_schema(db: PgDb, engine_sql: str, engine_table: str) -> None:
    """Create the ``blobs`` table and, when ``engine_table`` is missing, run the job
    engine's schema script ``engine_sql`` (Procrastinate's) — one process at a time (the
    journal's schema lock), all or nothing."""
    from .backends import SCHEMA_LOCK

    blobs = Blobs(db)
    if blobs.has_table("blobs") and blobs.has_table(engine_table):
        return
    with db.transaction(lock=SCHEMA_LOCK):
        blobs.create_schema()
        if not blobs.has_table(engine_table):
            # the engine's own script, as it ships (no placeholders: run as is)
            db.conn.execute(engine_sql)


def busy_locks(db: PgDb) -> set[str]:
    """Locks of jobs waiting or running (``todo``/``doing``)."""
    rows = db.execute(
        "SELECT DISTINCT lock FROM procrastinate_jobs"
        " WHERE status IN ('todo','doing') AND lock IS NOT NULL"
    )
    return {r[0] for r in rows}


def queued_behind(db: PgDb, lock: str) -> bool:
    """Whether a job with ``lock`` waits in the queue (``todo``): it runs after the current
    one, so that one may leave the athlete's recompute to it."""
    row = db.execute(
        "SELECT EXISTS (SELECT 1 FROM procrastinate_jobs WHERE lock=? AND status='todo')",
        (lock,),
    ).fetchone()
    return bool(row[0])
