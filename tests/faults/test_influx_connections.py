"""The writer on several HTTP connections (``[influx] connections``, default 2).

Through a recording fault proxy in front of the real influxd: with two connections two
requests are in flight at once (a slow proxy shows the overlap); batches that may share a
point (one series, time ranges that meet, or a range unknown: a delete, a batch from an older
journal) still arrive one after the other and in id order, while a series' batches of
disjoint times go together; a 429 on one connection stops both (nothing new is sent before
``Retry-After``), and InfluxDB ends with the same points as after a one-connection flush of
the same outbox.
"""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest

from sensorhub.config import InfluxConfig
from sensorhub.store import InfluxWriter, Journal, point_line

from .points import T0, Clock
from .proxy import FaultProxy

pytestmark = pytest.mark.influx


class RecordingProxy(FaultProxy):
    """A :class:`FaultProxy` that also keeps each forwarded ``/write``: (arrival, answer
    time, body), monotonic seconds."""

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.writes: list[tuple[float, float, bytes]] = []
        self._arrived = threading.local()

    def _record(self, path: str, body: bytes) -> None:
        super()._record(path, body)
        self._arrived.t = time.monotonic()

    def forward(self, method, target, headers, body):  # noqa: ANN001, ANN201 - as the base
        got = super().forward(method, target, headers, body)
        if target.startswith("/write"):
            with self._lock:
                self.writes.append((self._arrived.t, time.monotonic(), body))
        return got


@pytest.fixture
def rec_proxy(influxd):
    proxy = RecordingProxy(influxd.url).start()
    yield proxy
    proxy.stop()


def influx_cfg(url: str, db: str, connections: int) -> InfluxConfig:
    return InfluxConfig(
        url=url, database=db, batch_points=100, timeout_s=5.0, connections=connections
    )


KEYS = ["run:a0", "run:a1", "run:a2", "run:a3"]  # four outbox series keys


def batch_lines(series: str, k: int, n: int = 20, first_s: int = 0) -> list[str]:
    """Batch ``k`` of ``series``: ``n`` points a second apart from ``first_s`` s after T0
    (by default the same times each time), value ``k`` (the batch that lands last wins)."""
    athlete = series.split(":")[1]
    return [
        point_line(
            "run",
            {"athlete": athlete, "sport": "running", "source": "fit"},
            {"hr_bpm": 100.0 + k, "seq": float(k)},
            T0 + pd.Timedelta(seconds=first_s + i),
        )
        for i in range(n)
    ]


def fill(journal: Journal, batches: int = 3) -> list[str]:
    """``batches`` batches for each of four series, interleaved in id order."""
    keys = KEYS
    for k in range(batches):
        for s in keys:
            journal.outbox.enqueue("run", batch_lines(s, k), 100, series=s)
    return keys


def stored(influxd, db: str) -> dict[tuple[str, int], tuple[float, float]]:
    rows = influxd.query(db, 'SELECT "hr_bpm", "seq" FROM "run" GROUP BY "athlete"')
    return {(s["tags"]["athlete"], t): (hr, seq) for s in rows for t, hr, seq in s["values"]}


def athlete_of(body: bytes) -> str:
    return body.split(b"athlete=", 1)[1].split(b",", 1)[0].decode()


def seq_of(body: bytes) -> int:
    return int(float(body.split(b"seq=", 1)[1].split(b" ", 1)[0]))


