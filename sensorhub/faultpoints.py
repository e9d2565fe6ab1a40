"""Kill points for crash tests: ``checkpoint(name)`` SIGKILLs the process on request.

A test harness starts a subprocess with ``SENSORHUB_KILL_AT=name`` (the first time the
checkpoint ``name`` is reached) or ``SENSORHUB_KILL_AT=name:N`` (the Nth time). SIGKILL, not
an exception: nothing runs after it (no ``finally``, no SQLite rollback, no atexit), which is
what a power cut or the OOM killer does. The variable is read once, at import; without it
``checkpoint`` is a comparison and a return.

Checkpoints in use: ``record.before_commit``, ``record.after_commit``
(:mod:`sensorhub.recorder`); ``recompute.mid`` (:mod:`sensorhub.recompute`);
``flush.before_send``, ``flush.after_send`` (between InfluxDB's 2xx and the outbox delete;
:mod:`sensorhub.store.influx`); ``job.before_ingest``, ``job.after_ingest`` (stored, not yet
recomputed), ``job.after_recompute``, ``job.after_blob_delete``
(:mod:`sensorhub.jobs.work`).
"""

from __future__ import annotations

import os
import signal

ENV = "SENSORHUB_KILL_AT"


def _parse(value: str | None) -> tuple[str, int] | None:
    if not value:
        return None
    name, _, nth = value.partition(":")
    return name, int(nth) if nth else 1


_target = _parse(os.environ.get(ENV))
_hits = 0


def checkpoint(name: str) -> None:
    """SIGKILL this process the Nth time ``name`` is reached when ``SENSORHUB_KILL_AT`` asks."""
    global _hits
    if _target is None or name != _target[0]:
        return
    _hits += 1
    if _hits >= _target[1]:
        os.kill(os.getpid(), signal.SIGKILL)
