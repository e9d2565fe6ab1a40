"""Joined requests: the writer sends several small queued batches in one ``/write``.

InfluxDB 1.x syncs its WAL once a request, so a season's ~250 one-point ``session`` batches
cost it more wall time than the 750k ``run`` points (benchmarks/season.py). Through the
fault proxy in front of the real influxd: fewer requests, the same points, one commit for
the acknowledgements, deletes still in their turn, and a refused join falls back to the
per-batch policy (the bad batch is counted, the good ones arrive).
"""

from __future__ import annotations

import pandas as pd
import pytest

from sensorhub.config import load_config
from sensorhub.delivery import Delivery
from sensorhub.store import InfluxWriter, delete_span, point_line

from .points import T0, Clock, journal_points, load_lines, run_lines
from .test_crash_and_lease import influx_points

pytestmark = pytest.mark.influx


def session_line(i: int) -> str:
    return point_line("session", {"athlete": "eva"}, {"duration_s": 600.0 + i}, T0)


def load_values(influxd, db: str) -> dict[int, float]:
    series = influxd.query(db, 'SELECT "daily_load" FROM "load"')
    return {t: v for s in series for t, v in s["values"]}


def test_small_batches_go_in_fewer_requests_with_every_point(
    journal, proxy_cfg, fault_proxy, influxd, db_name, home, monkeypatch
):
    for i in range(20):  # one session each: 20 one-point batches
        journal.outbox.enqueue("run", run_lines(30, start_s=100 * i), 100)
        journal.outbox.enqueue("session", [session_line(i)], 100)
    monkeypatch.setenv("SENSORHUB_INFLUX_URL", fault_proxy.url)
    monkeypatch.setenv("SENSORHUB_INFLUX_DB", db_name)
    cfg = load_config(home=home)
    cfg.influx.batch_points = 100
    report = Delivery(cfg, journal).flush()
    assert report.ok and report.sent_batches == 40 and report.sent_points == 620
    # 31 points a file: three files a request (at most batch_points points)
    assert report.requests == fault_proxy.stats["/write"].requests == 7
    assert journal.outbox.stats()["batches"] == 0
    lines = [ln for i in range(20) for ln in run_lines(30, start_s=100 * i)]
    assert influx_points(influxd, db_name) == journal_points(lines)
    assert influxd.count(db_name, "session", "duration_s") == 1  # one series, one timestamp
    got = influxd.query(db_name, 'SELECT "duration_s" FROM "session"')
    assert got[0]["values"][0][1] == 619.0  # the newest of the 20 batches won


def test_a_delete_goes_in_its_turn_between_joined_writes(
    journal, proxy_cfg, fault_proxy, influxd, db_name
):
    journal.outbox.enqueue("load", load_lines(1.0, days=10), 100)
    last = T0 + pd.Timedelta(days=9)
    journal.outbox.enqueue("load", [delete_span("load", {"athlete": "eva"}, T0, last)], 100)
    journal.outbox.enqueue("load", load_lines(50.0, days=3), 100)
    journal.outbox.enqueue("load", [load_lines(70.0, days=5)[4]], 100)
    writer = InfluxWriter(proxy_cfg)
    writer.coalesce_points = 100
    report = writer.flush(journal)
    assert report.ok and report.sent_batches == 4
    assert fault_proxy.stats["/write"].requests == 2  # the first alone, then the last two
    day = 86_400_000
    t0 = int(T0.value // 1_000_000)
    assert load_values(influxd, db_name) == {
        t0: 50.0,
        t0 + day: 51.0,
        t0 + 2 * day: 52.0,
        t0 + 4 * day: 74.0,
    }


def test_a_refused_join_falls_back_to_one_batch_a_request(
    journal, proxy_cfg, fault_proxy, influxd, db_name
):
    journal.outbox.enqueue("run", run_lines(20), 100)
    bad = point_line(
        "run",
        {"athlete": "eva", "sport": "running", "source": "fit"},
        {"hr_bpm": "high"},
        T0 + pd.Timedelta(seconds=500),
    )  # a string: type conflict
    journal.outbox.enqueue("bad", [bad], 100, series="bad")
    journal.outbox.enqueue("load", load_lines(1.0, days=5), 100)
    clock = Clock()
    writer = InfluxWriter(proxy_cfg, clock=clock)
    writer.coalesce_points = 100
    report = writer.flush(journal)
    assert report.sent_batches == 2 and report.failed_batches == 1
    assert fault_proxy.stats["/write"].requests == 4  # joined (400), then each alone
    assert influxd.count(db_name, "run", "hr_bpm") == 20
    assert influxd.count(db_name, "load", "daily_load") == 5
    st = journal.outbox.stats()
    assert st["batches"] == 1 and st["max_attempts"] == 1 and "400" in st["last_error"]
    journal.outbox.enqueue("load", load_lines(9.0, days=5), 100)
    clock.advance(2)  # the refused batch is due again: it goes alone, not joined
    again = writer.flush(journal)
    assert again.sent_batches == 1 and again.failed_batches == 1 and again.requests == 2
    assert journal.outbox.stats()["max_attempts"] == 2
