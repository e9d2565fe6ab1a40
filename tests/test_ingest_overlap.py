"""Overlapped ingest (``Pipeline.ingest`` shipping on a background thread while it stores)
against the old order (store everything, then ship), into a real influxd.

Both runs ingest the same demo FIT files into fresh state dirs and databases, each through
a loopback proxy (:mod:`tests.faults.proxy`) that records the ``/write`` bodies in the order
they arrive. The overlapped run must leave the same points in InfluxDB (every measurement,
value by value), send every version of each point (series and time) in the same order (on
two connections, batches of disjoint times may pass each other; the order of rewritten points
is tested in tests/faults/test_influx_connections.py), and have shipped some of them
while files were still being stored; a slow InfluxDB (answers trickled byte by byte) must
not lose or reorder anything; an unreachable one parks everything in the outbox with one line.
"""

from __future__ import annotations

import gzip
import re
import socket
import time
import uuid
from pathlib import Path

import pandas as pd
import pytest

from sensorhub.config import load_config
from sensorhub.pipeline import FileResult, Pipeline

from .faults.harness import CONFIG, demo_files, env_for, influx_values, invoke
from .faults.proxy import FaultProxy

pytestmark = pytest.mark.influx
FILES = demo_files(4, 2)
NOW = pd.Timestamp("2026-11-20T12:00:00Z")
BATCH = 1000  # points a batch: several batches per file
SERIES_KEY = re.compile(r"(?<!\\) ")  # the first unescaped space ends a line's series key


class RecordingProxy(FaultProxy):
    """A fault proxy that also keeps every ``/write`` body, in arrival order (text)."""

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.bodies: list[str] = []

    def _record(self, path: str, body: bytes) -> None:
        super()._record(path, body)
        if path == "/write":
            raw = gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body
            with self._lock:
                self.bodies.append(raw.decode())


@pytest.fixture
def proxies(influxd):
    made: list[RecordingProxy] = []

    def make() -> RecordingProxy:
        made.append(RecordingProxy(influxd.url).start())
        return made[-1]

    yield make
    for p in made:
        p.stop()


def ingest(tmp: Path, url: str, db: str, influxd, overlap: bool, progress=None):
    """One ingest of FILES into a fresh state dir and database; (report, pipeline)."""
    influxd.query(db, f'CREATE DATABASE "{db}"')
    cfg = load_config(CONFIG, home=tmp)
    cfg.influx.url, cfg.influx.database = url, db
    cfg.influx.batch_points, cfg.influx.timeout_s = BATCH, 5.0
    pipe = Pipeline(cfg, now=NOW, overlap=overlap)
    report = pipe.ingest(FILES, progress=progress(pipe) if progress else None)
    assert not report.failed
    return report, pipe


def drained(pipe: Pipeline, report) -> None:
    """Flush until the outbox is empty (what the next ``sensorhub flush`` does after an
    interrupted one), at most 20 times."""
    for _ in range(20):
        if pipe.journal.outbox.stats()["batches"] == 0:
            return
        report = pipe.flush()
    assert pipe.journal.outbox.stats()["batches"] == 0, report


def everything(influxd, db: str) -> dict:
    names = [r[0] for s in influxd.query(db, "SHOW MEASUREMENTS") for r in s["values"]]
    return {m: influx_values(influxd, db, m) for m in names}


def per_point(bodies: list[str]) -> dict[tuple[str, str], list[str]]:
    """The lines of the request bodies grouped by point (series key and time), in order of
    first arrival: what decides which value InfluxDB keeps. (The writer may join batches into
    one request differently from run to run, and send batches of disjoint times side by side
    on its two connections; a line resent after a cut answer counts once: a resend is not a
    reorder.)"""
    out: dict[tuple[str, str], list[str]] = {}
    seen: set[str] = set()
    for b in bodies:
        for line in b.split("\n"):
            if line and line not in seen:
                seen.add(line)
                key = (SERIES_KEY.split(line, maxsplit=1)[0], line.rpartition(" ")[2])
                out.setdefault(key, []).append(line)
    return out


def wait_shipped(pipe: Pipeline):
    """A progress callback: after each stored file, wait (at most 10 s) until the background
    thread has shipped what is committed, so that shipping provably overlaps storing."""

    def progress(r: FileResult) -> None:
        mark = pipe.journal.outbox.last_id()
        deadline = time.monotonic() + 10
        while pipe.journal.outbox.waiting_upto(mark) and time.monotonic() < deadline:
            time.sleep(0.02)

    return progress


@pytest.fixture(scope="module")
def serial(influxd, tmp_path_factory):
    """The reference: store every file, then ship (through a recording proxy)."""
    proxy = RecordingProxy(influxd.url).start()
    try:
        db = "serial_" + uuid.uuid4().hex[:10]
        report, _ = ingest(tmp_path_factory.mktemp("serial"), proxy.url, db, influxd, False)
        assert report.shipped is None and report.flush.ok, report.flush
        return everything(influxd, db), per_point(proxy.bodies)
    finally:
        proxy.stop()


def test_overlapped_ingest_ships_while_storing_and_gives_the_serial_points(
    serial, influxd, proxies, tmp_path, db_name
):
    proxy = proxies()
    report, pipe = ingest(tmp_path, proxy.url, db_name, influxd, True, wait_shipped)
    assert report.flush.ok and pipe.journal.outbox.stats()["batches"] == 0, report.flush
    points, order = serial
    assert report.shipped is not None and report.shipped.batches >= len(FILES)
    assert report.flush.sent_points == sum(len(b.split("\n")) for b in proxy.bodies)
    got = everything(influxd, db_name)
    assert set(got) == set(points) and got["run"]
    assert got == points
    assert per_point(proxy.bodies) == order  # the same lines, each point's in the same order


def test_slow_influxdb_loses_and_reorders_nothing(serial, influxd, proxies, tmp_path, db_name):
    proxy = proxies()
    # the first answers byte by byte (~0.4 s each; the proxy then closes the connection,
    # which cuts the flush under way: the next one goes on)
    proxy.trickle(times=4, interval_s=0.002)
    report, pipe = ingest(tmp_path, proxy.url, db_name, influxd, True)
    drained(pipe, report)
    points, order = serial
    assert proxy.stats["/write"].faulted == 4
    assert report.shipped is not None and report.shipped.batches > 0
    assert everything(influxd, db_name) == points
    assert per_point(proxy.bodies) == order


def test_unreachable_influxdb_parks_everything_with_one_line(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    home = tmp_path / "home"
    run = invoke("ingest", *FILES, env=env_for(home, url, "nowhere"))
    assert run.code == 0, run.text  # the files are stored: InfluxDB is retried later
    assert "Traceback" not in run.text and f"{len(FILES)} ingested" in run.out
    lines = [ln for ln in run.err.splitlines() if "InfluxDB" in ln]
    assert len(lines) == 1 and "0 points sent" in lines[0] and "unreachable" in lines[0]
    reference = invoke("ingest", *FILES, env=env_for(tmp_path / "plain"))
    assert reference.code == 0
    from sensorhub.store import Journal

    got, want = Journal(home / "journal.sqlite"), Journal(tmp_path / "plain" / "journal.sqlite")
    try:
        assert got.outbox.stats()["points"] == want.outbox.stats()["points"] > 0
        assert got.outbox.stats()["parked"] == 0
    finally:
        got.close()
        want.close()
