"""Readiness tests: ``sensorhub test hop|heel-raise|balance`` (analyse and store one test of
both legs, from two recordings or ``--live`` from the athlete's IMU pod with spoken-style
prompts) and ``sensorhub tests`` (the stored results over time). See docs/readiness.md.

``--live`` records each leg through the collector (:mod:`sensorhub.live.guided_run`), writes
the two recordings as project CSVs (``--save``, default ``<home>/readiness``) and then runs the
file path on them: the same analysis, the same stored row and points, the same output.

An LSI ≥ 90 % is a conventional criterion that supports a clinician's decision; the commands
say whether a result reaches it and nothing more (no diagnosis, no injury risk).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from ..delivery import Delivery
from ..readiness import KINDS, LSI_FIELDS, PLACEMENTS, ReadinessResult
from ..recorder import Recorder
from ..sources import SourceError
from ..sources.readiness import readiness_source
from ..store import StoreError
from .app import app, athlete_option, err, fail, iso_time, out, print_frame, state

LSI_MARK_PCT = 90.0  # the conventional pass mark (docs/readiness.md, "Sources")
#: What ``sensorhub test`` prints per leg, by test (all numbers are in the JSON).
LEG_FIGURES = {
    "hop": ("hops", "flight_ms", "contact_ms", "height_cm", "rsi"),
    "heel-raise": ("reps", "reps_total", "amplitude_deg", "rhythm_rpm", "fatigue_rep"),
    "balance": ("rms_mg", "jerk", "path", "area", "losses", "duration_s"),
}
KIND_HELP = "The test: hop (repeated single-leg hops), heel-raise (to fatigue) or balance."
LIVE = "--live: "
#: Rest between the legs (s): a shank pod has to move to the other leg, a sacral one does not.
REST_S = {"shank": 15.0, "sacrum": 5.0}
STYLES = {"countdown": "bold", "go": "bold green", "stop": "bold red", "done": "bold"}


@app.command("test")
def test_cmd(
    kind: Annotated[str, typer.Argument(help=KIND_HELP, metavar="hop|heel-raise|balance")],
    left: Annotated[Path | None, typer.Option(help="The left leg's recording.")] = None,
    right: Annotated[Path | None, typer.Option(help="The right leg's recording.")] = None,
    placement: Annotated[
        str | None,
        typer.Option(help="Where the pod sat: shank or sacrum (hop: both; heel-raise: shank)."),
    ] = None,
    athlete: Annotated[str | None, typer.Option(help="Whose test this is.")] = None,
    involved: Annotated[
        str | None,
        typer.Option(
            help="The injured leg, L or R: LSI = involved/uninvolved (else smaller/larger)."
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            help="UTC start of recordings without one (ISO 8601, e.g. 2026-10-28T22:30:00Z)."
        ),
    ] = None,
    pain: Annotated[float | None, typer.Option(help="Pain during the test, 0-10.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON (status lines on stderr).")
    ] = False,
    live: Annotated[
        bool,
        typer.Option(
            "--live", help="Record both legs now from the athlete's IMU pod, with prompts."
        ),
    ] = False,
    device: Annotated[
        str | None,
        typer.Option(
            help=LIVE + "the pod's name or address (default: the athlete's one pmd pod "
            "in [[ble_devices]])."
        ),
    ] = None,
    seconds: Annotated[
        float | None,
        typer.Option(help=LIVE + "seconds per leg (default hop 10, heel-raise 30, balance 30)."),
    ] = None,
    rest: Annotated[
        float | None,
        typer.Option(help=LIVE + "seconds between the legs (default 15 on the shank, 5 sacrum)."),
    ] = None,
    transport: Annotated[
        str, typer.Option(help=LIVE + "bleak (the OS Bluetooth stack) or bumble (with --hci).")
    ] = "bleak",
    hci: Annotated[
        str | None,
        typer.Option(help=LIVE + "bumble HCI transport: usb:0, serial:..., tcp-client:HOST:PORT."),
    ] = None,
    speedup: Annotated[
        float,
        typer.Option(help=LIVE + "from `sensorhub emulate --speedup N`: give the same N."),
    ] = 1.0,
    wait: Annotated[float, typer.Option(help=LIVE + "seconds to find and connect the pod.")] = 20.0,
    save: Annotated[
        Path | None,
        typer.Option(help=LIVE + "folder for the two recordings (default: <home>/readiness)."),
    ] = None,
) -> None:
    """Analyse one readiness test (one recording per leg, or --live from the pod), store it
    and show per-leg figures and limb symmetry indices (LSI).

    Stored in the journal (table readiness) and shipped to InfluxDB (measurement readiness)
    when configured. The same two recordings stored again are a duplicate. --live guides each
    leg (LEFT, then RIGHT: countdown, cue, running count, stop), keeps the two recordings as
    CSV files and analyses them as files.
    """
    kind, placement, involved, athlete = _check_options(kind, placement, involved, athlete)
    cfg = state.config()
    if live:
        if left or right or start:
            fail(f"{kind} test: --live records both legs; leave out --left/--right/--start", 2)
        opts = LiveOptions(device, seconds, rest, transport, hci, speedup, wait, save)
        left, right = _record_live(cfg, kind, placement, athlete, opts, as_json)
    t0 = iso_time(start, "--start")
    written = [left, right] if live else []
    try:
        src = readiness_source(
            kind, left, right, placement, athlete, involved, t0, pain, tz=cfg.athlete(athlete).tz
        )
    except SourceError as exc:
        _discard(written)
        fail(_prefixed(kind, str(exc)), 2)
    for w in src.warnings:
        err.print(_prefixed(kind, w))
    extra = src.extras[0]
    _show(extra.result, extra.start, athlete, as_json)
    journal = state.journal()
    try:
        rec = Recorder(cfg, journal).record(src)
    except StoreError as exc:
        _discard(written)
        fail(str(exc), 2)
    say = err.print if as_json else out.print
    if rec.status == "duplicate":
        say(f"already stored: this {kind} test of these two recordings (sensorhub tests)")
        return
    say(f"stored: {kind} test of {rec.athlete} ({rec.points} points)")
    _report_shipping(Delivery(cfg, journal).ship().influx, say)


@dataclass
class LiveOptions:
    """The ``--live`` options of ``sensorhub test`` (see its help)."""

    device: str | None = None
    seconds: float | None = None
    rest: float | None = None
    transport: str = "bleak"
    hci: str | None = None
    speedup: float = 1.0
    wait: float = 20.0
    save: Path | None = None


def _record_live(
    cfg: Any, kind: str, placement: str, athlete: str, opts: LiveOptions, as_json: bool
) -> tuple[Path, Path]:
    """Guide and record both legs from the pod; the two recordings written as CSV files.
    One line and exit 2 when the pod cannot be used (nothing written)."""
    from ..live.guided_run import LiveTestError, run_guided
    from .livepanel import replay_clock

    where = "sacrum" if placement == "l5" else placement
    if where not in PLACEMENTS[kind]:  # before recording, not after both legs
        need = " or ".join(PLACEMENTS[kind])
        fail(f"{kind} test needs a pod on the {need}, not {placement!r}", 2)
    pod = _pod(cfg, kind, athlete, opts.device, placement)
    for name, v in (
        ("--seconds", opts.seconds),
        ("--speedup", opts.speedup),
        ("--wait", opts.wait),
    ):
        if v is not None and not (math.isfinite(v) and v > 0):
            fail(f"{kind} test: {name} must be a positive number, not {v}", 2)
    if opts.rest is not None and not (math.isfinite(opts.rest) and opts.rest >= 0):
        fail(f"{kind} test: --rest must be 0 or more seconds, not {opts.rest}", 2)
    console = err if as_json else out
    console.print(f"{kind} test of {athlete}: connecting to pod {pod.match!r}...")

    async def main():
        transport = await _open_transport(kind, opts.transport, opts.hci)
        return await run_guided(
            kind,
            placement,
            pod,
            transport,
            lambda p: _prompt(console, p),
            seconds=opts.seconds,
            rest_s=REST_S.get(placement, 10.0) if opts.rest is None else opts.rest,
            clock_ns=replay_clock(opts.speedup),
            speedup=opts.speedup,
            connect_timeout_s=opts.wait,
        )

    # the collector logs each failed attempt; here the reason ends in the one line we print
    quiet = logging.getLogger("sensorhub.collect")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        rec = asyncio.run(main())
    except (LiveTestError, _TransportError) as exc:
        fail(str(exc), 2)
    except KeyboardInterrupt:
        fail(f"{kind} test: interrupted; nothing stored", 130)
    finally:
        quiet.setLevel(level)
    return _write_recordings(rec, opts.save or cfg.home / "readiness", kind, athlete)


class _TransportError(Exception):
    pass


async def _open_transport(kind: str, name: str, hci: str | None) -> Any:
    if name == "bleak":
        from ..collect.bleak_transport import BleakTransport

        return BleakTransport()
    if name != "bumble":
        raise _TransportError(f"{kind} test: unknown --transport {name!r}; use bleak or bumble")
    if not hci:
        raise _TransportError(f"{kind} test: --transport bumble needs --hci (e.g. usb:0)")
    from ..collect.bumble_transport import BumbleTransport

    try:
        return await BumbleTransport.open(hci)
    except Exception as exc:  # bumble raises many kinds for a transport it cannot open
        raise _TransportError(f"{kind} test: cannot open --hci {hci} ({exc})") from None


def _pod(cfg: Any, kind: str, athlete: str, device: str | None, placement: str) -> Any:
    """The pod to record from: ``--device`` (a configured one keeps its row), else the
    athlete's only ``kind = "pmd"`` device in [[ble_devices]]."""
    from ..collect import DeviceSpec

    pods = [d for d in cfg.ble_devices if d.kind == "pmd"]
    if device:
        for d in pods:
            if device == d.name or device.upper() == d.address.upper():
                return DeviceSpec(device, athlete, "pmd", d.placement or placement)
        return DeviceSpec(device, athlete, "pmd", placement)
    mine = [d for d in pods if (d.athlete or cfg.default_athlete) == athlete]
    if not mine:
        fail(
            f'{kind} test: no IMU pod of {athlete} in [[ble_devices]] (kind = "pmd"); '
            "give --device NAME",
            2,
        )
    if len(mine) > 1:
        names = ", ".join(d.name or d.address for d in mine)
        fail(f"{kind} test: {len(mine)} IMU pods of {athlete} ({names}); give --device NAME", 2)
    d = mine[0]
    return DeviceSpec(d.address or d.name, athlete, "pmd", d.placement or placement)


