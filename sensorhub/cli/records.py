"""Commands over the journal: ``sessions``, ``load``, ``log``, ``alerts``, ``rebuild``,
``flush`` and ``status``."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
import typer

from ..delivery import Delivery
from ..load import LOAD_COLUMNS
from ..recompute import Recompute
from ..recorder import Recorder
from ..store import StoreError
from ..store.journal import AmbiguousSession
from .app import (
    ACWR_COLUMNS,
    app,
    athlete_option,
    fail,
    influx_target,
    out,
    print_frame,
    report_delivery,
    state,
)

ATHLETE_HELP = "Only this athlete."
CSV_HELP = "CSV instead of a table."


# `sensorhub sessions` lists; its subcommands (reassign, delete, …) fix mistakes.
sessions_app = typer.Typer(
    help="List sessions (and fix mistakes: see the subcommands).",
    invoke_without_command=True,
    rich_markup_mode=None,
)
app.add_typer(sessions_app, name="sessions")


@sessions_app.callback()
def sessions(
    ctx: typer.Context,
    athlete: Annotated[str | None, typer.Option(help=ATHLETE_HELP)] = None,
    csv: Annotated[bool, typer.Option("--csv", help=CSV_HELP)] = False,
    last: Annotated[int, typer.Option(help="Show the last N sessions (0: all).")] = 20,
) -> None:
    """List sessions with their load, RPE and pain."""
    if ctx.invoked_subcommand is not None:
        return
    df = state.journal().sessions(athlete_option(athlete))
    if df.empty:
        out.print("no sessions yet: sensorhub ingest PATH")
        return
    df["start"] = pd.to_datetime(df["start"], format="ISO8601").dt.strftime("%Y-%m-%d %H:%M")
    df["km"] = df["distance_m"] / 1000
    df["min"] = df["duration_s"] / 60
    df["partial"] = df["partial"].astype(bool)
    cols = ["id", "athlete", "start", "sport", "min", "km", "load", "load_method", "trimp"]
    df = df[cols + ["rpe", "pain", "partial"]]
    print_frame(df.tail(last) if last else df, csv, title="sessions")


@app.command("load")
def load_cmd(
    athlete: Annotated[str | None, typer.Option(help=ATHLETE_HELP)] = None,
    csv: Annotated[bool, typer.Option("--csv", help=CSV_HELP)] = False,
    days: Annotated[int, typer.Option(help="Show the last N days (0: all).")] = 28,
) -> None:
    """Daily load, acute:chronic ratios (rac, rau, ewma), monotony, strain, CTL/ATL/TSB."""
    journal = state.journal()
    athletes = [athlete_option(athlete)] if athlete else journal.athletes()
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
        missing = dict.fromkeys(ACWR_COLUMNS, "warming up")
        print_frame(df, csv, f"load: {a} (AU; ACWR needs 28 days of history)", missing)


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
        fail("give --rpe and/or --pain", 2)
    cfg, journal = state.config(), state.journal()
    try:
        row = Recorder(cfg, journal).log(session, rpe=rpe, pain=pain)
    except (AmbiguousSession, ValueError) as exc:
        fail(f"log: {exc.args[0]}", 2)
    Recompute(cfg, journal).pending()
    out.print(f"{row.id}: rpe={row.rpe} pain={row.pain} load={row.load:.1f} ({row.load_method})")
    report_delivery(Delivery(cfg, journal).ship(), cfg)


@app.command()
def rebuild(athlete: Annotated[str | None, typer.Option(help=ATHLETE_HELP)] = None) -> None:
    """Recompute daily load and alerts from the stored sessions (all athletes by default)."""
    cfg, journal = state.config(), state.journal(finish_pending=False)
    try:
        done = Recompute(cfg, journal).all(athlete_option(athlete))
    except StoreError as exc:
        fail(str(exc), 2)
    out.print(f"rebuilt daily load and alerts of {len(done)} athlete(s)")


@app.command()
def flush() -> None:
    """Ship the outbox to InfluxDB now (and due alert webhooks)."""
    cfg = state.config()
    if not cfg.influx.enabled:
        fail("InfluxDB not configured (SENSORHUB_INFLUX_URL or [influx] url)", 2)
    report = Delivery(cfg, state.journal()).ship()
    report_delivery(report, cfg)
    if not report.influx.ok:
        raise typer.Exit(1)


@app.command()
def status() -> None:
    """State dir, InfluxDB target, journal counts and the outbox backlog."""
    cfg, journal = state.config(), state.journal()
    ob = journal.outbox.stats()
    n_src, n_partial = journal.source_counts()
    out.print(f"state dir     {cfg.home}")
    out.print(f"config        {cfg.source_path or '(none: defaults)'}")
    out.print(f"InfluxDB      {influx_target(cfg)}")
    out.print(f"sources       {n_src} ({n_partial} partial)")
    out.print(f"sessions      {journal.session_count()} for {len(journal.athletes())} athlete(s)")
    oldest = f", oldest {ob['oldest']}" if ob["oldest"] else ""
    out.print(f"outbox        {ob['batches']} batches, {ob['points']} points waiting{oldest}")
    if ob["last_error"]:
        out.print(f"last error    {ob['last_error']}")


@app.command()
def alerts(
    athlete: Annotated[str | None, typer.Option(help=ATHLETE_HELP)] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only alerts not yet cleared.")] = False,
    evaluate: Annotated[
        bool, typer.Option("--evaluate", help="Re-run the rules over the journal first.")
    ] = False,
    send: Annotated[
        bool, typer.Option("--send", help="Send queued webhooks now (ignoring backoff).")
    ] = False,
    csv: Annotated[bool, typer.Option("--csv", help=CSV_HELP)] = False,
) -> None:
    """List alerts (load spike, monotony, GCT asymmetry, pain) and the webhook queue."""
    cfg, journal = state.config(), state.journal()
    athlete = athlete_option(athlete)
    delivery = Delivery(cfg, journal)
    if evaluate:
        Recompute(cfg, journal).all(athlete)
        delivery.ship()
    if send:
        rep = delivery.webhooks(force=True)
        if rep is None:
            out.print("webhook: not configured ([alerts] webhook_url)")
        else:
            errors = f" ({rep.errors[-1]})" if rep.errors else ""
            out.print(f"webhook: {rep.sent} sent, {rep.left} waiting{errors}")
    df = journal.alerts.frame(athlete, open_only=open_only)
    if df.empty:
        out.print("no alerts")
    else:
        df["state"] = [c[:10] if isinstance(c, str) else "open" for c in df["cleared_at"]]
        df["opened"] = df["opened_at"].str[:16].str.replace("T", " ")
        cols = ["id", "athlete", "opened", "rule", "severity", "value", "threshold", "state"]
        print_frame(df[[*cols, "message"]], csv, title="alerts")
    q = journal.alerts.webhook_stats()
    if q["waiting"] and not csv:
        last = f", last error: {q['last_error']}" if q["last_error"] else ""
        out.print(f"webhook queue: {q['waiting']} waiting{last}")
