"""The journal's two connections: SQLite (embedded default) and PostgreSQL (psycopg 3).

Both offer the same small surface to the store modules — ``execute``/``executemany`` with
``?`` placeholders, ``insert`` (returns the new row's id), ``script`` (a DDL template),
``add_column``, ``columns``, ``transaction()``, ``in_transaction`` — and rows that index by
position and by column name (``row[0]``, ``row["id"]``, ``dict(row)``).

Transactions (docs/scale.md):

- **SQLite**: ``BEGIN IMMEDIATE``: one writer at a time across processes, readers never wait
  (WAL). Unchanged from the single-backend journal.
- **PostgreSQL**: READ COMMITTED plus one transaction-level advisory lock
  (:data:`WRITE_LOCK`) taken first thing in every ``transaction()``. That is what BEGIN
  IMMEDIATE gives: writers run one after another, each sees everything committed before it,
  and ids (the outbox's order) are handed out in commit order — so a relay never sees a newer
  batch of a series committed while an older one is still invisible. Reads outside a
  transaction are autocommit statements that never wait.

  **One athlete's writes** (:func:`athlete_scope`, set by a worker's job): the transaction
  takes that athlete's advisory lock and :data:`WRITE_LOCK` *shared*, so the jobs of
  different athletes write at the same time while every unscoped writer (exclusive) still
  runs alone. Its outbox rows get their final ids just before COMMIT, under
  :data:`ORDER_LOCK` (held to the commit): ids still follow commit order. What such a
  transaction reads of other athletes (a FIT file id or sha256 stored by another athlete's
  job in flight) may be a moment old; the unique indexes refuse the second writer
  (:class:`ConflictError`), and the job runs again after it.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from .dialect import POSTGRES, SQLITE, Dialect, pyformat
from .redact import redact, redact_url

# advisory lock keys (any 64-bit numbers; these spell "sensorhub" journal locks)
WRITE_LOCK = 0x5E_05_0A_B0_00_01
SCHEMA_LOCK = 0x5E_05_0A_B0_00_02
ORDER_LOCK = 0x5E_05_0A_B0_00_03  # outbox ids of athlete-scoped writers, at commit
_SCOPE: ContextVar[str | None] = ContextVar("sensorhub_journal_scope", default=None)
_OUTBOX_INSERT = "INSERT INTO outbox "


@contextmanager
def athlete_scope(athlete: str) -> Iterator[None]:
    """Write transactions opened inside are one athlete's (module docstring): PostgreSQL
    runs them beside other athletes' instead of one after another. The caller promises that
    they change nothing but that athlete's rows (sessions, load, alerts, marks, outbox)."""
    token = _SCOPE.set(athlete)
    try:
        yield
    finally:
        _SCOPE.reset(token)