def _prompt(console: Any, p: Any) -> None:
    """One prompt, one line: bold on a terminal, plain text in a pipe or a log."""
    text = f"  {p.text}" if p.phase == "count" else p.text
    console.print(text, style=STYLES.get(p.phase), markup=False, highlight=False)


def _write_recordings(rec: Any, folder: Path, kind: str, athlete: str) -> tuple[Path, Path]:
    """Each leg as a project CSV (``t_s``, ``acc_*_g`` [+ ``gyr_*_dps``], ``start_utc``) in
    ``folder``: what the file path reads. Exit 2 when the folder cannot be written."""
    stamp = rec.starts.get("L", pd.Timestamp.now(tz="UTC")).strftime("%Y%m%dT%H%M%SZ")
    paths = {leg: folder / f"{athlete}-{kind}-{stamp}-{leg}.csv" for leg in "LR"}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for leg, path in paths.items():
            start = rec.starts.get(leg, pd.Timestamp.now(tz="UTC"))
            frame = rec.frames[leg].assign(start_utc=start.isoformat())
            frame.to_csv(path, index=False, float_format="%.9g")
    except OSError as exc:
        _discard(list(paths.values()))
        fail(f"{kind} test: cannot write the recordings in {folder} ({exc.strerror or exc})", 2)
    return paths["L"], paths["R"]


