"""The outbox: line-protocol batches not yet acknowledged by InfluxDB.

It lives in the journal's SQLite file (same connection, same transactions as the sources
and sessions it belongs to), so a crash never leaves a session stored without its points or
points queued for a session that was rolled back. A batch leaves the outbox only after
InfluxDB acknowledged it (the shipping policy is in :mod:`sensorhub.store.influx`).

Each batch has a **series** (default: its measurement) and a **state**:

- ``queued``: waiting to be sent; ``next_attempt_at`` (Unix seconds) says not before when.
  A queued batch is never sent while an older queued batch of its series that may share a
  point with it waits (:meth:`Slot.may_share_points`: point times ``t_lo``–``t_hi`` that
  meet, or unknown); on one connection, not while any older batch of its series waits.
- ``parked``: InfluxDB refused it too often (see ``MAX_ATTEMPTS`` in the writer); kept, shown
  in :meth:`Outbox.stats`, retried only on request. It does not hold back its series.
- ``kept``: acknowledged, but newer than a parked batch of its series: its body stays until
  the parked batch is resolved, so that retrying the parked (older) batch can be followed by
  these newer ones again and InfluxDB ends with the newest values.

Bodies are stored gzip-compressed (``encoding='gzip'``, about 8x smaller than the text);
rows written before that have ``encoding='identity'`` and ship as they are. InfluxDB takes a
gzip body as is (``Content-Encoding: gzip`` on ``/write``): :meth:`Outbox.raw_body`.

Two small tables sit next to it: ``outbox_backoff`` (a server-wide "not before", set after
429/503/5xx/401, shared by every process using the journal) and ``leases`` (who ships now).

Several relays (:meth:`Outbox.claim`): on PostgreSQL each claims the heads of series (the
oldest queued batch of each) with ``SELECT … FOR UPDATE SKIP LOCKED`` and keeps them locked
until its claim ends, so two relays never hold batches of one series at once and a series'
batches go out oldest first. On SQLite a claim holds the shipping lease (one relay at a time).
"""

from __future__ import annotations

import gzip
import os
import socket
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .redact import redact

try:  # ISA-L's gzip: the same format, ~4x faster than zlib's level 1 and a little smaller
    from isal import igzip as _gzip
except ImportError:  # pragma: no cover - isal is a dependency; zlib when it is missing
    _gzip = gzip

if TYPE_CHECKING:
    from .backends import PgDb, SqliteDb

