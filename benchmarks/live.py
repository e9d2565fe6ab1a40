"""Live BLE benchmark: 10 emulated sensors -> collector -> live sink -> outbox -> real influxd.

The emulators run in a child process on bumble virtual controllers and reach the collector
over an HCI TCP link (as with ``sensorhub emulate``), so this process's CPU time is the
collector's own: bumble host stack, parsing, live sink (run series, streaming gait),
journal outbox and InfluxDB writes. influxd runs in its own process.

Sensors (native rates): 3 foot pods (RSC at 4, 2, 1 Hz), 3 HR straps (1 Hz), 4 Polar PMD
pods streaming ACC+GYRO (2 shank pods at 200 Hz, a sacral pod at 104 Hz, a 52 Hz pod
that is below the gait detector's minimum rate and only rides along).

Two phases in the same run, each with fresh emulators:

- baseline: collector -> in-memory sink (what the collector alone costs);
- live: collector -> LiveSink -> outbox -> influxd (the full path).

Prints notification -> InfluxDB latency (acknowledgement time - arrival time of each RSC/HR
notification; for steps, ack time - end of the step; the few steps completed only when the
session ends, after the devices stopped, are counted apart) p50/p99, the collector process CPU
share (goal: p99 <= 1 s, CPU <= 15 % of one core) and the live/baseline CPU ratio.

    .venv/bin/python benchmarks/live.py --seconds 60 [--runs 3] [--profile DIR]

``--runs N`` repeats both phases N times (fresh emulators and influxd each time) and prints
min/median/max of the CPU shares, their ratio and the p99 latencies over the runs (the
machine's load varies: one run says little about the margin to the goals).

``--profile DIR`` runs pyinstrument on the collector's loop thread and on the writer thread
during the live phase (writes ``live-loop.txt`` and ``live-writer.txt``, and prints the
share of each thread's busy time, i.e. not waiting in ``select``, spent in the contact
detectors and in the streaming gait around them; profiling costs CPU, so the figures of a
profiled run are not the benchmark's).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sensorhub.collect import Backoff, Collector, DeviceSpec, MemorySink  # noqa: E402
from sensorhub.config import load_config  # noqa: E402

# name, kind, athlete, placement, rate (Hz)
SENSORS = [
    ("Foot A", "rsc", "a", "foot", 4),
    ("Foot B", "rsc", "b", "foot", 2),
    ("Foot C", "rsc", "c", "foot", 1),
    ("HR A", "hr", "a", "chest", 1),
    ("HR B", "hr", "b", "chest", 1),
    ("HR C", "hr", "c", "chest", 1),
    ("Pod AL", "pmd", "a", "left_shank", 200),
    ("Pod AR", "pmd", "a", "right_shank", 200),
    ("Pod B", "pmd", "b", "sacrum", 104),
    ("Pod C", "pmd", "c", "chest", 52),
]


def address(i: int) -> str:
    return f"E2:00:00:00:00:{i + 1:02X}"


def imu_frames(seconds: float):
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen", ROOT / "fixtures/imu/generate.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    left, right, _ = gen.two_pods("shank", duration_s=seconds, fs=200.0)
    sacrum = gen.sacrum(gen.schedule(seconds), fs=104.0, duration_s=seconds)
    t52 = np.arange(0, seconds, 1 / 52)
    chest = pd.DataFrame(
        {
            "t_s": t52,
            "acc_v_g": 1 + 0.1 * np.sin(t52 * 18),
            "acc_ap_g": 0.0 * t52,
            "acc_ml_g": 0.0 * t52,
        }
    )
    return {"Pod AL": left, "Pod AR": right, "Pod B": sacrum, "Pod C": chest}


async def emulators(port: int, seconds: float) -> None:
    """Child process: the 10 sensors, exposed on tcp-server:_:port."""
    from sensorhub.live.emulate import Rig, imu_samples

    rig = Rig()
    imu = imu_frames(seconds)
    for i, (name, kind, _, _, rate) in enumerate(SENSORS):
        if kind == "pmd":
            df = imu_samples(imu[name]).assign(gyr_x_dps=0.0, gyr_y_dps=0.0, gyr_z_dps=0.0)
            rig.pod(name, address(i), df)
        else:
            n = int(seconds * rate)
            k = np.arange(n)
            df = pd.DataFrame(
                {
                    "t_s": k / rate,
                    "speed_mps": 3.0 + 0.001 * k,
                    "cadence_spm": 170.0,
                    "stride_m": 2.2,
                    "distance_m": 3.0 * k / rate,
                    "hr_bpm": 150.0,
                    "rr_s": [(0.4,)] * n,
                }
            )
            (rig.footpod if kind == "rsc" else rig.strap)(name, address(i), df)
    await rig.expose(f"tcp-server:_:{port}")
    await rig.start()
    print("ready", flush=True)
    await rig.wait_connected()
    await rig.run()
    await asyncio.sleep(0.5)
    await rig.close()


async def collect(mode: str, port: int, seconds: float, cfg, profile: str = "") -> dict:
    from sensorhub.collect.bumble_transport import BumbleTransport
    from sensorhub.live import LiveSink

    devices = [
        DeviceSpec(name, athlete, kind, placement) for name, kind, athlete, placement, _ in SENSORS
    ]
    sink = MemorySink() if mode == "baseline" else LiveSink(cfg, devices, flush_interval_s=0.5)
    if mode == "live":
        await sink.start()
    transport = await BumbleTransport.open(f"tcp-client:127.0.0.1:{port}")
    col = Collector(transport, devices, sink, backoff=Backoff(0.1, 2, 1.0))
    await col.start()
    while not all(s.connected for s in col.stats.values()):
        await asyncio.sleep(0.05)
    profilers = await start_profiling(sink) if profile and mode == "live" else None
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    if profilers:
        await stop_profiling(sink, profilers, profile)
    await col.stop()
    out = {
        "cpu_pct": 100.0 * cpu / wall,
        "samples": sum(s.samples for s in col.stats.values()),
        "errors": sum(s.parse_errors for s in col.stats.values()),
    }
    if mode == "live":
        await sink.close()
        stats = sink.writer.stats
        for kind, values in stats.latency_ms.items():
            v = np.array(values)
            out[kind] = (len(v), float(np.percentile(v, 50)), float(np.percentile(v, 99)))
        out["sent_points"] = stats.sent_points
        out["steps"] = sink.stride_points
    return out


async def start_profiling(sink) -> tuple:
    """pyinstrument on the loop thread and on the writer thread (a profiler is per thread)."""
    from pyinstrument import Profiler

    loop_prof, writer_prof = Profiler(async_mode="disabled"), Profiler(async_mode="disabled")
    await sink.writer.call(lambda journal: writer_prof.start())
    loop_prof.start()
    return loop_prof, writer_prof


async def stop_profiling(sink, profilers: tuple, where: str) -> None:
    loop_prof, writer_prof = profilers
    loop_prof.stop()
    await sink.writer.call(lambda journal: writer_prof.stop())
    for name, prof in (("loop", loop_prof), ("writer", writer_prof)):
        path = Path(where) / f"live-{name}.txt"
        path.write_text(prof.output_text(unicode=False, color=False, show_all=False))
        busy, found = busy_shares(prof.last_session.root_frame())
        parts = ", ".join(f"{k} {100 * v / max(busy, 1e-9):.0f} %" for k, v in found.items())
        print(f"profile of the {name} thread: {path}; busy {busy:.1f} s: {parts or '-'}")


#: (label, file suffix, functions): frames counted once, at their outermost call
SHARES = [
    ("contact detectors", "sensorhub/gait/base.py", ("detect", "detect_arrays")),
    ("streaming gait", "sensorhub/live/gait.py", ("add", "finish")),
    ("live sink", "sensorhub/live/sink.py", None),
    ("journal/outbox", "sensorhub/store/", None),
]


def _waiting(function: str, path: str) -> bool:
    """A frame where a thread waits: the event loop's select, the writer's executor queue
    (``SimpleQueue.get``, a built-in) or a threading wait."""
    if "sensorhub" in path:
        return False
    return (
        function in ("select", "poll")
        or (function == "get" and "built-in" in path)
        or (function == "wait" and ("threading" in path or "queue" in path))
    )


def busy_shares(root) -> tuple[float, dict[str, float]]:
    """Busy seconds of a profiled thread (its time minus waiting in ``select``/``poll``)
    and the seconds under each of :data:`SHARES` (outermost frames only)."""
    idle = 0.0
    found = {label: 0.0 for label, _, _ in SHARES}

    def walk(frame, inside: set[str]) -> None:
        nonlocal idle
        path = (frame.file_path or "").replace("\\", "/")
        if _waiting(frame.function, path):
            idle += frame.time
            return
        for label, suffix, funcs in SHARES:
            if (
                label not in inside
                and suffix in path
                and (funcs is None or frame.function in funcs)
            ):
                found[label] += frame.time
                inside = inside | {label}
        for child in frame.children:
            walk(child, inside)

    if root is None:
        return 0.0, {}
    walk(root, set())
    return root.time - idle, {k: v for k, v in found.items() if v > 0}


def phase(mode: str, seconds: float, cfg, profile: str = "") -> dict:
    from tests.influxd import free_port

    port = free_port()
    child = subprocess.Popen(
        [sys.executable, __file__, "--emulators", str(port), "--seconds", str(seconds + 15)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "ready"
        return asyncio.run(collect(mode, port, seconds, cfg, profile))
    finally:
        child.terminate()
        child.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--emulators", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--profile", default="", help="folder: pyinstrument the live phase into it")
    ap.add_argument("--runs", type=int, default=1, help="repeat both phases; min/median/max")
    args = ap.parse_args()
    if args.emulators:
        asyncio.run(emulators(args.emulators, args.seconds))
        return
    results = []
    for i in range(args.runs):
        if args.runs > 1:
            print(f"-- run {i + 1} of {args.runs}")
        results.append(one_run(args))
    if args.runs > 1:
        print(f"-- over {args.runs} runs: min / median / max")
        for label, values in (
            ("collector CPU baseline %", [b["cpu_pct"] for b, _ in results]),
            ("collector CPU live %    ", [live["cpu_pct"] for _, live in results]),
            (
                "ratio live/baseline     ",
                [lv["cpu_pct"] / max(b["cpu_pct"], 1e-9) for b, lv in results],
            ),
            *(
                (f"{kind} p99 ms           ", [lv[kind][2] for _, lv in results if kind in lv])
                for kind in ("run", "stride")
            ),
        ):
            if values:
                print(
                    f"{label}: {min(values):8.2f} / {float(np.median(values)):8.2f} /"
                    f" {max(values):8.2f}"
                )


def one_run(args) -> tuple[dict, dict]:
    """Both phases once, into a fresh influxd; prints that run's figures."""
    from tests.influxd import InfluxServer, influxd_binary

    with tempfile.TemporaryDirectory() as tmp:
        server = None
        if influxd_binary():
            server = InfluxServer(Path(tmp) / "influxd")
            server.start()
            os.environ["SENSORHUB_INFLUX_URL"] = server.url
            os.environ["SENSORHUB_INFLUX_DB"] = "bench"
        else:
            print("influxd not installed: measuring up to the journal outbox only")
        cfg = load_config(home=Path(tmp) / "home")
        load0 = os.getloadavg()[0]
        try:
            base = phase("baseline", args.seconds, cfg)
            live = phase("live", args.seconds, cfg, args.profile)
        finally:
            if server:
                server.stop()
    print(
        f"machine load (1-min average, {os.cpu_count()} cores): {load0:.2f} at start,"
        f" {os.getloadavg()[0]:.2f} at end"
    )
    print(
        f"{len(SENSORS)} devices, {args.seconds:.0f} s, samples baseline {base['samples']} "
        f"live {live['samples']} (malformed {live['errors']})"
    )
    for kind in ("run", "stride"):
        if kind in live:
            n, p50, p99 = live[kind]
            what = "notification" if kind == "run" else "step end"
            print(
                f"{kind:6s} {what} -> InfluxDB ack: n={n} p50 {p50:.0f} ms  p99 {p99:.0f} ms"
                f"  (goal p99 <= 1000 ms)"
            )
    if "stride_end" in live:  # not live: they wait for the collector to stop
        n, p50, p99 = live["stride_end"]
        print(f"steps completed at session end (after the devices stopped, not counted): n={n}")
    print(f"points sent {live.get('sent_points', 0)}, steps {live.get('steps', 0)}")
    print(
        f"collector CPU: baseline (memory sink) {base['cpu_pct']:.1f} %, live "
        f"{live['cpu_pct']:.1f} % of one core (goal <= 15 %); ratio live/baseline "
        f"{live['cpu_pct'] / max(base['cpu_pct'], 1e-9):.2f}x"
    )
    return base, live


if __name__ == "__main__":
    main()
