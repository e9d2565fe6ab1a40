"""``sensorhub worker``: run ingest and recompute jobs from the shared journal's queue.

A worker process runs one job at a time (Procrastinate ``concurrency=1``): the work is
decoding and numpy in Python, so a second job in the same process would only share its GIL;
``--concurrency N`` starts N such processes (:func:`run_workers`). Each process keeps one
journal connection for its jobs and a second one for its janitor.

A job: read the file's bytes from ``blobs``, ``Pipeline.ingest_file`` (one journal
transaction), then that athlete's daily load and alerts (:meth:`Recompute.athlete`) in the
same process, under the job's athlete lock — unless another job of the athlete is queued
behind it, which recomputes instead (:meth:`Runtime.recompute_unless_queued`). A worker killed mid-job: its transaction rolls
back with its connection; its heartbeat stops, and after :data:`STALL_S` another worker's
janitor puts the job back in the queue (Procrastinate's stalled-job retry). Run again, the
file is a duplicate if it was stored, and the recompute finishes what the mark says.

The janitor (every :data:`JANITOR_S`): requeue stalled jobs; queue a recompute for athletes
left marked dirty with no job waiting or running (a recompute raced by a ``sensorhub flush``
in another process, which re-marks the athlete); with ``--until-idle``, stop the worker once
no job waits or runs and no athlete is marked.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from procrastinate import exceptions as pexc
from procrastinate.worker import Worker

from .. import faultpoints
from ..config import Config
from ..pipeline import Pipeline
from ..store import Journal, StoreError, journal_target, open_journal
from ..store.backends import athlete_scope
from ..store.blobs import Blobs, busy_locks, queued_behind
from ..store.redact import redact
from ..store.roster import refresh_athletes
from .queue import (
    INGEST,
    RECOMPUTE,
    TRANSIENT,
    FileRejected,
    athlete_lock,
    make_app,
    prepare,
    recompute_locks,
)


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


HEARTBEAT_S = _env_float("SENSORHUB_JOB_HEARTBEAT_S", 10.0)  # a live worker says so this often
STALL_S = _env_float("SENSORHUB_JOB_STALL_S", 30.0)  # silent this long: its job is requeued
JANITOR_S = _env_float("SENSORHUB_JOB_JANITOR_S", 2.0)
POLL_S = 1.0  # the fallback poll; LISTEN/NOTIFY wakes workers on a new job at once
RECOMPUTE_ROUNDS = 3  # re-marked by a racing recompute elsewhere: run again (bounded)

Say = Callable[[str], None]


class Runtime:
    """One worker process's state: its journal connection and a pipeline per athlete."""

    def __init__(self, cfg: Config, say: Say | None = None) -> None:
        self.cfg = cfg
        self.say = say or (lambda line: None)
        self._journal: Journal | None = None
        self._pipelines: dict[str, Pipeline] = {}

    @property
    def journal(self) -> Journal:
        if self._journal is None:
            self._journal = open_journal(self.cfg)
        return self._journal

    def pipeline(self, athlete: str) -> Pipeline:
        """The pipeline storing files under ``athlete`` (cached: alert engines, kinds)."""
        if athlete not in self._pipelines:
            self._pipelines[athlete] = Pipeline(self.cfg, journal=self.journal, athlete=athlete)
        return self._pipelines[athlete]

    def reset(self) -> None:
        """Forget the connection after a store failure: the next job opens a new one."""
        if self._journal is not None:
            with contextlib.suppress(Exception):
                self._journal.close()
        self._journal, self._pipelines = None, {}

    # -- the two task bodies ------------------------------------------------------------
    def ingest(self, sha256: str, name: str, athlete: str) -> str:
        """Store one submitted file, then recompute its athlete; the one-line result."""
        try:
            with athlete_scope(athlete):  # beside other athletes' jobs (store/backends.py)
                return self._ingest(sha256, name, athlete)
        except TRANSIENT:
            self.reset()
            raise

    def _ingest(self, sha256: str, name: str, athlete: str) -> str:
        blobs = Blobs(self.journal.db)
        blob = blobs.get(sha256)
        if blob is None:
            if self.journal.source_by_sha(sha256) is None:
                raise FileRejected(f"{name}: its bytes are no longer in the journal")
            # a run of this job stored the file and deleted its bytes, then died before the
            # job was marked done: the file is in; finish its athlete's recompute
            self.recompute_unless_queued(athlete)
            return f"{name}: already ingested (same bytes)"
        faultpoints.checkpoint("job.before_ingest")
        result = self.pipeline(athlete).ingest_file(Path(blob.name), data=blob.data)
        faultpoints.checkpoint("job.after_ingest")
        if result.failed:
            blobs.set_reason(sha256, result.message)
        self.recompute_unless_queued(athlete)
        faultpoints.checkpoint("job.after_recompute")
        if result.failed:
            raise FileRejected(result.line())  # bytes kept: the job can be retried
        blobs.delete(sha256)  # the journal keeps the sha256: the same bytes stay a duplicate
        faultpoints.checkpoint("job.after_blob_delete")
        return result.line()

    def recompute_unless_queued(self, athlete: str) -> None:
        """Recompute now, unless another job of the athlete waits: it runs next (same
        lock) and recomputes then — one recompute per burst of files, not one per file
        (each reads the athlete's whole history). The mark is durable meanwhile."""
        if not queued_behind(self.journal.db, athlete_lock(athlete)):
            self.recompute(athlete)

    def recompute(self, athlete: str) -> None:
        """The athlete's daily load and alerts, while a mark says they are stale."""
        try:
            refresh_athletes(self.cfg, self.journal)  # an `athletes edit` applies now
            for _ in range(RECOMPUTE_ROUNDS):
                mark = self.journal.dirty().get(athlete)
                if mark is None:
                    return
                with athlete_scope(athlete):
                    self.pipeline(athlete).recompute.athlete(athlete, mark[1])
        except TRANSIENT:
            self.reset()
            raise


