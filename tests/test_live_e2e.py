"""Live sessions end to end: bumble emulators -> real GATT on a virtual link -> collector ->
LiveSink -> journal outbox -> a real influxd. Runs are sped up; the collector's clock is
sped up by the same factor so arrival times follow the emulated timeline."""

from __future__ import annotations

import asyncio
import math
import time

import numpy as np
import pandas as pd
import pytest

from sensorhub.collect import Backoff, Collector, DeviceSpec, MemorySink, TeeSink
from sensorhub.config import load_config
from sensorhub.live import LiveSink
from sensorhub.live.emulate import Rig, imu_samples
from sensorhub.store import Journal

from .gait_helpers import load_generator

SPEEDUP = 4.0
FOOT, STRAP, POD_L, POD_R = (
    "E0:00:00:00:01:01",
    "E0:00:00:00:01:02",
    "E0:00:00:00:01:03",
    "E0:00:00:00:01:04",
)
DEVICES = [
    DeviceSpec("FootPod", "ann", "rsc", "left_foot"),
    DeviceSpec(STRAP, "ann", "hr", "chest"),
    DeviceSpec("Sense L", "ann", "pmd", "left_shank"),
    DeviceSpec("Sense R", "ann", "pmd", "right_shank"),
]
GAIT = {"hop_s": 0.25}


