"""Live commands: ``scan``, ``collect``, ``emulate``.

See docs/live.md: how to run emulators, the collector and InfluxDB on one machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.live import Live

from drivers.ble import SERVICES

from .app import app, err, out, state
from .livepanel import LivePanel, replay_clock

TRANSPORT_HELP = "bleak (the OS Bluetooth stack) or bumble (own host stack: --device)."
DEVICE_HELP = (
    "bumble HCI transport: usb:0, serial:/dev/ttyACM0, hci-socket:0, tcp-client:HOST:PORT."
)
_SERVICES = {s.uuid.upper(): f"{s.description} ({s.kind})" for s in SERVICES.values()}


async def _transport(kind: str, device: str | None):
    if kind == "bumble":
        from ..collect.bumble_transport import BumbleTransport

        if not device:
            raise typer.BadParameter("--transport bumble needs --device (e.g. usb:0)")
        return await BumbleTransport.open(device)
    if kind == "bleak":
        from ..collect.bleak_transport import BleakTransport

        return BleakTransport()
    raise typer.BadParameter(f"unknown transport {kind!r}: use bleak or bumble")


def _describe_services(uuids: list[str]) -> str:
    names = [_SERVICES.get(u.upper(), u) for u in uuids]
    return ", ".join(names) or "-"


@app.command()
def scan(
    seconds: Annotated[float, typer.Option(help="How long to listen.")] = 5.0,
    transport: Annotated[str, typer.Option(help=TRANSPORT_HELP)] = "bleak",
    device: Annotated[str | None, typer.Option(help=DEVICE_HELP)] = None,
) -> None:
    """List nearby Bluetooth LE sensors and the services they advertise."""

    async def main():
        t = await _transport(transport, device)
        await t.start()
        try:
            await asyncio.sleep(seconds)
            return t.advertisers()
        finally:
            await t.stop()

    found = asyncio.run(main())
    for address, name, uuids in sorted(found, key=lambda r: (r[1] is None, r[1] or "", r[0])):
        print(f"{address}  {name or '(no name)'}  {_describe_services(uuids)}")
    print(
        f"{len(found)} device(s). Polar pods advertise the PMD service in their scan "
        "response only: match them by name or address in [[ble_devices]].",
        file=sys.stderr,
    )


@app.command()
def collect(
    duration: Annotated[
        float | None, typer.Option(help="Seconds to collect (default: until Ctrl-C).")
    ] = None,
    transport: Annotated[str, typer.Option(help=TRANSPORT_HELP)] = "bleak",
    device: Annotated[str | None, typer.Option(help=DEVICE_HELP)] = None,
    flush_every: Annotated[
        float, typer.Option(help="Seconds between outbox writes / InfluxDB flushes.")
    ] = 0.5,
    speedup: Annotated[
        float,
        typer.Option(help="Collecting from `sensorhub emulate --speedup N`: give the same N."),
    ] = 1.0,
    panel: Annotated[bool, typer.Option(help="Show the live panel (on a terminal).")] = True,
) -> None:
    """Collect from the [[ble_devices]] of the config until Ctrl-C or --duration."""
    from ..collect import Collector, parse_devices

    cfg = state.config()
    rows = [{**asdict(d), "athlete": d.athlete or cfg.default_athlete} for d in cfg.ble_devices]
    if not rows:
        err.print("no [[ble_devices]] in the config (see docs/live.md)")
        raise typer.Exit(2)
    devices = parse_devices(rows)

    async def main():
        from ..live import LiveSink

        sink = LiveSink(cfg, devices, flush_interval_s=flush_every)
        clock = replay_clock(speedup)
        col = Collector(await _transport(transport, device), devices, sink, clock=clock)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await sink.start()
        await col.start()
        out.print(f"collecting from {len(devices)} device(s) (Ctrl-C to stop)")
        if panel and sys.stdout.isatty():
            view = LivePanel(col, sink)
            with Live(view.render(), console=out, refresh_per_second=1) as live:
                end = None if duration is None else loop.time() + duration
                while not stop.is_set() and (end is None or loop.time() < end):
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), 1.0)
                    live.update(view.render())
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), duration)
        await col.stop()
        return col, sink, await sink.close()

    col, sink, reports = asyncio.run(main())
    for match, st in col.stats.items():
        out.print(
            f"{match}: {st.samples} samples, {st.parse_errors} malformed, "
            f"{st.connects} connects" + (f", last error: {st.last_error}" if st.last_error else ""),
            markup=False,
        )
    for r in reports:
        s = r.session
        out.print(
            f"session {s.get('id')} for {r.athlete}: {s.get('duration_s', 0):.0f} s, "
            f"{r.run_points} run points, {r.steps} steps, load {s.get('load', 0):.1f} "
            f"({s.get('load_method')})"
        )
    ws = sink.writer.stats
    if not cfg.influx.enabled:
        out.print("InfluxDB not configured: data kept in the local journal (sensorhub status).")
    elif ws.backlog_points:
        err.print(f"InfluxDB: {ws.backlog_points} points waiting in the outbox ({ws.last_error})")
    else:
        out.print(f"InfluxDB: {ws.sent_points} points sent.")


@app.command()
def emulate(
    fit: Annotated[
        Path | None, typer.Option(help="FIT file: foot pod (speed, cadence) and HR strap.")
    ] = None,
    imu: Annotated[
        list[Path] | None,
        typer.Option(
            help="IMU CSV (t_s + acc_x/y/z_g or acc_v/ap/ml_g): "
            "one Polar PMD pod each (repeat the option)."
        ),
    ] = None,
    hci: Annotated[
        str, typer.Option(help="Where the collector's host connects (bumble transport name).")
    ] = "tcp-server:_:9000",
    speedup: Annotated[float, typer.Option(help="Replay faster than real time.")] = 1.0,
    repeat: Annotated[int, typer.Option(help="Replay this many times.")] = 1,
) -> None:
    """Emulate sensors replaying a FIT file and/or IMU CSVs (bumble virtual controllers).

    The collector joins with ``sensorhub collect --transport bumble --device
    tcp-client:127.0.0.1:9000`` (see docs/live.md).
    """
    from ..live.emulate import Rig, fit_samples, imu_samples

    if fit is None and not imu:
        raise typer.BadParameter("give --fit and/or --imu")

    async def main():
        rig = Rig(speedup=speedup)
        rows = []
        if fit is not None:
            samples = fit_samples(fit)
            rig.footpod("sensorhub FootPod", "E0:5E:00:00:00:01", samples)
            rig.strap("sensorhub HRM", "E0:5E:00:00:00:02", samples)
            rows += [("sensorhub FootPod", "rsc", "foot"), ("sensorhub HRM", "hr", "chest")]
        for i, path in enumerate(imu or ()):
            name = f"sensorhub Pod {i + 1}"
            rig.pod(name, f"E0:5E:00:00:01:{i + 1:02X}", imu_samples(path))
            rows.append((name, "pmd", "sacrum"))
        await rig.expose(hci)
        await rig.start()
        print(f"emulating on {hci}; config for the collector:")
        for name, kind, placement in rows:
            print(f'[[ble_devices]]\nname = "{name}"\nkind = "{kind}"\nplacement = "{placement}"\n')
        print("waiting for the collector to connect...", flush=True)
        await rig.wait_connected()
        extra = f" (collect with --speedup {speedup:g})" if speedup != 1 else ""
        print(f"collector connected: replaying{extra}", flush=True)
        for _ in range(repeat):
            await rig.run()
        await asyncio.sleep(1.0)
        await rig.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