def _ingest_task(context: Any, sha256: str, name: str, athlete: str) -> None:
    rt: Runtime = context.additional_context["runtime"]
    try:
        rt.say(rt.ingest(sha256, name, athlete))
    except FileRejected as exc:
        rt.say(f"failed: {exc}")
        raise


def _recompute_task(context: Any, athlete: str) -> None:
    rt: Runtime = context.additional_context["runtime"]
    rt.recompute(athlete)


TASKS = {INGEST: _ingest_task, RECOMPUTE: _recompute_task}


class Janitor:
    """Requeue stalled jobs, queue leftover recomputes, notice the queue drained (module
    docstring). Its own journal connection: the jobs' one may be mid-transaction."""

    def __init__(self, cfg: Config, app: Any, until_idle: bool) -> None:
        self.cfg, self.app, self.until_idle = cfg, app, until_idle
        self.target = journal_target(cfg)
        self._journal: Journal | None = open_journal(cfg)
        self.recompute = app.tasks[RECOMPUTE]

    @property
    def journal(self) -> Journal:
        if self._journal is None:  # lost with the server (a restart): a new connection
            self._journal = open_journal(self.cfg)
        return self._journal

    async def requeue_stalled(self) -> int:
        n = 0
        for job in await self.app.job_manager.get_stalled_jobs(seconds_since_heartbeat=STALL_S):
            with contextlib.suppress(Exception):  # another janitor requeued it first
                await self.app.job_manager.retry_job(job)
                n += 1
        return n

    def look(self) -> tuple[list[str], bool]:
        """Marked athletes nobody works on, and whether the queue is drained."""
        db = self.journal.db
        busy = busy_locks(db)
        dirty = self.journal.dirty()
        counts = Blobs(db).counts()
        idle = [a for a in dirty if athlete_lock(a) not in busy]
        return idle, not dirty and not counts.get("todo") and not counts.get("doing")

    async def run(self, worker: Worker) -> None:
        quiet, down = 0, False
        while True:
            try:
                idle, done = await self.sweep()
            except (*TRANSIENT, pexc.ConnectorException) as exc:
                # the journal went away (a restart, a failover): say so once and keep
                # sweeping — a janitor that died here left --until-idle waiting forever
                if not down:
                    line = str(
                        queue_error(exc, self.target)
                        if isinstance(exc, pexc.ConnectorException)
                        else exc
                    )
                    print(f"{line} (retrying)", file=sys.stderr, flush=True)
                down, done = True, False
                self.close()
            else:
                if down:
                    print(f"journal {self.target}: reachable again", file=sys.stderr, flush=True)
                down = False
            quiet = quiet + 1 if done else 0
            if self.until_idle and quiet >= 2:  # two looks in a row: not a gap between jobs
                worker.stop()
                return
            await asyncio.sleep(JANITOR_S)

    async def sweep(self) -> tuple[list[str], bool]:
        """One round: requeue, queue leftover recomputes; :meth:`look`'s answer."""
        await self.requeue_stalled()
        idle, done = await asyncio.to_thread(self.look)
        for athlete in idle:
            with contextlib.suppress(pexc.AlreadyEnqueued):
                await self.recompute.configure(**recompute_locks(athlete)).defer_async(
                    athlete=athlete
                )
        return idle, done

    def close(self) -> None:
        if self._journal is not None:
            with contextlib.suppress(Exception):
                self._journal.close()
        self._journal = None


