"""Live building blocks without radios: run series, streaming gait, outbox writer, config."""

from __future__ import annotations

import asyncio

import numpy as np
import pandas as pd
import pytest

from drivers.ble.hrs import HeartRateMeasurement
from drivers.ble.rsc import RscMeasurement
from sensorhub.config import BleDevice, ConfigError, load_config
from sensorhub.live import OutboxWriter, PodStream, RunSeries, StepStream, parse_placement
from sensorhub.live.emulate import imu_samples
from sensorhub.store import Journal

from .gait_helpers import load_generator, match

S = 1_700_000_000 * 10**9  # a whole second, Unix ns


def rsc(speed, cadence=170, stride=2.0, dist=None):
    return RscMeasurement(speed, cadence, stride, dist, True)


def test_run_series_means_per_second_and_rewrites_the_same_point():
    run = RunSeries("ann")
    k1, l1 = run.add_rsc(S + 100_000_000, rsc(3.0, dist=1000.0))
    k2, l2 = run.add_rsc(S + 600_000_000, rsc(4.0, 180, 2.2, 1003.0))
    k3, l3 = run.add_hr(S + 900_000_000, HeartRateMeasurement(150, (0.4, 0.41), None, True))
    assert k1 == k2 == k3  # one point per second, rewritten with the mean so far
    assert l3.startswith("run,athlete=ann,source=ble,sport=running ")
    assert l3.endswith(f" {S // 10**6}")
    f = run.frame().iloc[0]
    assert f["speed_mps"] == 3.5 and f["cadence_spm"] == 175
    assert f["step_length_mm"] == pytest.approx(1050.0)  # RSC stride / 2 (same foot to same foot)
    assert f["distance_m"] == 3.0  # since the session's first value
    assert f["hr_bpm"] == 150 and f["rr_ms"] == pytest.approx(405.0)
    k4, _ = run.add_rsc(S + 1_000_000_000, rsc(3.0, dist=2.0))  # sensor counter reset
    assert k4 != k1
    assert run.frame()["distance_m"].tolist() == [3.0, 3.0]
    run.add_rsc(S + 2_000_000_000, rsc(3.0, dist=5.0))
    assert run.frame()["distance_m"].iloc[-1] == 6.0


def test_placements():
    assert parse_placement("left_shank") == ("shank", "L")
    assert parse_placement("Right-Shank") == ("shank", "R")
    assert parse_placement("sacrum") == ("sacrum", None)
    assert parse_placement("chest") == (None, None)


def feed(pods, frames, chunk=10, latency_ns=20_000_000):
    """Feed frames chunk by chunk like PMD notifications; returns (stream, steps)."""
    stream, steps = StepStream(), []
    for p in pods:
        stream.register(p)
    t_ns = [(S + f["t_s"].to_numpy() * 1e9).astype(np.int64) for f in frames]
    xyz = [f[["acc_x_g", "acc_y_g", "acc_z_g"]].to_numpy() for f in frames]
    for i in range(0, len(t_ns[0]), chunk):
        for p, t, x in zip(pods, t_ns, xyz, strict=True):
            arrival = int(t[min(i + chunk, len(t)) - 1]) + latency_ns
            steps += stream.add(
                p, p.add(t[i : i + chunk], x[i : i + chunk], arrival), arrival / 1e9
            )
    for p in pods:
        steps += stream.add(p, p.finish(), np.inf)
    return stream, steps + stream.finish()


def test_two_shank_pods_give_each_step_once_with_the_right_metrics():
    left, right, truth = load_generator().two_pods("shank", duration_s=20.0, fs=200.0)
    pods = [PodStream("L", "shank", "L"), PodStream("R", "shank", "R")]
    stream, steps = feed(pods, [imu_samples(left), imu_samples(right)])
    got = stream.frame()
    assert len(steps) == len(got) == len(truth)
    got["ic_s"] -= S / 1e9 + 0.020  # the sensor clock offset: arrival latency of 20 ms
    assert len(match(got, truth, tol_s=0.01)) == len(truth)
    assert got["ic_s"].is_monotonic_increasing
    by_side = got.groupby("side")["gct_ms"].median()
    assert by_side["L"] == pytest.approx(250, abs=5) and by_side["R"] == pytest.approx(270, abs=5)
    assert got["step_time_ms"].median() == pytest.approx(333, abs=3)
    flight = got.groupby("side")["flight_ms"].median()  # next IC - own TO
    assert flight["L"] == pytest.approx(333 - 250, abs=8)
    assert flight["R"] == pytest.approx(333 - 270, abs=8)
    asym = stream.rolling_asymmetry()
    assert asym["gct_si_pct"] == pytest.approx(100 * (250 - 270) / 260, abs=2.5)
    assert asym["n_steps"] == len(truth)  # 20 s < the 60 s window


