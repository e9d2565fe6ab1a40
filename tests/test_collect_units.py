"""Collector pieces that need no radio: backoff, device matching, config, sinks."""

import asyncio
import random

import pytest

from sensorhub.collect import Backoff, CallbackSink, DeviceSpec, Sample, parse_devices


def test_backoff_doubles_and_caps():
    b = Backoff(initial_s=0.5, factor=2.0, max_s=4.0, jitter=0.0)
    assert [b.delay(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_backoff_jitter_bounds():
    b = Backoff(initial_s=1.0, jitter=0.2, rng=random.Random(3))
    delays = [b.delay(0) for _ in range(200)]
    assert min(delays) >= 0.8 and max(delays) <= 1.2 and len(set(delays)) > 100


def test_device_matching():
    by_addr = DeviceSpec("aa:bb:cc:dd:ee:ff", "ann", "hr")
    assert by_addr.matches("AA:BB:CC:DD:EE:FF", "whatever")
    assert by_addr.matches("AA:BB:CC:DD:EE:FF/P", None)
    assert not by_addr.matches("AA:BB:CC:DD:EE:00", None)
    by_name = DeviceSpec("Polar Sense 1", "ann", "pmd")
    assert by_name.matches("11:22:33:44:55:66", "Polar Sense 1")
    assert not by_name.matches("11:22:33:44:55:66", "Polar Sense 2")
    with pytest.raises(ValueError):
        DeviceSpec("x", "ann", "ecg")


def test_parse_devices():
    specs = parse_devices(
        [
            {
                "address": "AA:BB:CC:DD:EE:FF",
                "athlete": "ann",
                "kind": "rsc",
                "placement": "left_foot",
            },
            {"name": "HRM", "athlete": "bob", "kind": "hr"},
        ]
    )
    assert specs[0].is_address and specs[0].placement == "left_foot"
    assert not specs[1].is_address and specs[1].match == "HRM"
    with pytest.raises(ValueError):
        parse_devices([{"athlete": "ann", "kind": "hr"}])


def test_callback_sink_sync_and_async():
    got = []

    async def acb(device, kind, t, parsed):
        got.append((kind, t, parsed))

    spec = DeviceSpec("HRM", "ann", "hr")
    sample = Sample(spec, "hr", 5, "p")
    asyncio.run(CallbackSink(lambda d, k, t, p: got.append((k, t, p))).handle(sample))
    asyncio.run(CallbackSink(acb).handle(sample))
    assert got == [("hr", 5, "p"), ("hr", 5, "p")]
