"""The live path lands on the same seam as files: the live asymmetry alert reaches the journal
and InfluxDB, and a recording replayed live gives the session a file ingest gives.

Emulated pods on a bumble virtual link, real GATT, the real collector and live sink, a real
influxd. Runs are sped up; the collector's clock is sped up by the same factor.
"""

from __future__ import annotations

import asyncio
import dataclasses

import numpy as np
import pandas as pd
import pytest

from sensorhub.cli.livepanel import replay_clock
from sensorhub.collect import Backoff, Collector, DeviceSpec
from sensorhub.collect.sink import CallbackSink
from sensorhub.live import LiveSink
from sensorhub.live.emulate import Rig, imu_samples
from sensorhub.pipeline import Pipeline
from sensorhub.sources.imu import ImuSource
from sensorhub.store import Journal

from .gait_helpers import load_generator
from .test_live_e2e import POD_L, POD_R, SPEEDUP, wait_for

PODS = [
    DeviceSpec("Sense L", "ann", "pmd", "left_shank"),
    DeviceSpec("Sense R", "ann", "pmd", "right_shank"),
]


async def replay_pods(cfg, left, right, speedup: float = SPEEDUP, **sink) -> LiveSink:
    """Replay two shank pods (frames or recording files) through the collector into a
    LiveSink; closes the session. The collector's clock is the one ``sensorhub collect
    --speedup`` uses."""
    rig = Rig(speedup=speedup)
    rig.pod("Sense L", POD_L, imu_samples(left))
    rig.pod("Sense R", POD_R, imu_samples(right))
    await rig.start()
    # detection every 0.25 s of real time (0.25 s × speed-up of the pods' clock): the same
    # CPU per real second at every speed-up. Every 0.25 s of the pods' clock at 10× runs the
    # detector 80 times a second and saturates a busy 2-core machine; arrivals then lag by
    # seconds and the two pods' clock offsets come from a few early frames (tens of ms off)
    hop_s = min(0.25 * speedup, 2.0)
    live = LiveSink(cfg, PODS, flush_interval_s=0.25, hop_s=hop_s, **sink)
    await live.start()
    col = Collector(
        rig.central(), PODS, live, clock=replay_clock(speedup), backoff=Backoff(0.05, 2.0, 0.3)
    )
    await col.start()
    await wait_for(lambda: all(s.connected for s in col.stats.values()))
    await rig.run()
    await asyncio.sleep(0.3)
    await col.stop()
    live.reports = await live.close()
    await rig.close()
    return live


@pytest.mark.influx
def test_live_asymmetry_alert_reaches_journal_and_influxdb(influx_cfg, influxd, db_name):
    # GCT left 300 ms, right 200 ms: balance 60 % left, far outside the 48-52 % band
    gen = load_generator()
    left, right, _ = gen.two_pods(
        "shank", duration_s=14.0, fs=200.0, gct_left_s=0.30, gct_right_s=0.20, step_s=0.40
    )
    live = asyncio.run(replay_pods(influx_cfg, left, right, alerts_every_s=4.0))
    fired = [e for e in live.alerts if e.rule == "live_gct_balance" and e.status == "open"]
    assert fired and fired[0].value == pytest.approx(60.0, abs=2.0)
    stored = Journal(influx_cfg.journal_path).alerts.frame("ann")
    assert "live_gct_balance" in set(stored["rule"])
    points = influxd.query(db_name, "SELECT * FROM alert WHERE rule = 'live_gct_balance'")
    assert points and points[0]["values"]


def cross_pod_ms(speedup: float) -> float:
    """How far apart the two pods' clocks may land, in ms (step time and flight span both
    pods). Each pod's clock is its least arrival - sensor time; the event loop's scheduling
    jitter in that least delay (~0.3 ms of real time on a busy machine) is multiplied by the
    replay's speed-up. The head-start bug this guards against gave 15 ms at 10x."""
    return 3.0 + 0.3 * speedup


