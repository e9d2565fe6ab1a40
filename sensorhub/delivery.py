"""Delivery: ship what the journal holds for the outside world.

:meth:`Delivery.ship` sends due alert webhooks (:mod:`sensorhub.alerts.webhook`, a durable
queue with backoff) and the InfluxDB outbox (:mod:`sensorhub.store.influx`: a batch leaves
the outbox only after InfluxDB acknowledged it). The CLI, ``watch`` and the live writer all
ship through here; ingest only stores.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .alerts import WebhookReport, WebhookSender
from .config import Config
from .store import FlushReport, InfluxWriter, Journal


@dataclass
class DeliveryReport:
    influx: FlushReport | None  # None: InfluxDB not configured
    webhook: WebhookReport | None  # None: no webhook configured


class Delivery:
    """Ships one journal's outbox and webhook queue; keeps its HTTP clients between calls."""

    def __init__(self, cfg: Config, journal: Journal, now: pd.Timestamp | None = None) -> None:
        self.cfg = cfg
        self.journal = journal
        self.now = now
        self._influx: InfluxWriter | None = None
        self._webhook: WebhookSender | None = None

    def ship(self, parked: bool = False) -> DeliveryReport:
        """Send due webhooks, then the outbox (``parked``: retry parked batches too)."""
        webhook = self.webhooks()
        return DeliveryReport(influx=self.flush(parked), webhook=webhook)

    def flush(self, parked: bool = False) -> FlushReport | None:
        if not self.cfg.influx.enabled:
            return None
        if self._influx is None:
            self._influx = InfluxWriter(self.cfg.influx)
        if parked:
            return self._influx.flush(self.journal, parked=True)
        return self._influx.flush(self.journal)

    def webhooks(self, force: bool = False) -> WebhookReport | None:
        if not self.cfg.alerts.webhook_url:
            return None
        if self._webhook is None:
            self._webhook = WebhookSender(self.cfg.alerts, self.journal.alerts)
        return self._webhook.flush(now=self.now, force=force)

    def close(self) -> None:
        for client in (self._influx, self._webhook):
            if client is not None:
                client.close()
        self._influx = self._webhook = None