def test_step_latency_is_bounded():
    """A step is emitted once the next contact is settle_s + hop_s old, not at the end."""
    left, right, truth = load_generator().two_pods("shank", duration_s=12.0, fs=200.0)
    pods = [PodStream("L", "shank", "L"), PodStream("R", "shank", "R")]
    stream = StepStream()
    for p in pods:
        stream.register(p)
    frames = [imu_samples(left), imu_samples(right)]
    emitted_at = {}
    t = frames[0]["t_s"].to_numpy()
    for i in range(0, len(t), 10):
        for p, f in zip(pods, frames, strict=True):
            part = f.iloc[i : i + 10]
            t_ns = (S + part["t_s"].to_numpy() * 1e9).astype(np.int64)
            arrival = int(t_ns[-1])
            for s in stream.add(
                p,
                p.add(t_ns, part[["acc_x_g", "acc_y_g", "acc_z_g"]].to_numpy(), arrival),
                arrival / 1e9,
            ):
                emitted_at[s.contact.ic_s] = arrival / 1e9 - s.end_s
    delays = np.array(list(emitted_at.values()))[1:]  # the first waits for a 1 s buffer
    assert len(delays) >= len(truth) - 3
    assert delays.max() < pods[0].settle_s + pods[0].hop_s + 0.1


def test_low_rate_pod_is_reported_not_fatal():
    left, _, _ = load_generator().two_pods("shank", duration_s=6.0, fs=200.0)
    slow = imu_samples(left).iloc[::4].reset_index(drop=True)  # 50 Hz
    pod = PodStream("L", "shank", "L")
    stream, steps = feed([pod], [slow])
    assert steps == [] and "below the minimum" in pod.errors[0]


def test_sacral_pod_gives_both_sides():
    gen = load_generator()
    truth = gen.schedule(15.0)
    frame = imu_samples(gen.sacrum(truth, fs=200.0, duration_s=15.0))
    stream, steps = feed([PodStream("S", "sacrum")], [frame])
    got = stream.frame()
    assert len(got) >= len(truth) - 2 and set(got["side"].dropna()) == {"L", "R"}
    assert got["side"].iloc[4:].notna().all()  # sides (Lee et al. 2010) need a few steps
    assert got["step_time_ms"].median() == pytest.approx(333, abs=5)


def test_outbox_writer_keeps_lines_without_influxdb_and_coalesces(home):
    cfg = load_config(home=home)

    async def main():
        w = OutboxWriter(cfg, interval_s=0.05)
        await w.start()
        w.put(("run", 1), "run", "run,athlete=a x=1 1000")
        w.put(("run", 1), "run", "run,athlete=a x=2 1000")  # same key: replaces
        w.put(("run", 2), "run", "run,athlete=a x=3 2000")
        await asyncio.sleep(0.2)
        w.put(("stride", 1), "stride", "stride,athlete=a gct_ms=250 1500", urgent=True)
        await w.stop()
        await w.close()
        return w

    w = asyncio.run(main())
    bodies = [b.body for b in Journal(cfg.journal_path).outbox.batches()]
    assert "\n".join(bodies).splitlines() == [
        "run,athlete=a x=2 1000",
        "run,athlete=a x=3 2000",
        "stride,athlete=a gct_ms=250 1500",
    ]
    assert w.stats.enqueued_points == 3 and w.stats.sent_points == 0


def test_config_ble_devices(home, tmp_path):
    p = tmp_path / "c.toml"
    p.write_text(
        '[[ble_devices]]\naddress = "AA:BB:CC:DD:EE:FF"\nathlete = "ann"\nkind = "hr"\n'
        '[[ble_devices]]\nname = "Polar Sense 1"\nkind = "pmd"\nplacement = "sacrum"\n'
    )
    cfg = load_config(p, home)
    assert cfg.ble_devices == [
        BleDevice(address="AA:BB:CC:DD:EE:FF", athlete="ann", kind="hr"),
        BleDevice(name="Polar Sense 1", kind="pmd", placement="sacrum", athlete=""),
    ]
    p.write_text('[[ble_devices]]\nname = "x"\nkind = "power"\n')
    with pytest.raises(ConfigError):
        load_config(p, home)


def test_imu_samples_maps_body_axes_to_pod_axes():
    df = imu_samples(
        pd.DataFrame(
            {
                "t_s": [0, 0.005],
                "acc_v_g": [1.0, 1.1],
                "acc_ap_g": [0.1, 0.2],
                "acc_ml_g": [0.0, 0.3],
            }
        )
    )
    assert df.columns.tolist() == ["t_s", "acc_x_g", "acc_y_g", "acc_z_g"]
    assert df["acc_z_g"].tolist() == [1.0, 1.1]
