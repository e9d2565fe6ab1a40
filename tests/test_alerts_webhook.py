"""Webhook delivery against a real HTTP server on loopback: delivered, receiver down and back,
5xx retried, nothing lost across a restart of sensorhub (a new journal connection)."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pandas as pd
import pytest

from sensorhub.alerts import AlertConfig, AlertEngine, WebhookSender
from sensorhub.alerts.webhook import backoff_s
from sensorhub.store import Journal
from sensorhub.store.alerts import AlertStore

NOW = pd.Timestamp("2026-03-20 12:00", tz="UTC")
OFF = pd.DataFrame({"gct_balance_left_pct": [53.5] * 5})


class Receiver:
    """A Slack-like webhook receiver in a thread; ``status`` decides what it answers."""

    def __init__(self, port: int) -> None:
        self.port, self.bodies, self.status = port, [], 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.status == 200:
                    receiver.bodies.append(json.loads(body))
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def port() -> int:
    return free_port()


def engine_for(cfg, journal, port: int) -> AlertEngine:
    ac = AlertConfig(webhook_url=f"http://127.0.0.1:{port}/hooks/secret-token", webhook_timeout_s=2)
    return AlertEngine(cfg, journal, ac=ac, now=NOW)


def test_delivered_with_slack_text(cfg, port):
    rx = Receiver(port)
    try:
        journal = Journal(cfg.journal_path)
        eng = engine_for(cfg, journal, port)
        eng.evaluate_live("ben", OFF, NOW)
        report = WebhookSender(eng.ac, eng.store).flush(now=NOW)
        assert (report.sent, report.left, report.ok) == (1, 0, True)
        (body,) = rx.bodies
        assert body["text"] == (
            "[sensorhub] ben (info): live: GCT balance 53.5 % left, outside the 48–52 % band"
        )
        assert journal.counters()["webhook_sent"] == 1
    finally:
        rx.stop()


def test_receiver_down_then_back_every_alert_arrives_once(cfg, port):
    journal = Journal(cfg.journal_path)
    eng = engine_for(cfg, journal, port)
    eng.evaluate_live("ben", OFF, NOW)
    eng.evaluate_live("ana", OFF, NOW)
    sender = WebhookSender(eng.ac, eng.store)
    report = sender.flush(now=NOW)  # nobody listens on the port
    assert (report.sent, report.failed, report.left) == (0, 1, 2)  # stops at the first failure
    assert report.errors[0].startswith("webhook unreachable")
    assert "secret-token" not in report.errors[0]  # the URL is a secret
    assert sender.flush(now=NOW).failed == 0  # backing off: nothing due yet
    sender.close()
    journal.close()

    rx = Receiver(port)  # the receiver comes back; sensorhub restarted meanwhile
    try:
        journal = Journal(cfg.journal_path)
        store = AlertStore(journal)
        later = NOW + pd.Timedelta(seconds=backoff_s(1) + 1)
        report = WebhookSender(eng.ac, store).flush(now=later)
        assert (report.sent, report.left) == (2, 0)
        assert sorted(b["sensorhub"]["athlete"] for b in rx.bodies) == ["ana", "ben"]
        assert WebhookSender(eng.ac, store).flush(now=later + pd.Timedelta(hours=1)).sent == 0
    finally:
        rx.stop()


def test_server_error_is_retried_with_backoff(cfg, port):
    rx = Receiver(port)
    try:
        journal = Journal(cfg.journal_path)
        eng = engine_for(cfg, journal, port)
        eng.evaluate_live("ben", OFF, NOW)
        rx.status = 503
        sender = WebhookSender(eng.ac, eng.store)
        r1 = sender.flush(now=NOW)
        assert r1.errors == ["webhook answered HTTP 503"] and r1.left == 1
        rx.status = 200
        assert sender.flush(now=NOW + pd.Timedelta(seconds=5)).sent == 0  # not due (10 s)
        assert sender.flush(now=NOW + pd.Timedelta(seconds=11)).sent == 1
        assert len(rx.bodies) == 1
        stats = eng.store.webhook_stats()
        assert stats["waiting"] == 0
    finally:
        rx.stop()


def test_force_flush_ignores_backoff(cfg, port):
    journal = Journal(cfg.journal_path)
    eng = engine_for(cfg, journal, port)
    eng.evaluate_live("ben", OFF, NOW)
    WebhookSender(eng.ac, eng.store).flush(now=NOW)  # down: backoff
    rx = Receiver(port)
    try:
        assert WebhookSender(eng.ac, eng.store).flush(now=NOW, force=True).sent == 1
    finally:
        rx.stop()


def test_backoff_grows_and_is_capped():
    assert [backoff_s(n) for n in (1, 2, 3)] == [10, 20, 40]
    assert backoff_s(30) == 3600
