"""Durable live writes: pending lines -> journal outbox -> InfluxDB, on a background thread.

Every ``interval_s`` the writer moves the lines put since the last tick into the outbox of
the journal (one SQLite transaction: from then on a crash or an InfluxDB outage loses
nothing) and, when InfluxDB is configured, ships the outbox with
:class:`sensorhub.delivery.Delivery` (a batch leaves the outbox only after a 2xx).
While InfluxDB is away the backlog grows in the outbox and the next tick that reaches it
ships it, oldest first.

All journal and HTTP work runs on one dedicated thread (SQLite connections belong to their
thread), so a slow or unreachable InfluxDB never blocks the asyncio loop that receives
notifications. Lines put with the same key before a tick are coalesced (the last wins):
the per-second ``run`` point is rewritten after each notification but stored once per tick.
Lines put as ``urgent`` (detected steps, whose detection already waited for the toe-off)
wake the writer early: ticks start at most every ``min_gap_s`` (counted from the start of the
last tick, so a slow tick is not followed by a further wait).

Latency: each tick remembers the newest outbox batch id (``outbox.last_id()``) with the
events whose lines it stored; on a later tick, events whose mark has nothing left waiting
(``outbox.waiting_upto(mark) == 0``) go into ``stats.latency_ms``. While InfluxDB refuses,
at most ``max_unacked`` events wait (the oldest are dropped and counted in
``stats.unacked_dropped``), and each tick's flush stops after ``flush_deadline_s``, so a
slow InfluxDB never stalls a tick for longer than that (plus the request under way, which
the deadline cuts too). A flush cut by its deadline doubles the next one's (up to the
InfluxDB ``timeout_s``; back to ``flush_deadline_s`` after a flush that emptied the outbox):
an InfluxDB that needs longer than the deadline for one request would otherwise have every
tick cut the same request, and nothing would ever be acknowledged. Retries follow the writer's policy (:mod:`sensorhub.store.influx`)
on the writer's ``clock``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ..config import Config
from ..delivery import Delivery
from ..store import FlushReport, Journal

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_UNACKED = 100_000  # events waiting for their InfluxDB acknowledgement (memory bound)
FLUSH_DEADLINE_S = 2.0  # one tick's flush at most (s)
# ticks start at most this often (s): a step waits at most this long for its tick (latency),
# while the ~10 steps/s of a session are still grouped into a few requests (CPU)
MIN_GAP_S = 0.05


@dataclass
class WriterStats:
    """Counters; ``latency_ms[kind]`` holds (up to 100 000) event -> InfluxDB ack latencies
    (ms); ``unacked`` events wait for their acknowledgement, ``unacked_dropped`` were dropped
    from that wait (more than ``max_unacked`` while InfluxDB refused or was away)."""

    ticks: int = 0
    enqueued_points: int = 0
    sent_points: int = 0
    failed_flushes: int = 0
    last_error: str = ""
    backlog_points: int = 0
    unacked: int = 0
    unacked_dropped: int = 0
    latency_ms: dict[str, deque[float]] = field(default_factory=dict)

    def record(self, kind: str, values_ms: list[float]) -> None:
        self.latency_ms.setdefault(kind, deque(maxlen=100_000)).extend(values_ms)


class OutboxWriter:
    """Background outbox writer for one journal (see the module docstring).

    ``put(key, measurement, line, t_event_ns, kind)``: ``t_event_ns`` (Unix ns) is the
    notification arrival (``kind`` 'run') or the end of a step ('stride'; 'stride_end' for
    the steps completed when the session ends, see ``LiveSink.close``); when the line
    is acknowledged by InfluxDB, ack time − event time goes to ``stats.latency_ms[kind]``.

    Args:
        clock: Unix ns; also schedules the outbox's retries (tests move it by hand).
        max_unacked: events kept waiting for an acknowledgement at most.
        flush_deadline_s: one tick's flush at most (seconds).
    """

    def __init__(
        self,
        cfg: Config,
        interval_s: float = 0.5,
        journal_path: str | Path | None = None,
        clock: Callable[[], int] = time.time_ns,
        min_gap_s: float = MIN_GAP_S,
        max_unacked: int = MAX_UNACKED,
        flush_deadline_s: float = FLUSH_DEADLINE_S,
    ) -> None:
        self.cfg = cfg
        self.interval_s = interval_s
        self.min_gap_s = min_gap_s
        self.flush_deadline_s = flush_deadline_s
        self._deadline_s = flush_deadline_s  # this tick's (see the module docstring)
        self._wake = asyncio.Event()
        self.journal_path = Path(journal_path or cfg.journal_path)
        self.clock = clock
        self.stats = WriterStats()
        self._lock = threading.Lock()
        self._pending: dict[Any, tuple[str, str]] = {}
        self._events: list[tuple[str, int]] = []
        self._unacked: deque[tuple[int, str, int]] = deque(maxlen=max_unacked)  # mark,kind,t
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox")
        self._journal: Journal | None = None
        self._delivery: Delivery | None = None
        self._task: asyncio.Task | None = None
        self._stop = asyncio.Event()

    # -- producer side (asyncio loop) ------------------------------------------------
    def put(
        self,
        key: Any,
        measurement: str,
        line: str,
        t_event_ns: int | None = None,
        kind: str | None = None,
        urgent: bool = False,
    ) -> None:
        """Queue a line (loop thread); ``urgent`` ticks early (at most every ``min_gap_s``)."""
        with self._lock:
            self._pending[key] = (measurement, line)
            if t_event_ns is not None:
                self._events.append((kind or measurement, t_event_ns))
        if urgent:
            self._wake.set()

    async def start(self) -> None:
        await self.call(lambda journal: None)  # open the journal now: fail early
        self._task = asyncio.create_task(self._loop(), name="outbox-writer")

    async def stop(self) -> None:
        """Stop ticking after a last tick (pending lines reach the outbox, then InfluxDB)."""
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            await self._task
        await self.tick()

    async def close(self) -> None:
        await self.call(lambda journal: self._close_resources())
        self._executor.shutdown(wait=True)

    async def tick(self) -> FlushReport | None:
        return await self.call(self._tick)

    async def call(self, fn: Callable[[Journal], T]) -> T:
        """Run ``fn(journal)`` on the writer thread (the journal's own thread)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(self.journal))

    async def _loop(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval_s)
            if self._stop.is_set():
                break
            self._wake.clear()
            started = time.monotonic()
            try:
                await self.tick()
                await asyncio.sleep(max(0.0, self.min_gap_s - (time.monotonic() - started)))
            except Exception:  # noqa: BLE001 - keep writing whatever happened once
                log.exception("outbox tick failed")

    # -- writer thread -----------------------------------------------------------------
    @property
    def journal(self) -> Journal:
        if self._journal is None:
            self._journal = Journal(self.journal_path)
        return self._journal

    def _close_resources(self) -> None:
        if self._delivery is not None:
            self._delivery.close()
        if self._journal is not None:
            self._journal.close()
        self._delivery = self._journal = None

    def _tick(self, journal: Journal) -> FlushReport | None:
        with self._lock:
            pending, self._pending = self._pending, {}
            events, self._events = self._events, []
        self.stats.ticks += 1
        if pending:
            by_measurement: dict[str, list[str]] = {}
            for measurement, line in pending.values():
                by_measurement.setdefault(measurement, []).append(line)
            with journal.transaction():
                for measurement, lines in by_measurement.items():
                    journal.outbox.enqueue(measurement, lines, self.cfg.influx.batch_points)
            self.stats.enqueued_points += len(pending)
        if self.cfg.influx.enabled:  # without InfluxDB nothing is ever acknowledged
            self._remember(journal.outbox.last_id(), events)
        report = self.flush(journal)
        if report is not None:
            self._acknowledge(journal)
        return report

    def flush(self, journal: Journal) -> FlushReport | None:
        """Ship webhooks and the outbox now (writer thread only), for at most
        ``flush_deadline_s`` (longer after flushes cut by it); None without InfluxDB."""
        if self._delivery is None:
            self._delivery = Delivery(self.cfg, journal, clock=lambda: self.clock() / 1e9)
        report = self._delivery.ship(deadline_s=self._deadline_s).influx
        if report is None:
            return None
        if report.deadline_reached:
            longest = max(self.flush_deadline_s, self.cfg.influx.timeout_s)
            self._deadline_s = min(2 * self._deadline_s, longest)
        elif report.ok:
            self._deadline_s = self.flush_deadline_s
        self.stats.sent_points += report.sent_points
        self.stats.backlog_points = journal.outbox.stats()["points"] if not report.ok else 0
        if not report.ok:
            self.stats.failed_flushes += 1
            if report.errors:  # a flush that only waited for a backoff keeps the last reason
                self.stats.last_error = report.errors[-1]
        return report

    def _remember(self, mark: int, events: list[tuple[str, int]]) -> None:
        """Events whose lines are in the outbox up to batch ``mark`` (bounded, oldest out)."""
        room = (self._unacked.maxlen or 0) - len(self._unacked)
        self.stats.unacked_dropped += max(0, len(events) - room)
        self._unacked.extend((mark, kind, t) for kind, t in events)
        self.stats.unacked = len(self._unacked)

    def _acknowledge(self, journal: Journal) -> None:
        """Latencies of the events whose batches (and every older one) are acknowledged."""
        if not self._unacked:
            return
        now = self.clock()
        by_kind: dict[str, list[float]] = {}
        acked_upto = -1
        while self._unacked:
            mark, kind, t = self._unacked[0]
            if mark > acked_upto:  # marks only grow: ask once per mark
                if journal.outbox.waiting_upto(mark):
                    break
                acked_upto = mark
            self._unacked.popleft()
            by_kind.setdefault(kind, []).append((now - t) / 1e6)
        for kind, values in by_kind.items():
            self.stats.record(kind, values)
        self.stats.unacked = len(self._unacked)
