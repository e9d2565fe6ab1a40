"""Live BLE collector benchmark over bumble's virtual link.

N emulated HR straps notify at RATE Hz for T seconds (each payload carries a sequence
number in its energy-expended field); we measure notification -> handler latency
(p50/p99) and the process CPU share, twice in the same run:

- baseline: a bare bumble GATT client subscribed with a no-op callback (BumbleTransport
  links, no parsing, no queue, no sink);
- collector: the full :class:`sensorhub.collect.Collector` (parse, stats, queue, sink).

Both processes host the emulators too, so the CPU difference is the collector's cost.
Prints the collector/baseline ratios.

    .venv/bin/python benchmarks/live.py --devices 8 --seconds 5 --rate 4
"""

from __future__ import annotations

import argparse
import asyncio
import time

import numpy as np
from bumble.link import LocalLink

from drivers.ble import hrs
from drivers.ble.emulators import HeartRateStrap, local_device
from drivers.ble.uuids import HR_MEASUREMENT, HR_SERVICE, sig_uuid128
from sensorhub.collect import Backoff, CallbackSink, Collector, DeviceSpec
from sensorhub.collect.bumble_transport import BumbleTransport


def addr(i: int) -> str:
    return f"E1:00:00:00:{i // 256:02X}:{i % 256:02X}"


async def emit(straps, rate_hz, seconds, sent):
    period, n = 1.0 / rate_hz, int(seconds * rate_hz)
    start = time.monotonic()
    for k in range(n):
        delay = start + k * period - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        for i, strap in enumerate(straps):
            payload = hrs.build_measurement(150, (0.4,), energy_kj=k % 65536)
            sent[(i, k)] = time.perf_counter_ns()
            await strap.device.notify_subscribers(strap.characteristic, payload)


async def run(mode: str, n_dev: int, seconds: float, rate_hz: float) -> dict:
    link = LocalLink()
    straps = [HeartRateStrap(local_device(link, f"HR{i}", addr(i))) for i in range(n_dev)]
    for s in straps:
        await s.start()
    transport = BumbleTransport(local_device(link, "hub", "E1:FF:FF:FF:FF:FF"))
    sent: dict[tuple[int, int], int] = {}
    lat: list[int] = []

    def record(i: int, seq: int) -> None:
        t0 = sent.get((i, seq))
        if t0 is not None:
            lat.append(time.perf_counter_ns() - t0)

    if mode == "baseline":
        await transport.start()
        links = []
        for i in range(n_dev):
            a = await transport.find(lambda ad, _n, i=i: ad == addr(i), sig_uuid128(HR_SERVICE), 10)
            link_ = await transport.connect(a)
            await link_.subscribe(sig_uuid128(HR_MEASUREMENT),
                                  lambda data, i=i: record(i, data[2] | data[3] << 8))
            links.append(link_)
    else:
        index = {addr(i): i for i in range(n_dev)}
        sink = CallbackSink(lambda dev, kind, t, p: record(index[dev.match], p.energy_kj))
        specs = [DeviceSpec(addr(i), "bench", "hr") for i in range(n_dev)]
        col = Collector(transport, specs, sink, backoff=Backoff(0.05, 2, 0.5))
        await col.start()
        while not all(s.connected for s in col.stats.values()):
            await asyncio.sleep(0.02)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await emit(straps, rate_hz, seconds, sent)
    await asyncio.sleep(0.2)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    if mode == "baseline":
        for link_ in links:
            await link_.disconnect()
        await transport.stop()
    else:
        await col.stop()
    ms = np.array(lat) / 1e6
    return {"n": len(ms), "sent": len(sent), "p50_ms": float(np.percentile(ms, 50)),
            "p99_ms": float(np.percentile(ms, 99)), "cpu_pct": 100.0 * cpu / wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--rate", type=float, default=4.0, help="notifications/s per device")
    args = ap.parse_args()
    results = {m: asyncio.run(run(m, args.devices, args.seconds, args.rate))
               for m in ("baseline", "collector")}
    for mode, r in results.items():
        print(f"{mode:9s} delivered {r['n']}/{r['sent']}  p50 {r['p50_ms']:.3f} ms  "
              f"p99 {r['p99_ms']:.3f} ms  CPU {r['cpu_pct']:.1f} % (process, incl. emulators)")
    b, c = results["baseline"], results["collector"]
    print(f"ratio collector/baseline: p50 {c['p50_ms'] / b['p50_ms']:.2f}x  "
          f"p99 {c['p99_ms'] / b['p99_ms']:.2f}x  CPU {c['cpu_pct'] / b['cpu_pct']:.2f}x")


if __name__ == "__main__":
    main()
