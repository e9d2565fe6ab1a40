"""Ship outbox batches to InfluxDB's v1 ``/write`` endpoint.

The v1 endpoint is accepted by InfluxDB 1.x, 2.x (compatibility API; a bucket is mapped to
a database automatically from 2.5 on) and 3.x. A batch leaves the outbox only after a 2xx.
Connection errors and 5xx stop the flush (InfluxDB is down or overloaded: try later);
4xx marks that batch with its error and goes on to the next, so one bad batch does not
block the rest. Tokens go in the ``Authorization`` header and never in logs or errors.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import httpx

from ..config import InfluxConfig
from .journal import Journal
from .lineprotocol import PRECISION


@dataclass
class FlushReport:
    sent_batches: int = 0
    sent_points: int = 0
    failed_batches: int = 0
    left_batches: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.left_batches == 0


class InfluxWriter:
    """A small client for ``/write`` and ``/query`` (the latter for setup and tests)."""

    def __init__(self, cfg: InfluxConfig, client: httpx.Client | None = None) -> None:
        self.cfg = cfg
        headers = {"Authorization": f"Token {cfg.token}"} if cfg.token else {}
        auth = (cfg.username, cfg.password) if cfg.username and not cfg.token else None
        self.client = client or httpx.Client(
            base_url=cfg.url, headers=headers, auth=auth, timeout=cfg.timeout_s
        )
        self._created_db = False

    def close(self) -> None:
        self.client.close()

    def write(self, body: str) -> httpx.Response:
        params = {"db": self.cfg.database, "precision": PRECISION}
        return self.client.post("/write", params=params, content=body.encode("utf-8"))

    def query(self, q: str, method: str = "GET") -> dict:
        params = {"db": self.cfg.database, "q": q, "epoch": "ms"}
        resp = self.client.request(method, "/query", params=params)
        resp.raise_for_status()
        return resp.json()

    def ensure_database(self) -> None:
        """CREATE DATABASE on InfluxDB 1.x; harmless where it is not allowed or not needed."""
        with contextlib.suppress(httpx.HTTPError):
            self.client.post("/query", params={"q": f'CREATE DATABASE "{self.cfg.database}"'})
        self._created_db = True

    def flush(self, journal: Journal, max_batches: int | None = None) -> FlushReport:
        """Send every outbox batch in order; see the module docstring for the policy."""
        report = FlushReport()
        for batch in journal.outbox.batches(limit=max_batches):
            status, error = self._send(batch.body)
            if status is not None and 200 <= status < 300:
                journal.outbox.ack(batch.id)
                report.sent_batches += 1
                report.sent_points += batch.n_points
                continue
            journal.outbox.failed(batch.id, error)
            report.errors.append(error)
            if status is None or status >= 500:
                break
            report.failed_batches += 1
        report.left_batches = journal.outbox.stats()["batches"]
        return report

    def _send(self, body: str) -> tuple[int | None, str]:
        try:
            resp = self.write(body)
            if (
                resp.status_code == 404
                and not self._created_db
                and "database not found" in resp.text
            ):
                self.ensure_database()
                resp = self.write(body)
        except httpx.HTTPError as exc:
            return None, f"InfluxDB at {self.cfg.url} unreachable: {type(exc).__name__}"
        return resp.status_code, f"InfluxDB answered {resp.status_code}: {resp.text.strip()[:300]}"
