"""The outbox delivery policy against a real influxd behind the fault proxy."""

from __future__ import annotations

import email.utils
import time

import pytest

from sensorhub.store import InfluxWriter
from sensorhub.store.influx import MAX_ATTEMPTS, parse_retry_after

from .points import Clock, load_lines, load_values, run_lines

pytestmark = pytest.mark.influx


def flush_until_empty(writer, journal, clock, step_s: float = 1.0, rounds: int = 30) -> None:
    for _ in range(rounds):
        writer.flush(journal)
        if journal.outbox.stats()["batches"] == 0:
            return
        clock.advance(step_s)
    raise AssertionError(f"outbox not empty: {journal.outbox.stats()}")


@pytest.mark.parametrize("status", [400, 429, 500])
def test_a_refused_batch_never_lets_older_values_overwrite_newer(
    status, journal, proxy_cfg, fault_proxy, influxd, db_name
):
    journal.outbox.enqueue("load", load_lines(1.0), 100)  # a recompute...
    journal.outbox.enqueue("load", load_lines(2.0), 100)  # ...and a later one of the same days
    fault_proxy.fail(status, times=1)  # InfluxDB refuses the older batch once
    clock = Clock()
    flush_until_empty(InfluxWriter(proxy_cfg, clock=clock), journal, clock)
    values = sorted(load_values(influxd, db_name).values())
    assert values == [2.0 + d for d in range(30)]


@pytest.mark.parametrize("header", ["5", "date"])
def test_retry_after_is_honoured_by_every_flush_and_process(
    header, journal, proxy_cfg, fault_proxy, tmp_path
):
    from sensorhub.store import Journal

    clock = Clock()
    value = "5" if header == "5" else email.utils.formatdate(clock() + 5, usegmt=True)
    journal.outbox.enqueue("run", run_lines(300), 100)
    journal.outbox.enqueue("load", load_lines(1.0), 100)
    fault_proxy.fail(429, times=1, headers={"Retry-After": value})
    writer = InfluxWriter(proxy_cfg, clock=clock)
    sent_at = []
    for _ in range(24):  # the live writer's tick: every 0.5 s for 12 s
        before = fault_proxy.count()
        report = writer.flush(journal)
        if fault_proxy.count() > before:
            sent_at.append(clock() - Clock().t)
        if clock() - Clock().t == 2.0:  # another process meanwhile: it waits too
            other = Journal(tmp_path / "journal.sqlite")
            n = fault_proxy.count()
            assert not InfluxWriter(proxy_cfg, clock=clock).flush(other).ok
            assert fault_proxy.count() == n
            other.close()
        clock.advance(0.5)
    assert sent_at[0] == 0.0 and 4.5 <= sent_at[1] <= 5.0 and len(sent_at) == 2
    assert report.ok and fault_proxy.count() == 1 + 4  # one refused, then 4 batches


def test_retry_after_parsing():
    now = 1_780_000_000.0
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now) == 30.0
    assert parse_retry_after("soon", now) is None and parse_retry_after(None, now) is None


def test_a_batch_influxdb_keeps_refusing_is_parked_after_n_attempts(
    journal, proxy_cfg, fault_proxy, influxd, db_name
):
    journal.outbox.enqueue("alert", ["alert,athlete=eva value="], 100)  # influxd: 400
    journal.outbox.enqueue("run", run_lines(50), 100)
    clock = Clock()
    writer = InfluxWriter(proxy_cfg, clock=clock)
    for _ in range(120):  # every 0.5 s for a minute, like the live writer
        report = writer.flush(journal)
        clock.advance(0.5)
    assert fault_proxy.count() == 1 + MAX_ATTEMPTS  # the run batch once, the bad one N times
    st = journal.outbox.stats()
    assert st["parked"] == 1 and st["batches"] == 1 and "400" in st["parked_last_error"]
    assert not report.ok and "parked" in report.errors[-1]
    assert influxd.count(db_name, "run", "hr_bpm") == 50  # other series were not held back

    writer.flush(journal, parked=True)  # retried on request only: still refused, still kept
    assert fault_proxy.count() == 2 + MAX_ATTEMPTS and journal.outbox.stats()["parked"] == 1
    assert journal.outbox.discard_parked() == 1 and journal.outbox.stats()["batches"] == 0


def test_retrying_a_parked_batch_resends_newer_batches_after_it(
    journal, proxy_cfg, fault_proxy, influxd, db_name
):
    journal.outbox.enqueue("load", load_lines(1.0), 100)
    journal.outbox.enqueue("load", load_lines(2.0), 100)
    fault_proxy.fail(400, times=MAX_ATTEMPTS)
    clock = Clock()
    writer = InfluxWriter(proxy_cfg, clock=clock)
    for _ in range(MAX_ATTEMPTS):
        writer.flush(journal)
        clock.advance(60)
    st = journal.outbox.stats()
    assert st["parked"] == 1 and st["kept"] == 1  # the newer batch went and is kept
    assert sorted(load_values(influxd, db_name).values()) == [2.0 + d for d in range(30)]

    report = writer.flush(journal, parked=True)
    assert report.ok and report.sent_batches == 2
    assert sorted(load_values(influxd, db_name).values()) == [2.0 + d for d in range(30)]
    assert journal.outbox.stats() | {"oldest": None} == journal.outbox.stats() | {
        "batches": 0,
        "kept": 0,
        "parked": 0,
        "oldest": None,
    }


