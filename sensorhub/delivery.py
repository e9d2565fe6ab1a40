"""Delivery: ship what the journal holds for the outside world.

:meth:`Delivery.ship` sends due alert webhooks (:mod:`sensorhub.alerts.webhook`, a durable
queue with backoff) and the InfluxDB outbox (:mod:`sensorhub.store.influx`: a batch leaves
the outbox only after InfluxDB acknowledged it). The CLI, ``watch``, ``Pipeline.ingest`` and
the live writer all ship through here.

:meth:`Delivery.start` / :meth:`Delivery.stop` ship the InfluxDB outbox on a background thread
while the caller goes on storing (a season's ingest: decoding the next file overlaps with
writing the last one). The thread has its own journal connection (SQLite connections belong
to their thread; WAL lets it read and acknowledge while the caller's connection stores) and its
own writer; the outbox lease keeps it the only shipper, so batches go in the same order and
under the same policy as with :meth:`Delivery.flush`. Memory stays bounded: the outbox is the
buffer (committed batches on disk), the thread holds one request per HTTP connection
(``[influx] connections``, default 2; batches that may share a point never go together;
small batches joined up to ``batch_points`` points: see ``InfluxWriter.coalesce_points``).
It ships at most
``BATCHES_PER_FLUSH`` batches per flush, so :meth:`stop` waits for at most that many
requests; whatever is left goes with the caller's final :meth:`ship` (see :func:`merged`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from .alerts import WebhookReport, WebhookSender
from .config import Config
from .store import FlushReport, InfluxWriter, Journal

IDLE_S = 0.05  # background shipping: pause when the outbox had nothing due, seconds
FAILED_S = 1.0  # ... and after a flush that failed (InfluxDB down: no tight retry loop)
# a stop request waits for at most this many requests (fewer: joined batches count one each;
# a timeout or an error ends the flush at once). Each flush costs a lease commit and a read of
# the schedule: with 4, a season spent 150 flushes on them.
BATCHES_PER_FLUSH = 16


@dataclass
class DeliveryReport:
    influx: FlushReport | None  # None: InfluxDB not configured
    webhook: WebhookReport | None  # None: no webhook configured


@dataclass
class Shipped:
    """What the background thread shipped (see :meth:`Delivery.stop`)."""

    batches: int = 0
    points: int = 0
    flushes: int = 0
    last_error: str | None = None

    def add(self, report: FlushReport) -> None:
        self.flushes += 1
        self.batches += report.sent_batches
        self.points += report.sent_points
        if report.errors:
            self.last_error = report.errors[-1]


def merged(final: FlushReport | None, shipped: Shipped | None) -> FlushReport | None:
    """The final flush's report with what the background thread sent before it added
    (``sent_*``); what is left and the errors are the final flush's (the state now)."""
    if final is None or shipped is None:
        return final
    final.sent_batches += shipped.batches
    final.sent_points += shipped.points
    return final


class Delivery:
    """Ships one journal's outbox and webhook queue; keeps its HTTP clients between calls."""

    coalesce: bool = True  # join small queued batches into one request (see _writer)

    def __init__(
        self,
        cfg: Config,
        journal: Journal,
        now: pd.Timestamp | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.cfg = cfg
        self.journal = journal
        self.now = now
        self.clock = clock  # Unix seconds for retry schedules (the live writer's own clock)
        self._influx: InfluxWriter | None = None
        self._webhook: WebhookSender | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._shipped = Shipped()

    def ship(self, parked: bool = False, deadline_s: float | None = None) -> DeliveryReport:
        """Send due webhooks, then the outbox (``parked``: retry parked batches too;
        ``deadline_s``: stop sending after this many seconds)."""
        webhook = self.webhooks()
        return DeliveryReport(influx=self.flush(parked, deadline_s), webhook=webhook)

    def flush(self, parked: bool = False, deadline_s: float | None = None) -> FlushReport | None:
        if not self.cfg.influx.enabled:
            return None
        if self._influx is None:
            self._influx = self._writer()
        return self._influx.flush(self.journal, parked=parked, deadline_s=deadline_s)

    def _writer(self) -> InfluxWriter:
        """A writer that joins queued batches into requests of up to ``batch_points`` points
        (one WAL sync in InfluxDB for many small batches: see ``InfluxWriter.coalesce_points``)."""
        extra = {"clock": self.clock} if self.clock else {}
        writer = InfluxWriter(self.cfg.influx, **extra)
        if self.coalesce:
            writer.coalesce_points = self.cfg.influx.batch_points
        return writer

    def webhooks(self, force: bool = False) -> WebhookReport | None:
        if not self.cfg.alerts.webhook_url:
            return None
        if self._webhook is None:
            self._webhook = WebhookSender(self.cfg.alerts, self.journal.alerts)
        return self._webhook.flush(now=self.now, force=force)

    # -- background shipping ----------------------------------------------------------------
    def start(self, idle_s: float = IDLE_S) -> bool:
        """Ship committed outbox batches on a background thread until :meth:`stop`.

        Returns False (and does nothing) when InfluxDB is not configured, the journal is in
        memory, or the thread already runs. ``idle_s``: pause after a flush that sent nothing.
        """
        if not self.cfg.influx.enabled or str(self.journal.path) == ":memory:" or self._thread:
            return False
        self._stopping.clear()
        self._shipped = Shipped()
        self._thread = threading.Thread(
            target=self._run, args=(idle_s,), name="sensorhub-delivery", daemon=True
        )
        self._thread.start()
        return True

    def stop(self, timeout_s: float | None = None) -> Shipped:
        """End the background thread after the flush under way (at most ``timeout_s`` of
        waiting); what it shipped. What is left ships with the next :meth:`ship`."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            thread.join(timeout_s)
        return self._shipped

    def _run(self, idle_s: float) -> None:
        try:
            journal = self.journal.reopen()  # its own connection: SQLite or PostgreSQL
        except Exception as exc:  # noqa: BLE001 - the caller's final ship reports it in one line
            self._shipped.last_error = str(exc)
            return
        writer = self._writer()
        try:
            while not self._stopping.is_set():
                report = writer.flush(journal, BATCHES_PER_FLUSH)
                self._shipped.add(report)
                if not report.sent_batches:
                    self._stopping.wait(FAILED_S if report.errors else idle_s)
        except Exception as exc:  # noqa: BLE001 - e.g. a full disk: the final ship says it
            self._shipped.last_error = str(exc)
        finally:
            writer.close()
            journal.close()

    def close(self) -> None:
        self.stop()
        for client in (self._influx, self._webhook):
            if client is not None:
                client.close()
        self._influx = self._webhook = None