# a template: {pk}, {int}, {real}, {blob} are the backend's types (sensorhub.store.dialect)
OUTBOX_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id {pk},
    created_at TEXT NOT NULL,
    measurement TEXT NOT NULL,
    n_points {int} NOT NULL,
    body {blob} NOT NULL,
    attempts {int} NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE TABLE IF NOT EXISTS outbox_backoff (
    target TEXT PRIMARY KEY,
    failures {int} NOT NULL,
    not_before {real} NOT NULL,
    reason TEXT NOT NULL,
    credentials TEXT,
    last_error TEXT
);
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at {real} NOT NULL
);
"""
# columns added after the first release (ALTER TABLE for journals made before)
NEW_COLUMNS = {
    "series": "TEXT",
    "state": "TEXT NOT NULL DEFAULT 'queued'",
    "next_attempt_at": "{real} NOT NULL DEFAULT 0",
    "encoding": "TEXT NOT NULL DEFAULT 'identity'",  # of body: identity (text) | gzip (bytes)
    # the batch's smallest and largest point time (the lines' own unit, ms); NULL: unknown
    # (an InfluxQL statement, a line without a time, a batch from before): it may share a
    # point with any batch of its series
    "t_lo": "{int}",
    "t_hi": "{int}",
}
GZIP, IDENTITY = "gzip", "identity"
# level 1 of ISA-L (levels 0-3; zlib's 1 without it): ~1 ms per 5000-point batch, ~30 bytes
# a point (benchmarks/season.py)
GZIP_LEVEL = 1
# covering index: the scheduler reads only these columns and never touches the bodies
INDEX_NAME = "outbox_sched2"
INDEX = (
    f"CREATE INDEX IF NOT EXISTS {INDEX_NAME} ON outbox"
    "(state, id, series, next_attempt_at, n_points, attempts, t_lo, t_hi)"
)
OLD_INDEXES = ("outbox_sched",)  # covered fewer columns
SERIES_INDEX = "CREATE INDEX IF NOT EXISTS outbox_series ON outbox(series, state, id)"
QUEUED, PARKED, KEPT = "queued", "parked", "kept"


@dataclass
class OutboxBatch:
    id: int
    measurement: str
    n_points: int
    body: str
    attempts: int
    series: str = ""
    state: str = QUEUED
    next_attempt_at: float = 0.0
    last_error: str | None = None


def pack(lines: list[str]) -> bytes:
    """A batch body as stored: the lines joined by newlines, UTF-8, gzip (``GZIP_LEVEL``)."""
    return _gzip.compress("\n".join(lines).encode("utf-8"), GZIP_LEVEL, mtime=0)


def pack_spanned(lines: list[str]) -> tuple[bytes, int | None, int | None]:
    """:func:`pack` and :func:`span` of ``lines``, the times read from the joined text in
    numpy (the same answer as :func:`span`, ~20x faster on 5000 lines of 13-digit times)."""
    text = "\n".join(lines).encode("utf-8")
    lo_hi = _text_span(text, len(lines))
    return _gzip.compress(text, GZIP_LEVEL, mtime=0), *(lo_hi or span(lines))


def _body_row(lines: list[str], series: str) -> tuple:
    body, lo, hi = pack_spanned(lines)
    return body, series, QUEUED, GZIP, lo, hi


_DIGIT_POWERS = 10 ** np.arange(17, -1, -1, dtype=np.int64)  # up to 18 digits: no overflow


def _text_span(text: bytes, n: int) -> tuple[int | None, int | None] | None:
    """:func:`span` of ``n`` lines joined by newlines, when each ends in a time of as many
    digits (up to 18) after its last space; None: ask :func:`span`."""
    b = np.frombuffer(text, np.uint8)
    ends = np.append(np.flatnonzero(b == 10), len(b))
    if len(ends) != n or n == 0:
        return None  # a newline inside a line, or none
    starts = np.concatenate(([0], ends[:-1] + 1))
    if (starts >= ends).any():
        return None  # an empty line
    if (b[starts] == ord("#")).any():
        return None, None  # an InfluxQL statement
    spaces = np.flatnonzero(b == 32)
    last = np.searchsorted(spaces, ends) - 1  # the last space before each line's end
    if (last < 0).any():
        return None
    first = spaces[last] + 1
    width = ends - first
    if (first <= starts).any() or width.min() != width.max() or not 0 < width[0] <= 18:
        return None
    digits = b[first[:, None] + np.arange(width[0])].astype(np.int64) - 48
    if digits.min() < 0 or digits.max() > 9:
        return None  # not a time: a field, a negative time
    times = digits @ _DIGIT_POWERS[18 - width[0] :]
    return int(times.min()), int(times.max())


def unpack(body: str | bytes, encoding: str) -> str:
    """The text of a stored body (``encoding``: identity or gzip)."""
    if encoding == GZIP:
        return gzip.decompress(body).decode("utf-8")
    return body if isinstance(body, str) else body.decode("utf-8")


@dataclass
class Slot:
    """A batch without its body: what the scheduler needs."""

    id: int
    series: str
    state: str
    next_attempt_at: float
    n_points: int
    attempts: int
    t_lo: int | None = None  # its point times (None: unknown, see NEW_COLUMNS)
    t_hi: int | None = None

    def may_share_points(self, other: Slot) -> bool:
        """Whether a point (series and time) can be in both batches: the same series and
        time ranges that meet, or a range unknown."""
        if other.series != self.series:
            return False
        if None in (self.t_lo, self.t_hi, other.t_lo, other.t_hi):
            return True
        return self.t_lo <= other.t_hi and other.t_lo <= self.t_hi  # type: ignore[operator]


def span(lines: list[str]) -> tuple[int | None, int | None]:
    """The smallest and largest point time of ``lines`` (each line's last field); (None,
    None) when one is an InfluxQL statement or has no time (or a negative one)."""
    if not lines or any(ln[0] == "#" for ln in lines):
        return None, None
    times = [ln.rpartition(" ")[2] for ln in lines]
    if not "".join(times).isdigit():
        return None, None
    if len(set(map(len, times))) == 1:  # as many digits: text order is number order
        return int(min(times)), int(max(times))
    numbers = list(map(int, times))
    return min(numbers), max(numbers)


@dataclass
class Backoff:
    failures: int
    not_before: float
    reason: str
    credentials: str | None
    last_error: str | None


class Outbox:
    """The outbox table of one journal connection."""

    def __init__(self, db: SqliteDb | PgDb) -> None:
        self.db = db

    @staticmethod
    def create_schema(db: SqliteDb | PgDb) -> None:
        """Create the tables, or add the columns an older journal lacks."""
        db.script(OUTBOX_SCHEMA)
        for col, decl in NEW_COLUMNS.items():
            db.add_column("outbox", col, decl)
        db.execute("UPDATE outbox SET series=measurement WHERE series IS NULL")
        for old in OLD_INDEXES:
            db.execute(f"DROP INDEX IF EXISTS {old}")
        db.execute(INDEX)
        if db.dialect.row_locks:  # the claim's "oldest queued batch of the series" lookup
            db.execute(SERIES_INDEX)

    # -- queueing ----------------------------------------------------------------------
    def enqueue(
        self,
        measurement: str,
        lines: Iterable[str],
        batch_points: int,
        series: str | None = None,
    ) -> int:
        """Put lines in the outbox in batches of at most ``batch_points``; returns batches added.

        ``series`` orders delivery: a batch is not sent while an older batch of the same
        series waits. The default, the measurement, is always safe; a caller that knows its
        lines belong to one athlete may pass e.g. ``"run|eva"`` so that one athlete's
        refused batch does not hold back another's.
        """
        lines = [ln for ln in lines if ln]
        if lines and self.db.dialect.row_locks and not self.db.in_transaction:
            with self.db.transaction():  # ids in commit order: the writers' lock (backends.py)
                return self.enqueue(measurement, lines, batch_points, series)
        now = pd.Timestamp.now(tz="UTC").isoformat()
        batches = [lines[i : i + batch_points] for i in range(0, len(lines), batch_points)]
        self.db.executemany(
            "INSERT INTO outbox (created_at, measurement, n_points, body, series, state,"
            " next_attempt_at, encoding, t_lo, t_hi) VALUES (?,?,?,?,?,?,0,?,?,?)",
            [(now, measurement, len(b), *_body_row(b, series or measurement)) for b in batches],
        )
        return len(batches)

    def batches(self, limit: int | None = None) -> list[OutboxBatch]:
        """Waiting batches (queued and parked) in the order they were queued (oldest first)."""
        sql = (
            "SELECT id, measurement, n_points, body, attempts, series, state, next_attempt_at,"
            f" last_error, encoding FROM outbox WHERE state IN ('{QUEUED}','{PARKED}') ORDER BY id"
        )
        if limit:
            sql += f" LIMIT {int(limit)}"
        rows = self.db.execute(sql).fetchall()
        return [OutboxBatch(*r[:3], unpack(r[3], r[9]), *r[4:9]) for r in rows]

    def slots(self, states: tuple[str, ...] = (QUEUED, PARKED)) -> list[Slot]:
        """Batches in these states without their bodies, oldest first (reads the index only)."""
        marks = ",".join("?" for _ in states)
        rows = self.db.execute(
            "SELECT id, series, state, next_attempt_at, n_points, attempts, t_lo, t_hi FROM outbox"
            f"{self.db.dialect.indexed_by(INDEX_NAME)} WHERE state IN ({marks}) ORDER BY id",
            states,
        )
        return [Slot(*r) for r in rows]

    def body(self, batch_id: int) -> str | None:
        """The lines of a batch as text (None: no such batch)."""
        raw = self.raw_body(batch_id)
        return unpack(*raw) if raw else None

    def raw_body(self, batch_id: int) -> tuple[bytes, str] | None:
        """A batch's body as stored and its encoding (``gzip`` or ``identity``), for sending
        as is with ``Content-Encoding``; None: no such batch."""
        row = self.db.execute(
            "SELECT body, encoding FROM outbox WHERE id=?", (batch_id,)
        ).fetchone()
        if not row:
            return None
        body = row[0].encode("utf-8") if isinstance(row[0], str) else bytes(row[0])
        return body, row[1]

    def last_id(self) -> int:
        """The newest batch id (0 when empty): remember it to ask :meth:`waiting_upto` later."""
        return self.db.execute("SELECT COALESCE(MAX(id), 0) FROM outbox").fetchone()[0]

    def waiting_upto(self, batch_id: int) -> int:
        """Batches up to ``batch_id`` not yet acknowledged (0: all lines queued by then are in)."""
        return self.db.execute(
            f"SELECT COUNT(*) FROM outbox WHERE state IN ('{QUEUED}','{PARKED}') AND id <= ?",
            (batch_id,),
        ).fetchone()[0]

    # -- outcomes ----------------------------------------------------------------------
    def ack(self, batch_id: int, keep: bool = False) -> None:
        """InfluxDB took the batch: delete it (``keep``: an older batch of its series is parked)."""
        if keep:
            self.db.execute(
                "UPDATE outbox SET state=?, last_error=NULL WHERE id=?", (KEPT, batch_id)
            )
        else:
            self.db.execute("DELETE FROM outbox WHERE id=?", (batch_id,))

    def failed(
        self,
        batch_id: int,
        error: str,
        next_attempt_at: float = 0.0,
        park: bool = False,
        count: bool = True,
    ) -> None:
        """Record a failed send (``count``: it was this batch's fault, towards parking)."""
        self.db.execute(
            "UPDATE outbox SET attempts=attempts+?, last_error=?,"
            f" next_attempt_at={self.db.dialect.greatest}(next_attempt_at, ?),"
            " state=CASE WHEN ? THEN ? ELSE state END WHERE id=?",
            (int(count), redact(error)[:500], next_attempt_at, park, PARKED, batch_id),
        )

    def rewrite(self, batch_id: int, lines: list[str]) -> None:
        """Keep only ``lines`` of a batch whose other lines InfluxDB already took."""
        self.db.execute(
            "UPDATE outbox SET body=?, n_points=?, encoding=? WHERE id=?",
            (pack(lines), len(lines), GZIP, batch_id),
        )

    def release_kept(self, series: str) -> int:
        """Delete acknowledged batches no parked batch of ``series`` needs any more."""
        cur = self.db.execute(
            "DELETE FROM outbox WHERE series=? AND state=? AND id < COALESCE("
            "(SELECT MIN(id) FROM outbox WHERE series=? AND state=?), 9223372036854775807)",
            (series, KEPT, series, PARKED),
        )
        return cur.rowcount

    def discard_parked(self, series: str | None = None) -> int:
        """Delete parked batches (an operator's decision, after reading ``stats()``)."""
        where = "state=?" + (" AND series=?" if series else "")
        args = (PARKED, series) if series else (PARKED,)
        found = [
            r[0] for r in self.db.execute(f"SELECT DISTINCT series FROM outbox WHERE {where}", args)
        ]
        n = self.db.execute(f"DELETE FROM outbox WHERE {where}", args).rowcount
        for s in found:
            self.release_kept(s)
        return n

    # -- server-wide backoff -------------------------------------------------------------
    def backoff(self, target: str) -> Backoff | None:
        row = self.db.execute(
            "SELECT failures, not_before, reason, credentials, last_error FROM outbox_backoff"
            " WHERE target=?",
            (target,),
        ).fetchone()
        return Backoff(*row) if row else None

    def set_backoff(self, target: str, backoff: Backoff) -> None:
        cols = ("target", "failures", "not_before", "reason", "credentials", "last_error")
        self.db.execute(
            self.db.dialect.replace_into("outbox_backoff", cols, ("target",)),
            (
                target,
                backoff.failures,
                backoff.not_before,
                backoff.reason,
                backoff.credentials,
                redact(backoff.last_error or "")[:500],
            ),
        )

    def clear_backoff(self, target: str) -> None:
        self.db.execute("DELETE FROM outbox_backoff WHERE target=?", (target,))

    # -- shipping lease ------------------------------------------------------------------
    def take_lease(self, holder: str, ttl_s: float, name: str = "ship") -> bool:
        """Become the one process that ships (or renew); False when someone else holds it.

        A lease is free when it expired or when its holder is a dead process on this host.
        """
        if self.db.in_transaction:
            raise RuntimeError("ship the outbox outside a journal transaction")
        now = time.time()
        upsert = self.db.dialect.replace_into("leases", ("name", "holder", "expires_at"), ("name",))
        with self.db.transaction():
            row = self.db.execute("SELECT holder, expires_at FROM leases WHERE name=?", (name,))
            row = row.fetchone()
            if row and row[0] != holder and row[1] > now and _holder_alive(row[0]):
                return False
            self.db.execute(upsert, (name, holder, now + ttl_s))
        return True

    def release_lease(self, holder: str, name: str = "ship") -> None:
        self.db.execute("DELETE FROM leases WHERE name=? AND holder=?", (name, holder))

    # -- several relays ------------------------------------------------------------------
    @contextmanager
    def claim(
        self,
        holder: str,
        limit: int = 8,
        per_series: int = 1,
        now: float | None = None,
        ttl_s: float = 60.0,
    ) -> Iterator[list[OutboxBatch]]:
        """Claim batches to send: the heads of up to ``limit`` series that are due at ``now``
        (Unix s), each with up to ``per_series - 1`` of its next queued batches, oldest
        first. Call :meth:`ack`/:meth:`failed` inside the ``with``; they take effect when it
        ends. PostgreSQL: the heads stay locked (``FOR UPDATE SKIP LOCKED``) in a
        transaction until then, so other relays get other series; a relay that dies lets
        go of them with its connection. SQLite: the claim holds the shipping lease
        (``holder``, ``ttl_s``); a second claimer gets nothing meanwhile.
        """
        now = time.time() if now is None else now
        if not self.db.dialect.row_locks:
            if not self.take_lease(holder, ttl_s):
                yield []
                return
            try:
                yield self._heads(now, limit, per_series)
            finally:
                self.release_lease(holder)
            return
        with self.db.transaction(lock=None):
            yield self._heads(now, limit, per_series, " FOR UPDATE OF o SKIP LOCKED")

    def parked_series(self, series: set[str]) -> set[str]:
        """Which of ``series`` have a parked batch (their acknowledged batches are kept)."""
        if not series:
            return set()
        marks = ",".join("?" for _ in series)
        rows = self.db.execute(
            f"SELECT DISTINCT series FROM outbox WHERE state=? AND series IN ({marks})",
            (PARKED, *sorted(series)),
        )
        return {r[0] for r in rows}

    def _heads(
        self, now: float, limit: int, per_series: int, locking: str = ""
    ) -> list[OutboxBatch]:
        heads = self.db.execute(
            "SELECT o.id, o.series FROM outbox o WHERE o.state=? AND o.next_attempt_at<=?"
            " AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.series=o.series AND p.state=?"
            f" AND p.id<o.id) ORDER BY o.id LIMIT ?{locking}",
            (QUEUED, now, QUEUED, int(limit)),
        ).fetchall()
        out: list[OutboxBatch] = []
        for head_id, series in heads:
            rows = self.db.execute(
                "SELECT id, measurement, n_points, body, attempts, series, state,"
                " next_attempt_at, last_error, encoding FROM outbox"
                " WHERE series=? AND state=? AND id>=? ORDER BY id LIMIT ?",
                (series, QUEUED, head_id, max(1, int(per_series))),
            ).fetchall()
            for r in rows:
                if r[7] > now and r[0] != head_id:
                    break  # a later batch not yet due: the rest of the series waits with it
                out.append(OutboxBatch(*r[:3], unpack(r[3], r[9]), *r[4:9]))
        return out

    # -- reporting -----------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        """Waiting batches/points (queued + parked), parked ones, and the last error."""
        rows = self.db.execute(
            "SELECT state, COUNT(*), COALESCE(SUM(n_points),0), MIN(created_at),"
            " MAX(attempts), MIN(next_attempt_at) FROM outbox GROUP BY state"
        ).fetchall()
        by = {r[0]: r[1:] for r in rows}
        waiting = [by[s] for s in (QUEUED, PARKED) if s in by]
        err = self.db.execute(
            "SELECT last_error FROM outbox WHERE last_error IS NOT NULL AND state!=?"
            " ORDER BY id DESC LIMIT 1",
            (KEPT,),
        ).fetchone()
        parked_err = self.db.execute(
            "SELECT last_error FROM outbox WHERE state=? ORDER BY id DESC LIMIT 1", (PARKED,)
        ).fetchone()
        server = self.db.execute(
            "SELECT last_error, not_before FROM outbox_backoff ORDER BY not_before DESC LIMIT 1"
        ).fetchone()
        return {
            "batches": sum(w[0] for w in waiting),
            "points": sum(w[1] for w in waiting),
            "oldest": min((w[2] for w in waiting), default=None),
            "max_attempts": max((w[3] for w in waiting), default=0) or 0,
            "last_error": (server[0] if server else None) or (err[0] if err else None),
            "parked": by.get(PARKED, (0, 0))[0],
            "parked_points": by.get(PARKED, (0, 0))[1],
            "parked_last_error": parked_err[0] if parked_err else None,
            "kept": by.get(KEPT, (0,))[0],
            "next_attempt_at": by[QUEUED][4] if QUEUED in by else None,
            "backoff_until": server[1] if server else None,
        }


def new_holder() -> str:
    """A lease holder id: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _holder_alive(holder: str) -> bool:
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine (shared disk): trust the expiry
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
