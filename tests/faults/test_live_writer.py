"""The live outbox writer while InfluxDB refuses: bounded memory, bounded retries, bounded ticks.

Ticks are driven by hand on a clock the test moves (0.1 s per tick, 100 ticks: 10 s of a
live session), through the fault proxy in front of the real influxd.
"""

from __future__ import annotations

import asyncio

import pandas as pd
import pytest

from sensorhub.config import load_config
from sensorhub.live import OutboxWriter
from sensorhub.store import Journal, point_line

from .points import T0

pytestmark = pytest.mark.influx
TICK_NS = 100_000_000  # 0.1 s
MAX_SENDS_IN_10_S = 5  # backoff 1, 2, 4, 8 s after each refusal: sends at 0, 1, 3, 7 s


class NsClock:
    def __init__(self) -> None:
        self.t = int(T0.value) + 10**18  # any fixed Unix ns

    def __call__(self) -> int:
        return self.t


def line(i: int) -> str:
    t = T0 + pd.Timedelta(seconds=i)
    return point_line("run", {"athlete": "eva", "sport": "running"}, {"hr_bpm": 100.0 + i}, t)


@pytest.fixture
def live_cfg(home, fault_proxy, proxy_cfg, db_name, monkeypatch):
    monkeypatch.setenv("SENSORHUB_INFLUX_URL", fault_proxy.url)
    monkeypatch.setenv("SENSORHUB_INFLUX_DB", db_name)
    return load_config(home=home)


async def ten_seconds(w: OutboxWriter, clock: NsClock, start: int = 0) -> None:
    for i in range(start, start + 100):
        w.put(("run", i), "run", line(i), t_event_ns=clock(), kind="run")
        await w.tick()
        clock.t += TICK_NS


@pytest.mark.parametrize(
    "status, headers",
    [(400, {}), (429, {}), (429, {"Retry-After": "5"})],
    ids=["400", "429", "429-retry-after"],
)
def test_refused_batches_are_retried_by_the_policy_and_waiting_events_stay_bounded(
    status, headers, live_cfg, fault_proxy, influxd, db_name
):
    clock = NsClock()
    fault_proxy.fail(status, headers=headers)

    async def main() -> OutboxWriter:
        w = OutboxWriter(live_cfg, interval_s=3600, clock=clock, max_unacked=40)
        await w.start()
        await ten_seconds(w, clock)
        assert 0 < fault_proxy.stats["/write"].requests <= MAX_SENDS_IN_10_S
        assert w.stats.unacked == 40 and w.stats.unacked_dropped == 60
        assert w.stats.failed_flushes > 0 and str(status) in w.stats.last_error
        fault_proxy.reset()
        clock.t += 120 * 10**9  # past every backoff
        await w.tick()
        await w.stop()
        await w.close()
        return w

    w = asyncio.run(main())
    assert w.stats.unacked == 0 and len(w.stats.latency_ms["run"]) == 40
    assert Journal(live_cfg.journal_path).outbox.stats()["batches"] == 0
    assert influxd.count(db_name, "run", "hr_bpm") == 100  # nothing lost meanwhile


def test_a_hanging_influxdb_does_not_stall_a_tick_past_its_deadline(
    live_cfg, fault_proxy, influxd, db_name
):
    fault_proxy.hang()

    async def main():
        w = OutboxWriter(live_cfg, interval_s=3600, flush_deadline_s=0.3)
        await w.start()
        w.put(("run", 0), "run", line(0), t_event_ns=0, kind="run")
        report = await w.tick()
        fault_proxy.reset()
        await w.close()
        return w, report

    w, report = asyncio.run(main())
    assert report.deadline_reached and not report.ok
    assert w.stats.unacked == 1 and Journal(live_cfg.journal_path).outbox.stats()["batches"] == 1


def test_latency_is_recorded_once_the_events_batches_are_acknowledged(live_cfg, influxd, db_name):
    clock = NsClock()

    async def main():
        w = OutboxWriter(live_cfg, interval_s=3600, clock=clock)
        await w.start()
        for i in range(5):
            w.put(("run", i), "run", line(i), t_event_ns=clock(), kind="run")
        clock.t += 250_000_000
        await w.tick()
        await w.close()
        return w

    w = asyncio.run(main())
    assert list(w.stats.latency_ms["run"]) == [250.0] * 5 and w.stats.unacked == 0


def test_an_influxdb_slower_than_the_tick_deadline_still_gets_everything(
    live_cfg, fault_proxy, influxd, db_name
):
    fault_proxy.slow(0.6)  # every write answers after 0.6 s: longer than a 0.2 s deadline

    async def main():
        w = OutboxWriter(live_cfg, interval_s=3600, flush_deadline_s=0.2)
        await w.start()
        reports = []
        for i in range(6):
            w.put(("run", i), "run", line(i), t_event_ns=0, kind="run")
            reports.append(await w.tick())
        for _ in range(10):  # then ticks without new lines, until the outbox is empty
            if reports[-1].ok:
                break
            reports.append(await w.tick())
        await w.close()
        return w, reports

    w, reports = asyncio.run(main())
    assert reports[0].deadline_reached  # the first tick is cut, as a hanging InfluxDB's
    # later ticks wait long enough to be answered (with one deadline for every tick, each
    # would cut the same request and nothing would ever be acknowledged)
    assert reports[-1].ok and sum(r.sent_points for r in reports) >= 6
    assert Journal(live_cfg.journal_path).outbox.stats()["batches"] == 0
    assert w.stats.unacked == 0 and influxd.count(db_name, "run", "hr_bpm") == 6