async def _work(cfg: Config, until_idle: bool, say: Say, name: str) -> None:
    runtime = Runtime(cfg, say)
    app = make_app(runtime.journal.path, TASKS)
    async with app.open_async():
        worker = Worker(
            app=app,
            name=name,
            concurrency=1,
            wait=True,
            fetch_job_polling_interval=POLL_S,
            additional_context={"runtime": runtime},
            install_signal_handlers=False,
            update_heartbeat_interval=HEARTBEAT_S,
            stalled_worker_timeout=STALL_S,
        )
        janitor = Janitor(cfg, app, until_idle)
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(_lost_job_end(janitor.target))
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, worker.stop)  # finish the running job, then stop
        sweeping = asyncio.create_task(janitor.run(worker))
        try:
            await worker.run()
        finally:
            sweeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeping
            janitor.close()
            runtime.reset()


def _lost_job_end(target: Any) -> Callable[[asyncio.AbstractEventLoop, dict], None]:
    """The loop's handler of errors no task awaited. Procrastinate records a job's end in a
    task of its own; when the journal goes away just then, that task's error reaches the loop
    ("Task exception was never retrieved" and a traceback on stderr). The job is left
    "doing" and the janitor requeues it (a stalled job), so this is one line; anything
    else goes to asyncio's default handler."""

    def handle(loop: asyncio.AbstractEventLoop, context: dict) -> None:
        exc = context.get("exception")
        if isinstance(exc, (pexc.ConnectorException, *TRANSIENT)):
            line = queue_error(exc, target) if isinstance(exc, pexc.ConnectorException) else exc
            print(f"{line} (a job's end was not recorded: it runs again)", file=sys.stderr)
            return
        loop.default_exception_handler(context)

    return handle


def run_worker(
    cfg: Config, until_idle: bool = False, say: Say | None = None, name: str = ""
) -> None:
    """Run one worker process's loop until stopped (or drained, ``until_idle``)."""
    journal = open_journal(cfg)
    try:
        if journal.backend != "postgresql":
            raise StoreError("sensorhub worker needs a PostgreSQL journal")
        prepare(journal.db)
    finally:
        journal.close()
    try:
        asyncio.run(
            _work(cfg, until_idle, say or (lambda line: None), name or f"worker-{os.getpid()}")
        )
    except pexc.ConnectorException as exc:  # the queue's own connections (psycopg pool)
        raise queue_error(exc, journal.path) from None


def queue_error(exc: Exception, target: Any) -> StoreError:
    """A one-line :class:`StoreError` (password masked) for a failure of the queue's pool."""
    cause = exc.__cause__ or exc
    first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    secret = urlsplit(getattr(target, "url", "")).password
    return StoreError(f"job queue {target}: {redact(first, [secret])}")


def _child(cfg: Config, until_idle: bool, index: int) -> None:
    def say(line: str) -> None:
        print(line, flush=True)

    try:
        run_worker(cfg, until_idle, say, name=f"worker-{os.getpid()}-{index}")
    except StoreError as exc:
        print(str(exc), file=sys.stderr, flush=True)
        sys.exit(2)


def run_workers(cfg: Config, n: int, until_idle: bool = False) -> int:
    """``n`` worker processes (module docstring); the worst exit code."""
    ctx = multiprocessing.get_context("fork")  # before any connection or thread is opened
    procs = [ctx.Process(target=_child, args=(cfg, until_idle, i)) for i in range(n)]
    for p in procs:
        p.start()

    def forward(signum: int, _frame: Any) -> None:
        for p in procs:
            if p.is_alive():
                os.kill(p.pid, signum)

    old = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        for p in procs:
            p.join()
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    return max((p.exitcode or 0) for p in procs)