def athlete_key(athlete: str) -> int:
    """A signed 64-bit advisory lock key for ``athlete``."""
    digest = hashlib.sha256(b"sensorhub athlete " + athlete.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


SCHEMA_VERSION = "1"


class StoreError(RuntimeError):
    """The journal cannot be used (disk full, not writable, damaged, server unreachable or
    refusing the login): one line, run stops."""


class ConflictError(StoreError):
    """A write refused by an integrity rule — mostly uniqueness: another process stored the
    same thing first."""


class Row(Protocol):
    """A result row: by position, by column name, ``keys()`` (so ``dict(row)`` works)."""

    def __getitem__(self, key: int | str) -> Any: ...

    def keys(self) -> list[str]: ...


class PgTarget:
    """A PostgreSQL journal's address; ``str()`` shows it with the password masked."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __str__(self) -> str:
        return redact_url(self.url)

    __repr__ = __str__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PgTarget) and other.url == self.url

    def __hash__(self) -> int:
        return hash(self.url)


def parse_target(where: str | Path | PgTarget, default: Path | None = None) -> Path | PgTarget:
    """A journal location from a path, a ``sqlite:///path`` URL (empty path: ``default``) or
    a ``postgresql://`` URL."""
    if isinstance(where, PgTarget | Path):
        return where
    text = str(where)
    scheme = text.partition("://")[0].lower() if "://" in text else ""
    if scheme in ("postgresql", "postgres"):
        return PgTarget(text)
    if scheme == "sqlite":
        path = unquote(urlsplit(text).path)
        if not path and default is None:
            raise StoreError(f"journal url {text!r}: give a path (sqlite:///path/journal.sqlite)")
        return Path(path) if path else default  # type: ignore[return-value]
    if scheme:
        raise StoreError(f"journal url {redact_url(text)!r}: use sqlite:///… or postgresql://…")
    return Path(text)


def connect(where: Path | PgTarget) -> SqliteDb | PgDb:
    """Open the journal's connection (a :class:`StoreError` when that fails)."""
    return PgDb(where) if isinstance(where, PgTarget) else SqliteDb(where)


# -- SQLite ------------------------------------------------------------------------------------
def sqlite_error(exc: sqlite3.Error, path: Path) -> StoreError:
    """A one-line :class:`StoreError` for an SQLite failure on the journal at ``path``."""
    text = str(exc)
    if isinstance(exc, sqlite3.IntegrityError):
        return ConflictError(f"journal {path}: {text}")
    if "full" in text:
        return StoreError(f"state dir full: free space in {path.parent} ({text})")
    if "readonly" in text or "unable to open" in text or "read-only" in text:
        return StoreError(f"state dir not writable: {path.parent} ({text})")
    return StoreError(f"journal {path}: {text}")


class SqliteDb:
    """The SQLite connection (WAL, autocommit outside :meth:`transaction`)."""

    dialect: Dialect = SQLITE

    def __init__(self, path: Path) -> None:
        self.where = self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except sqlite3.Error as exc:
            raise sqlite_error(exc, self.path) from None
        try:
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:  # e.g. a filesystem turned read-only, a full disk
            self.conn.close()
            raise sqlite_error(exc, self.path) from None
        # the connection's own methods: no wrapper on the single-user path
        self.execute = self.conn.execute
        self.executemany = self.conn.executemany

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run an INSERT; the new row's id."""
        return int(self.conn.execute(sql, params).lastrowid)

    def script(self, template: str) -> None:
        self.conn.executescript(self.dialect.ddl(template))

    def columns(self, table: str) -> set[str]:
        return {r[1] for r in self.conn.execute(f"PRAGMA table_info({table})")}

    def add_column(self, table: str, column: str, decl: str) -> None:
        """Add a column unless it is there (old journals)."""
        if column in self.columns(table):
            return
        try:
            self.conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {self.dialect.ddl(decl)}")
        except sqlite3.OperationalError as exc:  # another process added it first
            if "duplicate column" not in str(exc):
                raise

    def schema_current(self) -> bool:
        return False  # CREATE … IF NOT EXISTS on every open costs microseconds here

    def schema_transaction(self) -> Any:
        return nullcontext()

    def mark_schema(self) -> None:
        pass

    @contextmanager
    def transaction(self, lock: int | None = None) -> Iterator[SqliteDb]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``; SQLite failures become :class:`StoreError`
        (``lock`` is PostgreSQL's: SQLite has one writer lock)."""
        db = self.conn
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield self
            except BaseException:
                if db.in_transaction:  # SQLite may already have rolled back (disk full)
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise sqlite_error(exc, self.path) from None

    def close(self) -> None:
        self.conn.close()


# -- PostgreSQL --------------------------------------------------------------------------------
@lru_cache(maxsize=256)
def _row_class(names: tuple[str, ...]) -> type:
    index = {n: i for i, n in enumerate(names)}

    class PgRow(tuple):
        """A row by position or by name, like :class:`sqlite3.Row`."""

        def __getitem__(self, key: Any) -> Any:
            if isinstance(key, str):
                return tuple.__getitem__(self, index[key])
            return tuple.__getitem__(self, key)

        def keys(self) -> list[str]:
            return list(names)

    return PgRow


def _row_factory(cursor: Any) -> Any:
    names = tuple(c.name for c in cursor.description or ())
    cls = _row_class(names)
    return lambda values: cls(values)


def pg_error(exc: Exception, target: PgTarget) -> StoreError:
    """A one-line :class:`StoreError` (the URL's password masked) for a psycopg failure."""
    import psycopg

    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    text = redact(first, [urlsplit(target.url).password])
    if isinstance(exc, psycopg.errors.IntegrityError):
        return ConflictError(f"journal {target}: {text}")
    return StoreError(f"journal {target}: {text}")


class PgDb:
    """A PostgreSQL connection (autocommit outside :meth:`transaction`)."""

    dialect: Dialect = POSTGRES

    def __init__(self, target: PgTarget) -> None:
        try:
            import psycopg
        except ImportError:
            raise StoreError(
                f"journal {target}: PostgreSQL needs psycopg (pip install 'sensorhub[postgres]')"
            ) from None
        # psycopg logs "error ignored terminating <Pipeline>" (WARNING) when a connection is
        # cut inside executemany, beside the error it raises; that error is our one line
        logging.getLogger("psycopg").setLevel(logging.ERROR)
        self._psycopg = psycopg
        self.where = target
        self.path = target
        try:
            self.conn = psycopg.connect(target.url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise pg_error(exc, target) from None
        self.conn.row_factory = _row_factory
        self._locked = False  # the writers' lock (any mode) held by the open transaction
        self._new_outbox: list[int] | None = None  # a scoped transaction's outbox rows

    @property
    def in_transaction(self) -> bool:
        status = self.conn.info.transaction_status
        ts = self._psycopg.pq.TransactionStatus
        return status in (ts.ACTIVE, ts.INTRANS, ts.INERROR)  # UNKNOWN: the connection is gone

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        try:
            return self.conn.execute(pyformat(sql), tuple(params))
        except self._psycopg.Error as exc:
            if self.in_transaction:
                raise  # the transaction turns it into a StoreError after the rollback
            raise pg_error(exc, self.where) from None

    def executemany(self, sql: str, rows: Any) -> Any:
        cur = self.conn.cursor()
        rows = list(rows)
        track = self._new_outbox is not None and bool(rows) and sql.startswith(_OUTBOX_INSERT)
        try:
            if track:  # their ids are replaced at commit (module docstring)
                cur.executemany(pyformat(sql) + " RETURNING id", rows, returning=True)
                while True:
                    self._new_outbox.extend(r[0] for r in cur.fetchall())  # type: ignore[union-attr]
                    if not cur.nextset():
                        break
            else:
                cur.executemany(pyformat(sql), rows)
        except self._psycopg.Error as exc:
            if self.in_transaction:
                raise
            raise pg_error(exc, self.where) from None
        return cur

    def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run an INSERT; the new row's id (``RETURNING id``)."""
        return int(self.execute(sql + " RETURNING id", params).fetchone()[0])

    def script(self, template: str) -> None:
        for stmt in self.dialect.ddl(template).split(";"):
            if stmt.strip():
                self.execute(stmt)

    def columns(self, table: str) -> set[str]:
        rows = self.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = ?",
            (table,),
        )
        return {r[0] for r in rows}

    def add_column(self, table: str, column: str, decl: str) -> None:
        self.execute(
            f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {self.dialect.ddl(decl)}"
        )

    def schema_current(self) -> bool:
        """The schema of this version is in place (one query: opening again is cheap)."""
        try:
            row = self.execute("SELECT value FROM journal_meta WHERE key='schema'").fetchone()
        except StoreError:
            return False  # no journal_meta yet: a new database
        return bool(row) and row[0] == SCHEMA_VERSION

    @contextmanager
    def schema_transaction(self) -> Iterator[None]:
        """Create or migrate the schema: one process at a time, all or nothing."""
        with self.transaction(lock=SCHEMA_LOCK):
            yield

    def mark_schema(self) -> None:
        self.execute("CREATE TABLE IF NOT EXISTS journal_meta (key TEXT PRIMARY KEY, value TEXT)")
        self.execute(
            "INSERT INTO journal_meta VALUES ('schema', ?) ON CONFLICT (key)"
            " DO UPDATE SET value=excluded.value",
            (SCHEMA_VERSION,),
        )

    @contextmanager
    def transaction(self, lock: int | None = WRITE_LOCK) -> Iterator[PgDb]:
        """One transaction holding the writers' advisory lock (module docstring); ``lock``
        None: no advisory lock (an outbox claim, which locks the rows it takes). Nested:
        a savepoint; the lock, once taken, is held to the outermost COMMIT."""
        take = lock is not None and not self._locked
        scoped = take and lock == WRITE_LOCK and _SCOPE.get() is not None
        outer = not self.in_transaction
        try:
            with self.conn.transaction():
                if scoped:
                    self.conn.execute(
                        "SELECT pg_advisory_xact_lock(%s), pg_advisory_xact_lock_shared(%s)",
                        (athlete_key(_SCOPE.get() or ""), WRITE_LOCK),
                    )
                    self._new_outbox = []
                elif take:
                    self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
                self._locked = self._locked or (take and lock == WRITE_LOCK)
                yield self
                if scoped:
                    self._order_outbox()
        except self._psycopg.Error as exc:
            raise pg_error(exc, self.where) from None
        finally:
            if scoped:
                self._new_outbox = None
            if outer:
                self._locked = False

    def _order_outbox(self) -> None:
        """Give this transaction's outbox rows new ids, in their order, under
        :data:`ORDER_LOCK` (held to the commit): ids follow commit order."""
        old = sorted(self._new_outbox or ())
        if not old:
            return
        self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (ORDER_LOCK,))
        new = [
            r[0]
            for r in self.conn.execute(
                "SELECT nextval(pg_get_serial_sequence('outbox', 'id'))"
                " FROM generate_series(1, %s) ORDER BY 1",
                (len(old),),
            )
        ]
        self.conn.execute(
            "UPDATE outbox o SET id = m.new FROM unnest(%s::bigint[], %s::bigint[]) m(old, new)"
            " WHERE o.id = m.old",
            (old, new),
        )

    def close(self) -> None:
        self.conn.close()