def _discard(paths: list[Path | None]) -> None:
    """Remove recordings this command wrote when the test is not stored (nothing half-kept)."""
    for p in paths:
        if p is not None:
            Path(p).unlink(missing_ok=True)


def _prefixed(kind: str, message: str) -> str:
    """``message`` starting with "<kind> test" (once)."""
    head = f"{kind} test"
    return message if message.startswith(head) else f"{head}: {message}"


def _check_options(
    kind: str, placement: str | None, involved: str | None, athlete: str | None
) -> tuple[str, str, str | None, str]:
    """The options, checked: one line and exit 2 for each problem."""
    if kind not in KINDS:
        fail(f"test: unknown test {kind!r}; use one of {', '.join(KINDS)}", 2)
    if placement is None:
        fail(f"{kind} test: give --placement ({' or '.join(PLACEMENTS[kind])})", 2)
    if involved is not None and involved.upper() not in ("L", "R"):
        fail(f"{kind} test: --involved must be L or R, not {involved!r}", 2)
    if athlete is None:
        fail(f"{kind} test: give --athlete (whose test this is)", 2)
    return kind, placement.lower(), involved.upper() if involved else None, athlete_option(athlete)


def _show(res: ReadinessResult, start: pd.Timestamp, athlete: str, as_json: bool) -> None:
    """The result: ``to_json()`` on stdout, or a per-leg table and one line per LSI."""
    if as_json:
        sys.stdout.write(json.dumps(_finite(res.to_json()), ensure_ascii=False) + "\n")
        return
    legs = pd.DataFrame(
        [{"leg": leg, **{f: res.legs[leg].get(f) for f in LEG_FIGURES[res.kind]}} for leg in "LR"]
    )
    when = start.tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC")
    print_frame(legs, False, f"{res.kind} test: {athlete}, {res.placement}, {when}")
    basis = f"involved leg {res.involved}" if res.involved else "smaller/larger leg"
    for _, name, _ in LSI_FIELDS[res.kind]:
        out.print(f"{name}: {_lsi_text(res.lsi.get(name))} ({basis})")
    for w in res.warnings:
        err.print(_prefixed(res.kind, w))


