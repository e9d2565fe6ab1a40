"""Kill points and the shipping lease: real processes, a real influxd behind the proxy."""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sensorhub.config import InfluxConfig
from sensorhub.store import InfluxWriter, Journal

from .points import journal_points, run_lines

ROOT = Path(__file__).resolve().parents[2]
FLUSH = """
import json, sys
from sensorhub.config import InfluxConfig
from sensorhub.store import InfluxWriter, Journal
j = Journal(sys.argv[1])
cfg = InfluxConfig(url=sys.argv[2], database=sys.argv[3], connections=int(sys.argv[4]))
r = InfluxWriter(cfg).flush(j)
print(json.dumps({"ok": r.ok, "skipped": r.skipped, "sent": r.sent_points, "errors": r.errors}))
"""


def python(code: str, *args: str, kill_at: str | None = None, **kw) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENSORHUB_")}
    if kill_at:
        env["SENSORHUB_KILL_AT"] = kill_at
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True
    )


def influx_points(influxd, db: str) -> set[tuple[str, tuple, int]]:
    """What InfluxDB holds for ``run``, in the form of :func:`journal_points`."""
    series = influxd.query(db, 'SELECT "hr_bpm", "speed_mps" FROM "run" GROUP BY *')
    out = set()
    for s in series:
        key = ",".join(["run", *(f"{k}={v}" for k, v in sorted(s["tags"].items()))])
        for t, hr, speed in s["values"]:
            out.add((key, (("hr_bpm", float(hr)), ("speed_mps", float(speed))), t))
    return out


def test_checkpoint_kills_at_the_nth_time():
    code = "from sensorhub.faultpoints import checkpoint\nfor i in range(5):\n"
    code += "    checkpoint('x.y'); print(i, flush=True)\n"
    p = python(code, kill_at="x.y:3")
    assert p.wait(30) == -signal.SIGKILL and p.stdout.read().split() == ["0", "1"]
    p = python(code, kill_at="other")
    assert p.wait(30) == 0 and p.stdout.read().split() == ["0", "1", "2", "3", "4"]


@pytest.mark.influx
@pytest.mark.parametrize("connections", [1, 2])
def test_killed_between_ack_and_delete_then_restarted_writes_each_point_once(
    tmp_path, fault_proxy, proxy_cfg, influxd, db_name, connections
):
    path = tmp_path / "journal.sqlite"
    lines = run_lines(500)
    j = Journal(path)
    j.outbox.enqueue("run", lines, 100)
    args = (str(path), fault_proxy.url, db_name, str(connections))
    p = python(FLUSH, *args, kill_at="flush.after_send:2")
    assert p.wait(60) == -signal.SIGKILL
    # batch 1 deleted; batch 2 acknowledged by InfluxDB but still in the outbox (and on two
    # connections batch 3 may have been in flight, taken by InfluxDB too)
    assert j.outbox.stats()["batches"] == 4
    sent_before = fault_proxy.count()
    assert sent_before == 2 if connections == 1 else sent_before in (2, 3)

    report = InfluxWriter(proxy_cfg).flush(j)  # the dead process's lease is taken over
    assert report.ok and not report.skipped and report.sent_points == 400
    assert fault_proxy.stats["/write"].lines == 100 * (sent_before + 4)  # went twice...
    assert influx_points(influxd, db_name) == journal_points(lines)  # ...and wrote the same
    assert j.outbox.stats()["batches"] == 0
    j.close()


def _flush_in_child(path: str, url: str, db: str, out) -> None:
    """A second process (forked: no interpreter start-up) flushing the same journal file."""
    r = InfluxWriter(InfluxConfig(url=url, database=db)).flush(Journal(path))
    out.put({"ok": r.ok, "skipped": r.skipped, "sent": r.sent_points, "errors": r.errors})


@pytest.mark.influx
def test_two_processes_flushing_one_journal_send_every_point_once(
    tmp_path, fault_proxy, proxy_cfg, influxd, db_name
):
    path = tmp_path / "journal.sqlite"
    lines = run_lines(2000)
    j = Journal(path)
    j.outbox.enqueue("run", lines, 100)
    fault_proxy.hold(times=1)  # the first process's first request waits at the proxy...
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    args = (str(path), fault_proxy.url, db_name, out)
    first = ctx.Process(target=_flush_in_child, args=args)
    first.start()
    deadline = time.monotonic() + 30
    while fault_proxy.count() == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    second = ctx.Process(target=_flush_in_child, args=args)
    second.start()
    second_report = out.get(timeout=30)
    third = InfluxWriter(proxy_cfg).flush(j)  # ...while a second one and this one flush
    fault_proxy.release()
    reports = [out.get(timeout=30), second_report]
    first.join(30), second.join(30)
    assert first.exitcode == second.exitcode == 0
    assert second_report["skipped"] and third.skipped and third.ok
    assert all(r["ok"] and not r["errors"] for r in reports)
    assert sum(r["sent"] for r in reports) == 2000
    assert fault_proxy.stats["/write"].lines == 2000  # nothing sent twice
    assert influx_points(influxd, db_name) == journal_points(lines)
    j.close()


def test_a_lease_is_skipped_while_held_and_taken_over_when_its_holder_died(tmp_path):
    j = Journal(tmp_path / "journal.sqlite")
    j.outbox.enqueue("run", run_lines(10), 100)
    cfg = InfluxConfig(url="http://127.0.0.1:9", database="x")  # never reached
    assert j.outbox.take_lease(f"elsewhere:{os.getpid()}:held", ttl_s=60)
    report = InfluxWriter(cfg).flush(j)
    assert report.skipped and report.ok and report.requests == 0
    j.db.execute("UPDATE leases SET holder=?", (f"{socket.gethostname()}:999999999:dead",))
    report = InfluxWriter(cfg).flush(j)
    assert not report.skipped and report.requests == 1 and "unreachable" in report.errors[0]
    j.close()
