"""The job queue: Procrastinate on the shared PostgreSQL journal.

Two tasks (their bodies are in :mod:`sensorhub.jobs.work`):

- ``sensorhub.ingest`` (one per submitted file): ``queueing_lock`` = the file's sha256, so a
  second copy waiting in the queue is refused by the engine; ``lock`` = the athlete, so one
  athlete's jobs run one at a time, in submission order, while a worker that finds the
  athlete busy takes another athlete's job instead of waiting (Procrastinate's fetch skips
  jobs whose lock a running job holds — no advisory lock taken after claiming).
- ``sensorhub.recompute`` (an athlete's daily load and alerts, when a mark was left over):
  same ``lock``, ``queueing_lock`` ``recompute:<athlete>``.

Transient failures (the journal or the network: :class:`~sensorhub.store.StoreError`,
``OSError``) are retried with exponential backoff (2, 4, 8 … s, :data:`MAX_ATTEMPTS` runs);
a file that does not decode fails at once with its one-line reason (:class:`FileRejected`).
"""

from __future__ import annotations

import logging
from typing import Any

import procrastinate
from procrastinate.schema import SchemaManager

from ..store import PgTarget, StoreError
from ..store.blobs import ensure_schema

INGEST, RECOMPUTE = "sensorhub.ingest", "sensorhub.recompute"
MAX_ATTEMPTS = 6  # 2 + 4 + 8 + 16 + 32 s of backoff: a journal restart or a network blip
POOL_SIZE = 4  # connections per worker process: fetch, listen, heartbeat, finish


class FileRejected(Exception):
    """The file itself is bad (does not decode, no source kind reads it): never retried."""


TRANSIENT = (StoreError, OSError, ConnectionError)
RETRY = procrastinate.RetryStrategy(
    max_attempts=MAX_ATTEMPTS, exponential_wait=2, retry_exceptions=list(TRANSIENT)
)


def make_app(target: PgTarget, tasks: dict[str, Any] | None = None) -> procrastinate.App:
    """A Procrastinate app on the journal's database with the two tasks registered
    (``tasks``: {name: function}; None registers placeholders, enough to defer)."""
    connector = procrastinate.PsycopgConnector(
        conninfo=target.url, min_size=1, max_size=POOL_SIZE, kwargs={"connect_timeout": 10}
    )
    app = procrastinate.App(connector=connector)
    funcs = tasks or {INGEST: _placeholder, RECOMPUTE: _placeholder}
    for name, func in funcs.items():
        app.task(name=name, retry=RETRY, pass_context=True)(func)
    logging.getLogger("procrastinate").setLevel(logging.CRITICAL)  # our own one-line reports
    logging.getLogger("psycopg.pool").setLevel(logging.CRITICAL)  # (its reconnect attempts)
    return app


def _placeholder(context: Any, **kwargs: Any) -> None:  # pragma: no cover - never run
    raise RuntimeError("run jobs with sensorhub worker")


def prepare(db: Any) -> None:
    """Create the ``blobs`` table and Procrastinate's schema on the journal's database."""
    ensure_schema(db, SchemaManager.get_schema(), "procrastinate_jobs")


def athlete_lock(athlete: str) -> str:
    """The lock every job of ``athlete`` holds while it runs."""
    return f"athlete:{athlete}"


def ingest_locks(sha256: str, athlete: str) -> dict[str, str]:
    """The locks of a file's ingest job (module docstring)."""
    return {"lock": athlete_lock(athlete), "queueing_lock": f"file:{sha256}"}


def recompute_locks(athlete: str) -> dict[str, str]:
    return {"lock": athlete_lock(athlete), "queueing_lock": f"recompute:{athlete}"}
