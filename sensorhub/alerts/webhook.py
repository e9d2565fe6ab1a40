"""Webhook delivery from the durable queue (journal table ``webhook_queue``).

POSTs each queued JSON body (Slack-compatible: it has a ``text`` field) to the configured
URL. 2xx removes the row. A connection error, a timeout, 429 or 5xx means the receiver is
down or busy: the row is retried later with exponential backoff and the flush stops there
(the next rows would fail the same way). Another 4xx is retried too, on its own backoff,
and the flush goes on. The URL (often a secret, e.g. a Slack hook) never appears in errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
import pandas as pd

from ..store.alerts import AlertStore
from .config import AlertConfig

BACKOFF_FIRST_S = 10.0
BACKOFF_MAX_S = 3600.0


@dataclass
class WebhookReport:
    sent: int = 0
    failed: int = 0
    left: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.left == 0


def backoff_s(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failures (10 s doubling, at most 1 h)."""
    return min(BACKOFF_FIRST_S * 2 ** max(attempts - 1, 0), BACKOFF_MAX_S)


class WebhookSender:
    """Ship the webhook queue.

    Args:
        ac: alert config (``webhook_url``, timeout, max attempts).
        store: the alert tables of the journal.
        client: an httpx client (tests); by default one with the configured timeout.
    """

    def __init__(self, ac: AlertConfig, store: AlertStore, client: httpx.Client | None = None):
        self.ac = ac
        self.store = store
        self.client = client or httpx.Client(timeout=ac.webhook_timeout_s)

    def close(self) -> None:
        self.client.close()

    def flush(self, now: pd.Timestamp | None = None, force: bool = False) -> WebhookReport:
        """Send every due item (every item with ``force``); returns what happened."""
        report = WebhookReport()
        if not self.ac.webhook_url:
            return report
        now = now if now is not None else pd.Timestamp.now(tz="UTC")
        due_at = pd.Timestamp.max.tz_localize("UTC") if force else now
        due = self.store.due_webhooks(due_at, self.ac.webhook_max_attempts)
        for i, item in enumerate(due):
            error, stop = self._post(item.body)
            if error is None:
                self.store.webhook_sent(item.id)
                report.sent += 1
                continue
            report.failed += 1
            report.errors.append(error)
            next_at = now + pd.Timedelta(seconds=backoff_s(item.attempts + 1))
            self.store.webhook_failed(item.id, error, next_at)
            if stop:  # the receiver is down: the rest wait as long, without an attempt
                self.store.postpone_webhooks([it.id for it in due[i + 1 :]], next_at)
                break
        report.left = self.store.webhook_stats()["waiting"]
        return report

    def _post(self, body: str) -> tuple[str | None, bool]:
        """(error or None, whether to stop the flush)."""
        try:
            r = self.client.post(
                self.ac.webhook_url,
                content=body.encode("utf-8"),
                headers={"Content-Type": "application/json"},
            )
        except httpx.TimeoutException:
            return "webhook timed out", True
        except httpx.TransportError as exc:
            return f"webhook unreachable ({type(exc).__name__})", True
        if r.is_success:
            return None, False
        error = f"webhook answered HTTP {r.status_code}"
        return error, r.status_code == 429 or r.status_code >= 500
