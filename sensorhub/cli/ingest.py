"""``sensorhub ingest`` and ``sensorhub watch``: files into the journal."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ..pipeline import FileResult, Pipeline
from ..sources.imu import ImuSource
from ..store import StoreError
from .app import app, athlete_option, err, fail, iso_time, out, report_delivery, state

ATHLETE_HELP = "Assign every file to this athlete."


@app.command()
def ingest(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="FIT, TCX, GPX files, zips (nested), .gz files, IMU recordings, folders."
        ),
    ],
    athlete: Annotated[str | None, typer.Option(help=ATHLETE_HELP)] = None,
    placement: Annotated[
        str | None, typer.Option(help="IMU files: where the pod sat (foot, shank, sacrum).")
    ] = None,
    side: Annotated[
        str | None, typer.Option(help="IMU files: leg of a single foot/shank pod (L or R).")
    ] = None,
    right: Annotated[
        Path | None, typer.Option(help="IMU: the right pod's recording; PATH is the left pod's.")
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            help="IMU: UTC start of a recording without one (ISO 8601, e.g. 2026-10-28T22:30:00Z)."
        ),
    ] = None,
) -> None:
    """Ingest files: journal, sessions, daily load; ship to InfluxDB when configured.

    FIT files (*.fit) always; IMU recordings (Polar Sensor Logger *ACC*.txt, or CSV with
    acc_*_g / gyr_*_dps columns) with --placement; two pods (one per leg) as
    `--placement shank LEFT --right RIGHT`.
    """
    if right and (len(paths) != 1 or placement not in ("shank", "foot")):
        fail("--right pairs one left-pod file with one right-pod file (--placement shank|foot)", 2)
    if side is not None and side not in ("L", "R"):
        fail(f"--side must be L or R, not {side!r}", 2)
    cfg = state.config()
    imu = ImuSource(placement=placement, side=side, right=right, start=iso_time(start, "--start"))
    pipe = Pipeline(cfg, state.journal(), athlete=athlete_option(athlete), sources={"imu": imu})
    files = pipe.inputs(paths)
    try:
        if len(files) > 1 and sys.stderr.isatty():
            with _progress() as bar:
                task = bar.add_task("ingest", total=len(files))
                report = pipe.ingest(files, progress=lambda r: (_report_file(r), bar.advance(task)))
        else:
            report = pipe.ingest(files, progress=_report_file)
    except StoreError as exc:
        fail(str(exc), 2)
    counts = {s: sum(f.status == s for f in report.files) for s in ("ingested", "duplicate")}
    skipped = sum(f.status == "skipped" for f in report.files)
    out.print(
        f"{counts['ingested']} ingested, {counts['duplicate']} already there, "
        f"{len(report.failed)} failed, {skipped} skipped or without activity"
    )
    report_delivery(report.flush, cfg)
    if report.failed:
        raise typer.Exit(1)


def _report_file(r: FileResult) -> None:
    """Failed, skipped and partial files: one line each on stderr, never wrapped."""
    if r.status in ("failed", "skipped") or r.partial:
        print(r.line(), file=sys.stderr, flush=True)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
    )


@app.command()
def watch(
    folder: Annotated[
        Path, typer.Argument(help="Folder to watch (a watch's USB folder, a sync folder).")
    ],
    athlete: Annotated[str | None, typer.Option(help=ATHLETE_HELP)] = None,
    settle: Annotated[
        float, typer.Option(help="Seconds a file must stop growing before ingest.")
    ] = 2.0,
    flush_every: Annotated[
        float, typer.Option(help="Seconds between retries of the outbox.")
    ] = 30.0,
) -> None:
    """Ingest files as they appear in FOLDER (and those already there)."""
    from ..collect.folder import FolderWatcher

    pipe = Pipeline(state.config(), state.journal(), athlete=athlete_option(athlete))
    watcher = FolderWatcher(folder, settle_s=settle)
    out.print(f"watching {folder} (Ctrl-C to stop)")
    last_flush = time.monotonic()
    try:
        for path in watcher.files():
            if path is not None:
                report = pipe.ingest([path])
                for r in report.files:
                    print(r.line(), file=sys.stderr if r.failed else sys.stdout, flush=True)
            if time.monotonic() - last_flush > flush_every:
                pipe.delivery.ship()
                last_flush = time.monotonic()
    except KeyboardInterrupt:
        out.print("stopped")
    except StoreError as exc:
        fail(str(exc), 2)
    finally:
        watcher.stop()
