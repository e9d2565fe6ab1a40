"""The ``sensorhub`` command."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from .config import Config, ConfigError, load_config
from .load import LOAD_COLUMNS
from .pipeline import FileResult, Pipeline, find_inputs
from .store import Journal

app = typer.Typer(help="Running data from wearables into load monitoring.", no_args_is_help=True)
# Wide enough for the load table when piped (rich would fall back to 80 columns).
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)

ACWR_COLUMNS = {"acwr_rac", "acwr_rau", "acwr_ewma"}


class State:
    config_path: Path | None = None
    home: Path | None = None

    def config(self) -> Config:
        try:
            return load_config(self.config_path, self.home)
        except ConfigError as exc:
            err.print(f"config: {exc}")
            raise typer.Exit(2) from None


state = State()


@app.callback()
def main(
    config: Annotated[
        Path | None, typer.Option(help="Config file (TOML).", envvar="SENSORHUB_CONFIG")
    ] = None,
    home: Annotated[
        Path | None, typer.Option(help="State dir (journal, outbox).", envvar="SENSORHUB_HOME")
    ] = None,
) -> None:
    state.config_path, state.home = config, home


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="FIT files, IMU recordings, or folders.")],
    athlete: Annotated[str | None, typer.Option(help="Assign every file to this athlete.")] = None,
    placement: Annotated[
        str | None, typer.Option(help="IMU files: where the pod sat (foot, shank, sacrum).")
    ] = None,
    side: Annotated[
        str | None, typer.Option(help="IMU files: leg of a single foot/shank pod (L or R).")
    ] = None,
    right: Annotated[
        Path | None, typer.Option(help="IMU: the right pod's recording; PATH is the left pod's.")
    ] = None,
) -> None:
    """Ingest files: journal, sessions, daily load; ship to InfluxDB when configured.

    FIT files (*.fit) always; IMU recordings (Polar Sensor Logger *ACC*.txt, or CSV with a
    `time` column and acc_*_g / gyr_*_dps columns) with --placement; two pods (one per leg)
    as `--placement shank LEFT --right RIGHT`.
    """
    cfg = state.config()
    if right and (len(paths) != 1 or placement not in ("shank", "foot")):
        err.print(
            "--right pairs one left-pod file with one right-pod file (--placement shank|foot)"
        )
        raise typer.Exit(2)
    pipe = Pipeline(cfg, athlete=athlete, placement=placement, side=side, right=right)
    files = find_inputs(paths, imu=placement is not None)
    if len(files) > 1 and sys.stderr.isatty():
        with _progress() as bar:
            task = bar.add_task("ingest", total=len(files))
            report = pipe.ingest(files, progress=lambda r: (_report_file(r), bar.advance(task)))
    else:
        report = pipe.ingest(files, progress=_report_file)
    ok = sum(f.status == "ingested" for f in report.files)
    dup = sum(f.status == "duplicate" for f in report.files)
    out.print(
        f"{ok} ingested, {dup} already there, {len(report.failed)} failed, "
        f"{len(report.files) - ok - dup - len(report.failed)} without activity"
    )
    _report_flush(report.flush, cfg)
    if report.failed:
        raise typer.Exit(1)


def _report_file(r: FileResult) -> None:
    """Failed and partial files: one line each on stderr, never wrapped."""
    if r.failed or r.partial:
        print(r.line(), file=sys.stderr, flush=True)


def _report_flush(flush, cfg: Config) -> None:
    if flush is None:
        out.print("InfluxDB not configured: data kept in the local journal (sensorhub status).")
    elif flush.ok:
        out.print(f"InfluxDB: {flush.sent_points} points sent.")
    else:
        err.print(
            f"InfluxDB: {flush.sent_points} points sent, {flush.left_batches} batches waiting "
            f"in the outbox ({flush.errors[-1] if flush.errors else 'unknown error'})."
        )


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
    athlete: Annotated[str | None, typer.Option(help="Assign every file to this athlete.")] = None,
    settle: Annotated[
        float, typer.Option(help="Seconds a file must stop growing before ingest.")
    ] = 2.0,
    flush_every: Annotated[
        float, typer.Option(help="Seconds between retries of the outbox.")
    ] = 30.0,
) -> None:
    """Ingest FIT files as they appear in FOLDER (and those already there)."""
    from .collect.folder import FolderWatcher

    cfg = state.config()
    pipe = Pipeline(cfg, athlete=athlete)
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
                pipe.flush()
                last_flush = time.monotonic()
    except KeyboardInterrupt:
        out.print("stopped")
    finally:
        watcher.stop()


@app.command()
def sessions(
    athlete: Annotated[str | None, typer.Option(help="Only this athlete.")] = None,
    csv: Annotated[bool, typer.Option("--csv", help="CSV instead of a table.")] = False,
    last: Annotated[int, typer.Option(help="Show the last N sessions (0: all).")] = 20,
) -> None:
    """List sessions with their load, RPE and pain."""
    df = Journal(state.config().journal_path).sessions(athlete)
    if df.empty:
        out.print("no sessions yet: sensorhub ingest PATH")
        return
    df["start"] = pd.to_datetime(df["start"]).dt.strftime("%Y-%m-%d %H:%M")
    df["km"] = df["distance_m"] / 1000
    df["min"] = df["duration_s"] / 60
    cols = [
        "id",
        "athlete",
        "start",
        "sport",
        "min",
        "km",
        "load",
        "load_method",
        "trimp",
        "rpe",
        "pain",
        "partial",
    ]
    df = df[cols].tail(last) if last else df[cols]
    _print_frame(df, csv, title="sessions")


@app.command("load")
def load_cmd(
    athlete: Annotated[str | None, typer.Option(help="Only this athlete.")] = None,
    csv: Annotated[bool, typer.Option("--csv", help="CSV instead of a table.")] = False,
    days: Annotated[int, typer.Option(help="Show the last N days (0: all).")] = 28,
) -> None:
    """Daily load, acute:chronic ratios (rac, rau, ewma), monotony, strain, CTL/ATL/TSB."""
    journal = Journal(state.config().journal_path)
    athletes = [athlete] if athlete else journal.athletes()
    if not athletes:
        out.print("no sessions yet: sensorhub ingest PATH")
    for a in athletes:
        df = journal.daily_load(a)
        if df.empty:
            continue
        df = df[list(LOAD_COLUMNS)].tail(days) if days else df[list(LOAD_COLUMNS)]
        df.insert(0, "day", df.index.strftime("%Y-%m-%d"))
        if csv:
            df.insert(0, "athlete", a)
        _print_frame(df, csv, title=f"load: {a} (AU; ACWR needs 28 days of history)")


@app.command()
def log(
    session: Annotated[
        str, typer.Argument(help="Session id (or a unique prefix), see `sensorhub sessions`.")
    ],
    rpe: Annotated[
        float | None, typer.Option(min=0, max=10, help="Session RPE, CR-10 scale.")
    ] = None,
    pain: Annotated[float | None, typer.Option(min=0, max=10, help="Pain 0–10.")] = None,
) -> None:
    """Log RPE and/or pain for a session; its load and the days after are recomputed."""
    if rpe is None and pain is None:
        err.print("give --rpe and/or --pain")
        raise typer.Exit(2)
    cfg = state.config()
    pipe = Pipeline(cfg)
    try:
        sid = pipe.log_session(session, rpe=rpe, pain=pain)
    except (KeyError, ValueError) as exc:
        err.print(f"log: {exc.args[0]}")
        raise typer.Exit(2) from None
    row = pipe.journal.session(sid)
    out.print(
        f"{sid}: rpe={row['rpe']} pain={row['pain']} load={row['load']:.1f} ({row['load_method']})"
    )
    _report_flush(pipe.flush(), cfg)


@app.command()
def flush() -> None:
    """Ship the outbox to InfluxDB now."""
    cfg = state.config()
    if not cfg.influx.enabled:
        err.print("InfluxDB not configured (SENSORHUB_INFLUX_URL or [influx] url)")
        raise typer.Exit(2)
    report = Pipeline(cfg).flush()
    _report_flush(report, cfg)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def status() -> None:
    """State dir, InfluxDB target, journal counts and the outbox backlog."""
    cfg = state.config()
    journal = Journal(cfg.journal_path)
    ob = journal.outbox.stats()
    n_src = journal.db.execute("SELECT COUNT(*), COALESCE(SUM(partial),0) FROM sources").fetchone()
    n_ses = journal.db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
    out.print(f"state dir     {cfg.home}")
    out.print(f"config        {cfg.source_path or '(none: defaults)'}")
    out.print(
        f"InfluxDB      {cfg.influx.url + ' db=' + cfg.influx.database if cfg.influx.enabled else '(not configured)'}"
    )
    out.print(f"sources       {n_src[0]} ({n_src[1]} partial)")
    out.print(f"sessions      {n_ses} for {len(journal.athletes())} athlete(s)")
    out.print(
        f"outbox        {ob['batches']} batches, {ob['points']} points waiting"
        + (f", oldest {ob['oldest']}" if ob["oldest"] else "")
    )
    if ob["last_error"]:
        out.print(f"last error    {ob['last_error']}", markup=False)


def _print_frame(df: pd.DataFrame, csv: bool, title: str) -> None:
    """A rich table, or CSV on stdout. Missing ACWR reads "warming up", other gaps "-"."""
    if csv:
        sys.stdout.write(df.to_csv(index=False, float_format="%.4g"))
        return
    table = Table(title=title)
    for c in df.columns:
        table.add_column(c, justify="right" if pd.api.types.is_numeric_dtype(df[c]) else "left")
    missing = ["warming up" if c in ACWR_COLUMNS else "-" for c in df.columns]
    for row in df.itertuples(index=False):
        table.add_row(*(_cell(v, m) for v, m in zip(row, missing, strict=True)))
    out.print(table)


def _cell(v, missing: str) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return missing
    if isinstance(v, float):
        return f"{v:.2f}" if abs(v) < 10 else f"{v:.0f}"
    return str(v)


from .cli_live import register as _register_live  # noqa: E402 - needs `app` defined

_register_live(app)


@app.command()
def alerts(
    athlete: Annotated[str | None, typer.Option(help="Only this athlete.")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only alerts not yet cleared.")] = False,
    evaluate: Annotated[
        bool, typer.Option("--evaluate", help="Re-run the rules over the journal first.")
    ] = False,
    send: Annotated[
        bool, typer.Option("--send", help="Send queued webhooks now (ignoring backoff).")
    ] = False,
    csv: Annotated[bool, typer.Option("--csv", help="CSV instead of a table.")] = False,
) -> None:
    """List alerts (load spike, monotony, GCT asymmetry, pain) and the webhook queue."""
    from .alerts import AlertEngine, WebhookSender

    cfg = state.config()
    journal = Journal(cfg.journal_path)
    engine = AlertEngine(cfg, journal)
    if evaluate:
        for a in [athlete] if athlete else journal.athletes():
            engine.evaluate_athlete(a)
        Pipeline(cfg, journal=journal).flush()
    if send:
        sender = WebhookSender(engine.ac, engine.store)
        try:
            rep = sender.flush(force=True)
        finally:
            sender.close()
        out.print(
            f"webhook: {rep.sent} sent, {rep.left} waiting"
            + (f" ({rep.errors[-1]})" if rep.errors else "")
        )
    df = engine.store.frame(athlete, open_only=open_only)
    if df.empty:
        out.print("no alerts")
    else:
        df["state"] = [c[:10] if isinstance(c, str) else "open" for c in df["cleared_at"]]
        df["opened"] = df["opened_at"].str[:16].str.replace("T", " ")
        cols = [
            "id",
            "athlete",
            "opened",
            "rule",
            "severity",
            "value",
            "threshold",
            "state",
            "message",
        ]
        _print_frame(df[cols], csv, title="alerts")
    q = engine.store.webhook_stats()
    if q["waiting"] and not csv:
        out.print(
            f"webhook queue: {q['waiting']} waiting"
            + (f", last error: {q['last_error']}" if q["last_error"] else ""),
            markup=False,
        )


@app.command()
def report(
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML file to write.")] = Path(
        "sensorhub-report.html"
    ),
    session: Annotated[
        str | None, typer.Option(help="One session (id or unique prefix): run plots.")
    ] = None,
    athlete: Annotated[str | None, typer.Option(help="Athlete for a date-range report.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day (YYYY-MM-DD).")] = None,
) -> None:
    """A self-contained HTML report (inline SVG, no JavaScript): one session or a date range."""
    from .report import range_report, session_report

    cfg = state.config()
    journal = Journal(cfg.journal_path)
    try:
        if session:
            html = session_report(cfg, journal, session)
        else:
            athletes = [athlete] if athlete else journal.athletes()
            if len(athletes) != 1:
                err.print("give --session ID, or --athlete NAME (several athletes in the journal)")
                raise typer.Exit(2)
            html = range_report(cfg, journal, athletes[0], start, end)
    except (KeyError, ValueError) as exc:
        err.print(f"report: {exc.args[0] if exc.args else exc}")
        raise typer.Exit(2) from None
    output.write_text(html, encoding="utf-8")
    out.print(f"wrote {output} ({len(html) // 1024} KiB)")


if __name__ == "__main__":
    app()
