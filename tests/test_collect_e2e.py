"""End to end over bumble's virtual link: emulated sensors -> real GATT -> collector -> sink.

Discovery, MTU exchange, CCCD subscriptions, PMD control point writes and notifications
all go through bumble's host stacks and virtual controllers on a LocalLink.
"""

import asyncio
import itertools
import time
from types import SimpleNamespace

import numpy as np
import pytest
from bumble.link import LocalLink

from drivers.ble import hrs, rsc
from drivers.ble.emulators import FootPod, HeartRateStrap, PolarImuPod, local_device
from sensorhub.collect import Backoff, Collector, DeviceSpec, MemorySink
from sensorhub.collect.bumble_transport import BumbleTransport

FOOT, STRAP, POD = "E0:00:00:00:00:01", "E0:00:00:00:00:02", "E0:00:00:00:00:03"


def rows(n, rate_hz=52.0):
    return [
        SimpleNamespace(
            t_s=i / rate_hz,
            speed_mps=3.0 + 0.01 * i,
            cadence_spm=160 + i % 20,
            stride_m=1.1 + 0.01 * (i % 7),
            distance_m=10.0 * i,
            hr_bpm=140 + i % 30,
            rr_s=(0.4 + 0.001 * i,),
            acc_x_g=0.01 * i,
            acc_y_g=-0.5,
            acc_z_g=1.0 - 0.002 * i,
            gyr_x_dps=3.0 * i,
            gyr_y_dps=-100.0,
            gyr_z_dps=0.5 * i,
        )
        for i in range(n)
    ]


async def wait_for(cond, timeout=10.0):
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def setup(devices, clock=time.time_ns):
    link = LocalLink()
    foot = FootPod(local_device(link, "FootPod L", FOOT), speedup=20, keep_sent=True)
    strap = HeartRateStrap(local_device(link, "HRM Pro", STRAP), speedup=20, keep_sent=True)
    pod = PolarImuPod(local_device(link, "Polar Sense 1", POD), speedup=20, keep_sent=True)
    for emu in (foot, strap, pod):
        await emu.start()
    sink = MemorySink()
    central = BumbleTransport(local_device(link, "hub", "E0:00:00:00:00:FF"))
    collector = Collector(
        central, devices, sink, clock=clock, backoff=Backoff(0.05, 2.0, 0.5), scan_timeout_s=2.0
    )
    await collector.start()
    return foot, strap, pod, sink, collector


def test_three_sensors_end_to_end():
    async def main():
        ticks = itertools.count(1)
        devices = [
            DeviceSpec("FootPod L", "ann", "rsc", "left_foot"),  # by name
            DeviceSpec(STRAP.lower(), "ann", "hr", "chest"),  # by address
            DeviceSpec("Polar Sense 1", "ann", "pmd", "right_shank"),
        ]
        foot, strap, pod, sink, col = await setup(devices, clock=lambda: next(ticks))
        await wait_for(lambda: all(s.connected for s in col.stats.values()))
        data = rows(104)
        await asyncio.gather(foot.run(data[:30]), strap.run(data[:30]), pod.run(data))
        await wait_for(lambda: len(sink.samples) >= 30 + 30 + 20)
        await col.stop()
        return foot, strap, pod, sink, col, data

    foot, strap, pod, sink, col, data = asyncio.run(main())
    assert [s.parsed for s in sink.of("rsc")] == [rsc.parse_measurement(p) for p in foot.sent]
    assert [s.parsed for s in sink.of("hr")] == [hrs.parse_measurement(p) for p in strap.sent]
    assert len(sink.of("rsc")) == 30 and len(sink.of("hr")) == 30
    first = sink.of("rsc")[0].parsed
    assert first.speed_mps == pytest.approx(3.0, abs=1 / 256) and first.cadence_spm == 160
    assert sink.of("hr")[5].parsed.rr_s == pytest.approx((0.405,), abs=1 / 1024)
    # arrival stamps come from the injected clock, strictly increasing
    stamps = [s.t_arrival_ns for s in sink.samples]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert {s.device.placement for s in sink.of("hr")} == {"chest"}
    # PMD: 104 samples per stream in frames of 10 -> 10 frames each for ACC and GYRO
    frames = [s.parsed for s in sink.of("pmd")]
    acc = np.concatenate([f.xyz for f in frames if f.unit == "g"])
    gyr = np.concatenate([f.xyz for f in frames if f.unit == "dps"])
    want_acc = np.array([[r.acc_x_g, r.acc_y_g, r.acc_z_g] for r in data[:100]])
    want_gyr = np.array([[r.gyr_x_dps, r.gyr_y_dps, r.gyr_z_dps] for r in data[:100]])
    np.testing.assert_allclose(acc, want_acc, atol=0.0005)  # 1 mG resolution
    np.testing.assert_allclose(gyr, want_gyr, atol=2000 / 32768)  # 1 LSB at 2000 dps
    t = np.concatenate([f.t_ns for f in frames if f.unit == "g"])
    assert np.all(np.diff(t) > 0)
    assert np.diff(t).mean() == pytest.approx(1e9 / 52, rel=1e-3)
    assert all(s.parse_errors == 0 for s in col.stats.values())


def test_reconnect_after_drop():
    async def main():
        foot, strap, pod, sink, col = await setup([DeviceSpec(FOOT, "bob", "rsc")])
        stats = col.stats[FOOT]
        await wait_for(lambda: stats.connected)
        data = rows(20)
        await foot.run(data[:10])
        await wait_for(lambda: stats.samples == 10)
        await foot.drop(0.3)  # the pod goes away and comes back
        await wait_for(lambda: stats.connects == 2 and stats.connected)
        await foot.run(data[10:])
        await wait_for(lambda: stats.samples == 20)
        await col.stop()
        return sink, stats

    sink, stats = asyncio.run(main())
    assert stats.disconnects >= 1 and stats.connects == 2
    assert [s.parsed.cadence_spm for s in sink.samples] == [160 + i for i in range(20)]


def test_malformed_notifications_are_counted_and_skipped():
    async def main():
        foot, strap, pod, sink, col = await setup([DeviceSpec(STRAP, "cy", "hr")])
        stats = col.stats[STRAP]
        await wait_for(lambda: stats.connected)
        data = rows(6)
        await strap.run(data[:3])
        await strap.send_raw(bytes.fromhex("20 48"))  # reserved flag
        await strap.send_raw(bytes.fromhex("10 48 00"))  # odd RR bytes
        await strap.run(data[3:])
        await wait_for(lambda: stats.notifications == 8)
        await col.stop()
        return sink, stats

    sink, stats = asyncio.run(main())
    assert stats.parse_errors == 2
    assert stats.samples == 6 and stats.connects == 1
    assert [s.parsed.hr_bpm for s in sink.samples] == [140, 141, 142, 143, 144, 145]