def _lsi_text(v: float | None) -> str:
    if v is None or not math.isfinite(v):
        return "not measured"
    mark = "reaches" if v >= LSI_MARK_PCT else "is below"
    return f"{v:.1f} % — {mark} the conventional {LSI_MARK_PCT:.0f} % mark"


def _finite(v: Any) -> Any:
    """JSON has no NaN: non-finite numbers become null."""
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_finite(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _report_shipping(flush: Any, say: Any) -> None:
    if flush is None:
        say("InfluxDB not configured: kept in the local journal (sensorhub status).")
    elif flush.ok:
        say(f"InfluxDB: {flush.sent_points} points sent.")
    else:
        reason = flush.errors[-1] if flush.errors else "see sensorhub status"
        err.print(f"InfluxDB: {flush.left_batches} batches waiting in the outbox ({reason}).")


@app.command("tests")
def tests_cmd(
    athlete: Annotated[str | None, typer.Option(help="Only this athlete.")] = None,
    csv: Annotated[bool, typer.Option("--csv", help="CSV instead of a table.")] = False,
) -> None:
    """List stored readiness tests over time: one row per LSI, and whether it reaches the
    conventional 90 % mark (a support for a clinician's decision, not a diagnosis)."""
    df = results_table(state.journal().readiness.list(athlete_option(athlete)))
    if df.empty:
        out.print("no readiness tests yet: sensorhub test hop|heel-raise|balance ...")
        return
    print_frame(df, csv, "readiness tests (LSI ≥ 90 % is a conventional mark)")


def results_table(tests: pd.DataFrame) -> pd.DataFrame:
    """Stored tests (``ReadinessStore.list``) as one row per test and LSI field."""
    rows = []
    for t in tests.to_dict("records"):
        for _, name, _ in LSI_FIELDS.get(t["kind"], ()):
            v = t.get(name)
            ok = None if v is None or not math.isfinite(v) else bool(v >= LSI_MARK_PCT)
            rows.append(
                {
                    "day": t["day"],
                    "athlete": t["athlete"],
                    "kind": t["kind"],
                    "placement": t["placement"],
                    "involved": t["involved"] or "-",
                    "lsi": name,
                    "lsi_pct": v,
                    "reaches_90": ok,
                    "pain": t["pain"],
                }
            )
    return pd.DataFrame(rows)