def sped_up_clock(speedup: float = SPEEDUP):
    t0, m0 = (time.time_ns() // 10**9) * 10**9, time.monotonic_ns()
    return lambda: t0 + int((time.monotonic_ns() - m0) * speedup)


def rsc_hr(seconds: float, rate_hz: float = 2.0) -> pd.DataFrame:
    n = int(seconds * rate_hz)
    i = np.arange(n)
    return pd.DataFrame(
        {
            "t_s": 0.25 + i / rate_hz,
            "speed_mps": 3.0 + 0.01 * i,
            "cadence_spm": 170 + i % 7,
            "stride_m": 2.2 + 0.01 * (i % 5),
            "distance_m": 100.0 + 1.5 * i,
            "hr_bpm": 140 + i % 11,
            "rr_s": [(0.43 + 0.001 * (k % 9),) for k in i],
        }
    )


def shank_pods(seconds: float):
    left, right, truth = load_generator().two_pods("shank", duration_s=seconds, fs=200.0)
    return imu_samples(left), imu_samples(right), truth


async def wait_for(cond, timeout=15.0):
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def start_rig(cfg, seconds: float, devices=DEVICES):
    rig = Rig(speedup=SPEEDUP)
    basic = rsc_hr(seconds)
    left, right, truth = shank_pods(seconds)
    foot = rig.footpod("FootPod", FOOT, basic, keep_sent=True)
    strap = rig.strap("HRM", STRAP, basic, keep_sent=True)
    pod_l = rig.pod("Sense L", POD_L, left)
    pod_r = rig.pod("Sense R", POD_R, right)
    await rig.start()
    memory = MemorySink()
    live = LiveSink(cfg, devices, flush_interval_s=0.25, **GAIT)
    await live.start()
    col = Collector(
        rig.central(),
        devices,
        TeeSink(live, memory),
        clock=sped_up_clock(),
        backoff=Backoff(0.05, 2.0, 0.3),
        scan_timeout_s=2.0,
    )
    await col.start()
    await wait_for(lambda: all(s.connected for s in col.stats.values()))
    return rig, (foot, strap, pod_l, pod_r), truth, memory, live, col


def expected_run(memory: MemorySink) -> pd.DataFrame:
    """Per-second means (distance: last, from the session's first value), from what arrived."""
    rows = []
    first = None
    for s in memory.samples:
        sec = s.t_arrival_ns // 10**9 * 1000
        if s.kind == "rsc":
            p = s.parsed
            first = p.distance_m if first is None else first
            rows.append(
                {
                    "time": sec,
                    "speed_mps": p.speed_mps,
                    "cadence_spm": p.cadence_spm,
                    "step_length_mm": 500.0 * p.stride_m,
                    "distance_m": p.distance_m - first,
                }
            )
        elif s.kind == "hr":
            rows.append(
                {"time": sec, "hr_bpm": s.parsed.hr_bpm, "rr_ms": np.mean(s.parsed.rr_s) * 1000}
            )
    df = pd.DataFrame(rows)
    agg = {c: "mean" for c in df.columns if c not in ("time", "distance_m")}
    agg["distance_m"] = "last"
    return df.groupby("time").agg(agg)


def influx_frame(server, db: str, q: str) -> pd.DataFrame:
    series = server.query(db, q)
    if not series:
        return pd.DataFrame()
    return pd.concat(
        [pd.DataFrame(s["values"], columns=s["columns"]) for s in series], ignore_index=True
    )


def check_run_points(server, db: str, memory: MemorySink) -> None:
    want = expected_run(memory)
    got = influx_frame(server, db, "SELECT * FROM run WHERE athlete='ann'").set_index("time")
    assert set(got["source"]) == {"ble"} and set(got["sport"]) == {"running"}
    assert list(got.index) == list(want.index)
    for col in want.columns:
        np.testing.assert_allclose(
            got[col].to_numpy(float), want[col].to_numpy(float), rtol=1e-9, err_msg=col
        )


def check_strides(server, db: str, live: LiveSink) -> pd.DataFrame:
    got = influx_frame(server, db, "SELECT * FROM stride")
    steps = live.athletes["ann"].steps.steps
    assert len(got) == len(steps) == live.stride_points
    want = sorted(math.floor(s.contact.ic_s * 1000) for s in steps)  # ms floored, as every point
    assert sorted(got["time"]) == want
    return got


@pytest.mark.influx
def test_four_sensors_to_influxdb(influx_cfg, influxd, db_name, caplog):
    seconds = 10.0

    async def main():
        rig, emus, truth, memory, live, col = await start_rig(influx_cfg, seconds)
        await rig.run()
        await asyncio.sleep(0.3)
        asym = live.asymmetry("ann")
        await col.stop()
        reports = await live.close()
        return emus, truth, memory, live, col, asym, reports

    (foot, strap, *_), truth, memory, live, col, asym, reports = asyncio.run(main())
    assert all(s.parse_errors == 0 for s in col.stats.values())
    assert live._alert_engine is not None and "alert rules failed" not in caplog.text
    assert len(memory.of("rsc")) == len(foot.sent) == 20 and len(memory.of("hr")) == 20
    check_run_points(influxd, db_name, memory)
    strides = check_strides(influxd, db_name, live)
    # every step's acknowledgement is timed; those completed only by the session's end (the
    # last contact has no successor) apart, as their wait is the stop's, not the live path's
    lat = live.writer.stats.latency_ms
    assert len(lat["stride"]) + len(lat["stride_end"]) == len(strides)
    assert 1 <= len(lat["stride_end"]) < len(lat["stride"])
    # every synthetic contact once (the first/last one may lack a full window)
    assert len(truth) - 2 <= len(strides) <= len(truth)
    by_side = strides.groupby("side")["gct_ms"].median()
    assert by_side["L"] == pytest.approx(250, abs=6) and by_side["R"] == pytest.approx(270, abs=6)
    assert set(strides["placement"]) == {"shank"}
    assert strides["step_time_ms"].median() == pytest.approx(333, abs=5)
    assert strides["cadence_spm"].median() == pytest.approx(180, abs=3)
    assert asym["gct_si_pct"] == pytest.approx(-7.7, abs=2.5)  # (250-270)/260
    # session close: source + session rows, session point, daily load
    (report,) = reports
    assert report.steps == len(strides) and report.samples["rsc"] == 20
    journal = Journal(influx_cfg.journal_path)
    src = journal.db.execute("SELECT * FROM sources").fetchall()
    assert [r["kind"] for r in src] == ["ble"] and src[0]["sha256"].startswith("ble:")
    sess = journal.sessions("ann").iloc[0]
    # the session spans its notifications: first arrival (floored to the second) to last
    arrivals = [x.t_arrival_ns for x in memory.samples]
    span_s = (max(arrivals) - min(arrivals) // 10**9 * 10**9) / 1e9
    assert sess["duration_s"] == pytest.approx(span_s, abs=1e-6)
    assert sess["duration_s"] >= seconds - 1.0
    assert journal.outbox.stats()["batches"] == 0
    (point,) = influx_frame(influxd, db_name, "SELECT * FROM session").to_dict("records")
    assert point["session_id"] == sess["id"] and point["n_steps"] == len(strides)
    assert point["distance_m"] == pytest.approx(1.5 * 19, abs=0.1)
    assert point["gct_si_pct"] == pytest.approx(-7.7, abs=2.5)
    assert influxd.count(db_name, "load", "daily_load") >= 1


@pytest.mark.influx
def test_disconnect_and_malformed_notifications(influx_cfg, influxd, db_name):
    async def main():
        rig, (foot, strap, pod_l, pod_r), truth, memory, live, col = await start_rig(
            influx_cfg, 10.0
        )
        run = asyncio.create_task(rig.run())
        await asyncio.sleep(0.6)
        await strap.send_raw(bytes.fromhex("20 48"))  # reserved flag bit
        await pod_l.send_raw(bytes.fromhex("02 00 00"))  # truncated PMD frame
        await foot.drop(0.3)  # the foot pod goes away...
        await wait_for(lambda: col.stats["FootPod"].connects == 2)  # ...and comes back
        await run
        await asyncio.sleep(0.3)
        await col.stop()
        await live.close()
        return foot, memory, live, col

    foot, memory, live, col = asyncio.run(main())
    assert col.stats[STRAP].parse_errors == 1 and col.stats["Sense L"].parse_errors == 1
    assert col.stats["FootPod"].disconnects >= 1
    # notifications sent while the pod was away are lost on the air; all others arrive
    assert 0 < len(memory.of("rsc")) <= len(foot.sent)
    check_run_points(influxd, db_name, memory)
    check_strides(influxd, db_name, live)
    assert live.stride_points > 20


@pytest.mark.influx
def test_influxdb_down_for_a_while_loses_nothing(home, own_influxd, db_name):
    server = own_influxd
    cfg = load_config(home=home)

    async def main():
        rig, emus, truth, memory, live, col = await start_rig(cfg, 14.0)
        run = asyncio.create_task(rig.run())
        await asyncio.sleep(0.5)
        await asyncio.to_thread(server.stop)  # InfluxDB goes away
        n_before = len(memory.samples)
        await asyncio.sleep(1.0)
        down = (live.writer.stats.failed_flushes, live.writer.stats.backlog_points)
        assert len(memory.samples) > n_before  # collection goes on
        await asyncio.to_thread(server.start)  # ... and comes back
        await run
        await asyncio.sleep(0.3)
        await col.stop()
        await live.close()
        return memory, live, down

    memory, live, (failed, backlog) = asyncio.run(main())
    assert failed > 0 and backlog > 0
    check_run_points(server, db_name, memory)
    check_strides(server, db_name, live)
    assert Journal(cfg.journal_path).outbox.stats()["batches"] == 0