def test_two_connections_overlap_and_keep_each_series_in_order(
    tmp_path, rec_proxy, influxd, db_name
):
    influxd.query(db_name, f'CREATE DATABASE "{db_name}"')
    journal = Journal(tmp_path / "j.sqlite")
    keys = fill(journal)
    cfg = influx_cfg(rec_proxy.url, db_name, connections=2)
    rec_proxy.slow(0.3)  # every write takes >= 0.3 s: one connection could never overlap
    writer = InfluxWriter(cfg, clock=Clock())
    report = writer.flush(journal)
    writer.close()
    journal.close()
    assert report.ok and report.sent_batches == 12 and report.requests == 12

    spans = sorted(rec_proxy.writes)
    overlaps = sum(1 for a, b in zip(spans, spans[1:], strict=False) if b[0] < a[1])
    assert overlaps >= 3  # two requests in flight at once, again and again
    for s in keys:
        mine = [(t0, t1, seq_of(body)) for t0, t1, body in spans if athlete_of(body) == s[4:]]
        assert [seq for _, _, seq in mine] == [0, 1, 2]  # id order
        for (_, done, _), (start, _, _) in zip(mine, mine[1:], strict=False):
            assert start >= done  # never two of one series in flight at once
    got = stored(influxd, db_name)
    assert len(got) == 4 * 20 and {v for v in got.values()} == {(102.0, 2.0)}


def test_two_connections_leave_the_points_of_one(tmp_path, rec_proxy, influxd, db_name):
    dbs = {1: f"{db_name}_one", 2: f"{db_name}_two"}
    for conns, db in dbs.items():
        influxd.query(db, f'CREATE DATABASE "{db}"')
        journal = Journal(tmp_path / f"j{conns}.sqlite")
        keys = fill(journal, batches=4)
        # a late correction of one series: the newest value must win on both
        journal.outbox.enqueue("run", batch_lines(keys[0], 9, n=5), 100, series=keys[0])
        writer = InfluxWriter(influx_cfg(rec_proxy.url, db, conns), clock=Clock())
        writer.coalesce_points = 50  # joined requests per partition too
        report = writer.flush(journal)
        writer.close()
        journal.close()
        assert report.ok and report.sent_batches == 17
    one, two = stored(influxd, dbs[1]), stored(influxd, dbs[2])
    assert one == two and len(one) == 80
    assert sorted(set(one.values())) == [(103.0, 3.0), (109.0, 9.0)]


def test_a_429_on_one_connection_stops_both_until_retry_after(
    tmp_path, rec_proxy, influxd, db_name
):
    influxd.query(db_name, f'CREATE DATABASE "{db_name}"')
    journal = Journal(tmp_path / "j.sqlite")
    clock = Clock()
    writer = InfluxWriter(influx_cfg(rec_proxy.url, db_name, 2), clock=clock)
    journal.outbox.enqueue("run", batch_lines("run:warm", 0), 100, series="run:warm")
    assert writer.flush(journal).sent_batches == 1  # the server took a request: both go
    fill(journal)
    rec_proxy.fail(429, times=1, headers={"Retry-After": "30"})
    rec_proxy.slow(0.5)  # the other connection's request is in flight meanwhile
    before = rec_proxy.count()
    report = writer.flush(journal)
    assert rec_proxy.count() - before == 2  # the 429 and the one in flight, nothing after
    assert report.sent_batches == 1 and report.left_batches == 11
    assert report.retry_at == pytest.approx(clock() + 30)
    rec_proxy.reset()
    clock.advance(29)
    again = writer.flush(journal)
    assert rec_proxy.count() - before == 2 and again.sent_batches == 0  # not before 30 s
    assert again.retry_at == pytest.approx(clock() + 1)
    clock.advance(1.5)
    last = writer.flush(journal)
    writer.close()
    journal.close()
    assert last.ok and last.sent_batches == 11
    got = stored(influxd, db_name)
    assert len(got) == 5 * 20
    assert {v for (a, _), v in got.items() if a != "warm"} == {(102.0, 2.0)}


def flush_slowly(journal: Journal, rec_proxy, db: str):
    """Flush ``journal`` on two connections, one request a batch, every write taking >= 0.3 s
    at the proxy (so that what goes together shows); the journal is closed after."""
    rec_proxy.slow(0.3)
    writer = InfluxWriter(influx_cfg(rec_proxy.url, db, 2), clock=Clock())
    writer.coalesce_points = 0  # one request a batch: the overlap is what is measured
    try:
        return writer.flush(journal)
    finally:
        writer.close()
        journal.close()


def in_flight_together(spans: list[tuple[float, float, bytes]]) -> int:
    """How many requests started before the one before them was answered."""
    spans = sorted(spans)
    return sum(1 for a, b in zip(spans, spans[1:], strict=False) if b[0] < a[1])