@pytest.mark.parametrize("speedup", [1.0, 5.0, 10.0])
def test_recording_as_file_and_live_gives_the_same_session(cfg, tmp_path, speedup):
    gen = load_generator()
    left, right, truth = gen.two_pods("shank", duration_s=16.0, fs=200.0)
    start = pd.Timestamp.now(tz="UTC").floor("s") - pd.Timedelta(hours=1)
    # as in fixtures/imu: the right pod's file starts 250 ms after the left's (its own t_s
    # from 0): the file ingest and the replay must both line the pods up by start_utc
    late = pd.Timedelta(milliseconds=250)
    right = right[right["t_s"] >= late.total_seconds()].assign(t_s=lambda d: d["t_s"] - 0.25)
    paths = []
    for name, frame, t0 in (("left", left, start), ("right", right, start + late)):
        p = tmp_path / f"{name}.csv"
        frame.assign(start_utc=t0.isoformat()).to_csv(p, index=False)
        paths.append(p)
    imu = ImuSource(placement="shank", right=paths[1])
    file_cfg = dataclasses.replace(cfg, home=tmp_path / "file-home")
    pipe = Pipeline(file_cfg, sources={"imu": imu})
    assert pipe.ingest([paths[0]]).files[0].status == "ingested"
    by_file = pipe.journal.session_rows()[0]

    live = asyncio.run(replay_pods(cfg, paths[0], paths[1], speedup))
    by_live = Journal(cfg.journal_path).session_rows("ann")[0]

    gait = ["n_steps", "gct_ms", "step_time_ms", "flight_ms", "cadence_spm", "duty_factor"]
    gait += ["gct_ms_left", "gct_ms_right", "gct_si_pct", "gct_balance_left_pct", "gct_sa_pct"]
    assert set(gait) <= set(by_file.summary) and set(gait) <= set(by_live.summary)
    assert set(by_file.summary) - {"n_partial_contacts"} == set(by_live.summary) - {
        "n_partial_contacts"
    }
    # steps at the window edges of the stream may differ by one or two
    assert by_live.summary["n_steps"] == pytest.approx(by_file.summary["n_steps"], abs=2)
    for k in ("gct_ms", "gct_ms_left", "gct_ms_right"):  # one pod's own clock
        assert by_live.summary[k] == pytest.approx(by_file.summary[k], abs=3.0), k
    # step time and flight start on one pod's contact and end on the other's: live, each pod's
    # clock is mapped to arrival time (least delay seen), so both pods' errors add up (a quiet
    # CI run once saw 8.2 ms at 10x; the head-start bug gave 15 ms of clock offset at 10x)
    for k in ("step_time_ms", "flight_ms"):
        assert by_live.summary[k] == pytest.approx(
            by_file.summary[k], abs=2 * cross_pod_ms(speedup)
        ), k
    assert by_live.summary["flight_ms"] > 0 and by_live.summary["step_time_ms"] > 250
    for k in ("gct_si_pct", "gct_balance_left_pct", "gct_sa_pct"):
        assert by_live.summary[k] == pytest.approx(by_file.summary[k], abs=1.0), k
    assert by_live.summary["gct_si_pct"] < 0  # left 250 ms < right 270 ms: the same leg
    # the same load: duration (no HR) within the replay's timing noise
    assert (by_live.load_method, by_file.load_method) == ("duration", "duration")
    # the same load formula: minutes of the session. Live duration is first to last
    # notification, so a replay that lags on a busy machine can only make it longer
    assert by_file.load == pytest.approx(by_file.duration_s / 60, rel=1e-9)
    assert by_live.load == pytest.approx(by_live.duration_s / 60, rel=1e-9)
    assert by_live.duration_s >= by_file.duration_s - 1.0
    assert live.reports[0].steps == by_live.summary["n_steps"]


async def pod_timelines(speedup: float) -> dict[str, float]:
    """Replay two pods of one recording; for each, Unix ms its clock maps ``t_s = 0`` to
    (:class:`sensorhub.live.gait.SensorClock`'s estimate: the least arrival − sensor time)."""
    gen = load_generator()
    left, right, _ = gen.two_pods("shank", duration_s=12.0, fs=200.0)
    rig = Rig(speedup=speedup)
    pods = {"Sense L": rig.pod("Sense L", POD_L, imu_samples(left))}
    pods["Sense R"] = rig.pod("Sense R", POD_R, imu_samples(right))
    await rig.start()
    seen: dict[str, list[int]] = {name: [] for name in pods}

    def on_sample(device, kind, t_arrival_ns, frame) -> None:
        if len(getattr(frame, "t_ns", ())):
            seen[device.match].append(t_arrival_ns - int(frame.t_ns[-1]))

    col = Collector(
        rig.central(),
        PODS,
        CallbackSink(on_sample),
        clock=replay_clock(speedup),
        backoff=Backoff(0.05, 2.0, 0.3),
    )
    await col.start()
    await wait_for(lambda: all(s.connected for s in col.stats.values()))
    await rig.run()
    await asyncio.sleep(0.2)
    await col.stop()
    await rig.close()
    return {n: (pods[n].clock0_ns + int(np.min(seen[n]))) / 1e6 for n in pods}


@pytest.mark.parametrize("speedup", [1.0, 5.0, 10.0])
def test_two_pods_replayed_together_share_one_timeline(speedup):
    """The same recording instant maps to the same Unix time on both pods, within a few ms
    whatever the speed-up. Each pod once took its own start as its replay began: the second
    pod started after the first had worked through its first samples, and the replay clock
    multiplied that head start by the speed-up (1.3 ms at 1×, 10 ms at 5×, 15 ms at 10×)."""
    t0 = asyncio.run(pod_timelines(speedup))
    assert abs(t0["Sense L"] - t0["Sense R"]) <= cross_pod_ms(speedup), t0