def test_413_splits_the_batch_down_to_what_the_server_takes(
    journal, proxy_cfg, fault_proxy, influxd, db_name
):
    lines = run_lines(100)
    big = lines[40].replace("hr_bpm=", 'note="' + "x" * 3000 + '",hr_bpm=')
    journal.outbox.enqueue("run", [*lines[:40], big, *lines[41:]], 100)
    fault_proxy.fail(413, min_body=1500)  # a body size limit on the server
    writer = InfluxWriter(proxy_cfg, clock=Clock())
    report = writer.flush(journal)
    assert report.sent_points == 0 and report.parked_batches == 1  # only the big line is left
    assert influxd.count(db_name, "run", "hr_bpm") == 99
    (parked,) = journal.outbox.batches()
    assert parked.body == big and parked.state == "parked" and "413" in parked.last_error
    assert fault_proxy.count() < 40  # halving, not one request per line


def test_413_then_success_acknowledges_the_whole_batch(
    journal, proxy_cfg, fault_proxy, influxd, db_name
):
    journal.outbox.enqueue("run", run_lines(100), 100)
    fault_proxy.fail(413, times=1)
    report = InfluxWriter(proxy_cfg, clock=Clock()).flush(journal)
    assert report.ok and report.sent_points == 100 and fault_proxy.count() == 3
    assert influxd.count(db_name, "run", "hr_bpm") == 100


def test_401_stops_at_once_and_waits_until_the_credentials_change(journal, proxy_cfg, fault_proxy):
    for m in ("run", "load", "session"):
        journal.outbox.enqueue(m, run_lines(10), 100)
    fault_proxy.fail(401)
    clock = Clock()
    report = InfluxWriter(proxy_cfg, clock=clock).flush(journal)
    assert fault_proxy.count() == 1 and "401" in report.errors[0] and not report.ok
    clock.advance(0.5)
    assert InfluxWriter(proxy_cfg, clock=clock).flush(journal).retry_at is not None
    assert fault_proxy.count() == 1  # no hammering with the same credentials
    proxy_cfg.token = "a-new-token"
    InfluxWriter(proxy_cfg, clock=clock).flush(journal)
    assert fault_proxy.count() == 2  # new credentials: tried at once


def test_5xx_stops_the_flush_and_backs_off(journal, proxy_cfg, fault_proxy):
    for m in ("run", "load", "session"):
        journal.outbox.enqueue(m, run_lines(10), 100)
    fault_proxy.fail(500, times=2)
    clock = Clock()
    writer = InfluxWriter(proxy_cfg, clock=clock)
    writer.flush(journal)
    assert fault_proxy.count() == 1
    clock.advance(0.5)
    writer.flush(journal)
    assert fault_proxy.count() == 1  # 1 s after the first failure
    clock.advance(0.6)
    writer.flush(journal)
    assert fault_proxy.count() == 2
    clock.advance(1.5)
    assert not writer.flush(journal).ok and fault_proxy.count() == 2  # 2 s after the second
    clock.advance(0.6)
    assert writer.flush(journal).ok and fault_proxy.count() == 5
    assert journal.outbox.backoff(writer.target) is None  # forgotten after a success


def test_a_trickling_server_cannot_hold_a_request_past_its_deadline(
    journal, proxy_cfg, fault_proxy, influxd, db_name
):
    journal.outbox.enqueue("run", run_lines(10), 100)
    fault_proxy.trickle(interval_s=0.5)  # ~150 bytes of answer: 75 s at that pace
    proxy_cfg.timeout_s = 1.0  # every single read arrives well within it
    clock = Clock()
    t0 = time.monotonic()
    report = InfluxWriter(proxy_cfg, clock=clock).flush(journal)
    assert time.monotonic() - t0 < 5
    assert not report.ok and "deadline" in report.errors[0]
    fault_proxy.reset()
    clock.advance(2)
    assert InfluxWriter(proxy_cfg, clock=clock).flush(journal).ok  # resent: the same points
    assert influxd.count(db_name, "run", "hr_bpm") == 10


def test_flush_deadline_bounds_the_whole_flush(journal, proxy_cfg, fault_proxy):
    journal.outbox.enqueue("run", run_lines(300), 100)
    fault_proxy.hang()
    proxy_cfg.timeout_s = 30.0
    t0 = time.monotonic()
    report = InfluxWriter(proxy_cfg, clock=Clock()).flush(journal, deadline_s=1.0)
    assert time.monotonic() - t0 < 5
    assert report.deadline_reached and report.left_batches == 3
    assert journal.outbox.backoff(InfluxWriter(proxy_cfg).target) is None  # not the server's fault
    fault_proxy.reset()


def test_outbox_tells_when_everything_queued_by_a_point_in_time_is_in(
    journal, proxy_cfg, fault_proxy
):
    journal.outbox.enqueue("run", run_lines(150), 100)
    mark = journal.outbox.last_id()
    journal.outbox.enqueue("load", load_lines(1.0), 100)
    fault_proxy.fail(500, times=1)
    clock = Clock()
    writer = InfluxWriter(proxy_cfg, clock=clock)
    writer.flush(journal)
    assert journal.outbox.waiting_upto(mark) == 2
    clock.advance(2)
    report = writer.flush(journal, max_batches=2)
    assert report.acked_ids == [1, 2] and journal.outbox.waiting_upto(mark) == 0
    assert journal.outbox.stats()["batches"] == 1