def test_one_series_of_disjoint_times_goes_on_two_connections(
    tmp_path, rec_proxy, influxd, db_name
):
    """A season is one series (``run``) of many sessions: their batches share no point, so
    they go two at a time; a correction of the first session waits for it, and wins."""
    influxd.query(db_name, f'CREATE DATABASE "{db_name}"')
    journal = Journal(tmp_path / "j.sqlite")
    for k in range(6):  # six sessions a minute apart: disjoint times
        journal.outbox.enqueue("run", batch_lines("run:a0", k, first_s=60 * k), 100)
    journal.outbox.enqueue("run", batch_lines("run:a0", 9, n=5), 100)  # session 0 again
    report = flush_slowly(journal, rec_proxy, db_name)
    assert report.ok and report.sent_batches == 7
    assert in_flight_together(rec_proxy.writes) >= 2
    by_seq = {seq_of(body): (t0, t1) for t0, t1, body in rec_proxy.writes}
    assert by_seq[9][0] >= by_seq[0][1]  # the correction started after session 0 was taken
    got = stored(influxd, db_name)
    assert len(got) == 6 * 20
    first = [v for (_, t), v in sorted(got.items())][:20]
    assert first == [(109.0, 9.0)] * 5 + [(100.0, 0.0)] * 15


def test_a_batch_of_unknown_times_waits_for_every_older_one_of_its_series(
    tmp_path, rec_proxy, influxd, db_name
):
    """A batch queued before the outbox kept time ranges (NULL: unknown) may share a point
    with any batch of its series: nothing newer of the series passes it, nor it them."""
    influxd.query(db_name, f'CREATE DATABASE "{db_name}"')
    journal = Journal(tmp_path / "j.sqlite")
    for k in range(4):
        journal.outbox.enqueue("run", batch_lines("run:a0", k, first_s=60 * k), 100)
    old = journal.outbox.slots()[1].id  # the second: as an older journal left it
    journal.db.execute("UPDATE outbox SET t_lo=NULL, t_hi=NULL WHERE id=?", (old,))
    report = flush_slowly(journal, rec_proxy, db_name)
    assert report.ok and report.sent_batches == 4
    t = {seq_of(body): (t0, t1) for t0, t1, body in rec_proxy.writes}
    assert t[1][0] >= t[0][1]  # the unknown one waits for the older one
    assert t[2][0] >= t[1][1] and t[3][0] >= t[1][1]  # and the newer ones wait for it
    assert in_flight_together(rec_proxy.writes) >= 1  # 2 and 3 go together


def test_a_delete_waits_for_older_writes_of_its_series_and_newer_ones_for_it(
    tmp_path, rec_proxy, influxd, db_name
):
    """A correction deletes a session's points (``#influxql``, times unknown to the
    scheduler) and writes them again: InfluxDB ends with the new points only."""
    from sensorhub.store.lineprotocol import INFLUXQL_MARK

    influxd.query(db_name, f'CREATE DATABASE "{db_name}"')
    journal = Journal(tmp_path / "j.sqlite")
    for k in range(3):
        journal.outbox.enqueue("run", batch_lines("run:a0", k, first_s=60 * k), 100)
    lo, hi = T0.value, (T0 + pd.Timedelta(seconds=59)).value
    delete = f'DELETE FROM "run" WHERE "athlete"=\'a0\' AND time >= {lo} AND time <= {hi}'
    journal.outbox.enqueue("run", [INFLUXQL_MARK + delete], 100)
    journal.outbox.enqueue("run", batch_lines("run:a0", 7, n=3), 100)
    report = flush_slowly(journal, rec_proxy, db_name)
    assert report.ok and report.sent_batches == 5
    got = stored(influxd, db_name)
    assert len(got) == 3 + 2 * 20  # session 0: only the three points written after the delete
    assert [v for (_, t), v in sorted(got.items())][:4] == [(107.0, 7.0)] * 3 + [(101.0, 1.0)]
