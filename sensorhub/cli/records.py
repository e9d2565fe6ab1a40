"""Commands over the journal: ``sessions``, ``load``, ``log``, ``alerts``, ``rebuild``,
``flush`` and ``status``."""

from __future__ import annotations

import re
from typing import Annotated

import numpy as np
import pandas as pd
import typer

from ..delivery import Delivery
from ..load import LOAD_COLUMNS
from ..recompute import Recompute
from ..recorder import Recorder
from ..report.units import unit_of
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
ACWR_LEGEND = (
    "rac = rolling coupled 7/28 d (Gabbett 2016), rau = uncoupled (chronic = days t-27..t-7), "
    "ewma = exponentially weighted 7/28 d (Williams 2017); ACWR describes load change, not "
    "injury risk."
)
STATUS_TEXT = {
    "warming up": "warming up = fewer than 28 days of history",
    "rebuilding": "rebuilding = the 28-day window is mostly a break",
}


def known_athlete(value: str | None) -> str | None:
    """The ``--athlete`` value, checked: exit 1 when neither the config nor the journal knows
    it."""
    a = athlete_option(value)
    if a is None:
        return None
    cfg, journal = state.config(), state.journal()
    if all(x.id != a for x in cfg.roster()) and a not in journal.athletes():
        known = ", ".join(sorted({x.id for x in cfg.roster()} | set(journal.athletes())))
        fail(f"athlete {a!r} is unknown (known: {known or 'none yet'})", 1)
    return a


def local_text(t: pd.Timestamp | str | None, tz: str, seconds: bool = False) -> str:
    """A UTC time as the athlete's local time, e.g. ``2026-11-15 08:43 EST``."""
    if t is None or (isinstance(t, float) and pd.isna(t)) or t == "":
        return "-"
    ts = pd.Timestamp(t)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts
    return ts.tz_convert(tz).strftime("%Y-%m-%d %H:%M" + (":%S" if seconds else "") + " %Z")


def utc_text(t: str | float | None) -> str:
    """An ISO time (or Unix seconds) as ``YYYY-MM-DD HH:MM:SS UTC`` (no microseconds)."""
    if t is None or t == "":
        return "-"
    ts = pd.Timestamp(t, unit="s", tz="UTC") if isinstance(t, int | float) else pd.Timestamp(t)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.strftime("%Y-%m-%d %H:%M:%S UTC")


def min_sec(seconds: float | None) -> str:
    """Seconds as ``m:ss`` (``h:mm:ss`` from an hour); "-" when missing."""
    if seconds is None or not np.isfinite(seconds):
        return "-"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    return f"{h}:{rem // 60:02d}:{rem % 60:02d}" if h else f"{rem // 60}:{rem % 60:02d}"


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
    """List sessions: local start, time, distance, pace, HR, cadence, GCT, balance, load (and its
    method), RPE, pain and the kind of source."""
    if ctx.invoked_subcommand is not None:
        return
    athlete = known_athlete(athlete)
    journal = state.journal()
    table = journal.session_table(athlete)
    if table.empty:
        out.print("no sessions yet: sensorhub ingest PATH")
        return
    df = session_listing(table, csv)
    df = df.tail(last) if last else df
    if athlete and not csv:
        df = df.drop(columns="athlete")  # it is in the title
    if csv:
        print_frame(df, csv=True, title="sessions")
        return
    print_frame(df, csv=False, title=f"sessions (local start: {_zones_title(table)})")


def session_listing(table: pd.DataFrame, csv: bool) -> pd.DataFrame:
    """The ``sessions`` listing from :meth:`Journal.session_table`: display units for the
    table (times as text), SI numbers at full precision for CSV."""
    cfg, journal = state.config(), state.journal()
    tz = {a: cfg.athlete(a).tz for a in table["athlete"].unique()}
    kinds = {}
    for sid in table["source_id"].dropna().unique():
        src = journal.source(int(sid))
        kinds[sid] = src["kind"] if src else ""
    zones = table["athlete"].map(tz)
    col = lambda c: table[c] if c in table else pd.Series(np.nan, index=table.index)  # noqa: E731
    dist, dur = pd.to_numeric(col("distance_m")), pd.to_numeric(col("duration_s"))
    pace_s = (dur / (dist / 1000)).where(dist > 0)
    partial = np.where(table["partial"].astype(bool), "partial", "")
    kind = table["source_id"].map(kinds).fillna("")
    if csv:
        return pd.DataFrame(
            {
                "id": table["id"],
                "athlete": table["athlete"],
                "start_local": [
                    t.tz_convert(z).isoformat() for t, z in zip(table["start"], zones, strict=True)
                ],
                "start_utc": table["start"].map(lambda t: t.isoformat()),
                "tz": zones,
                "sport": table["sport"],
                "duration_s": dur,
                "distance_m": dist,
                "pace_s_per_km": pace_s,
                "hr_avg_bpm": col("hr_avg_bpm"),
                "cadence_spm": col("cadence_spm"),
                "gct_ms": col("gct_ms"),
                "gct_balance_left_pct": col("gct_balance_left_pct"),
                "load": table["load"],
                "load_method": table["load_method"],
                "trimp": table["trimp"],
                "rpe": table["rpe"],
                "pain": table["pain"],
                "kind": kind,
                "partial": partial,
            }
        )
    unit = unit_of(cfg)  # [display] distance_unit: the table only, CSV stays in metres
    return pd.DataFrame(
        {
            "id": table["id"],
            "athlete": table["athlete"],
            "start": [local_text(t, z)[:16] for t, z in zip(table["start"], zones, strict=True)],
            "sport": table["sport"],
            "time": dur.map(min_sec),
            unit.name: unit.of(dist).map(lambda v: _fixed(v, 2)),
            f"pace /{unit.name}": (pace_s * unit.metres / 1000).map(min_sec),
            "HR": col("hr_avg_bpm").map(lambda v: _fixed(v, 0)),
            "spm": col("cadence_spm").map(lambda v: _fixed(v, 0)),
            "GCT ms": col("gct_ms").map(lambda v: _fixed(v, 0)),
            "bal %L": col("gct_balance_left_pct").map(lambda v: _fixed(v, 1)),
            "load": [
                "-" if pd.isna(v) else f"{v:.0f} {m or ''}".strip()
                for v, m in zip(table["load"], table["load_method"], strict=True)
            ],
            "RPE": table["rpe"].map(lambda v: _fixed(v, 1)),
            "pain": table["pain"].map(lambda v: _fixed(v, 1)),
            "kind": kind,
            "partial": partial,
        }
    )


def _fixed(v: object, digits: int) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "-"
    return "-" if not np.isfinite(f) else f"{f:.{digits}f}"


def _zones_title(table: pd.DataFrame) -> str:
    cfg = state.config()
    zones = {a: cfg.athlete(a).tz for a in table["athlete"].unique()}
    return ", ".join(f"{a} {z}" for a, z in sorted(zones.items()))


@app.command("load")
def load_cmd(
    athlete: Annotated[str | None, typer.Option(help=ATHLETE_HELP)] = None,
    csv: Annotated[bool, typer.Option("--csv", help=CSV_HELP)] = False,
    days: Annotated[int, typer.Option(help="Show N days back from --to (0: all).", min=0)] = 28,
    to: Annotated[
        str | None,
        typer.Option("--to", help="Last day shown (YYYY-MM-DD; default: the last session's day)."),
    ] = None,
) -> None:
    """Daily load, acute:chronic ratios (rac, rau, ewma), monotony, strain, CTL/ATL/TSB."""
    athlete = known_athlete(athlete)
    end = iso_day(to, "--to")
    journal = state.journal()
    athletes = [athlete] if athlete else journal.athletes()
    if not athletes:
        out.print("no sessions yet: sensorhub ingest PATH")
    for a in athletes:
        _load_of(a, csv, days, end)


def _load_of(a: str, csv: bool, days: int, end: pd.Timestamp | None) -> None:
    cfg, journal = state.config(), state.journal()
    daily = journal.daily_load(a)
    rows = journal.session_rows(a)
    if daily.empty or not rows:
        out.print(f"load: {a}: no sessions yet")
        return
    last_day = pd.Timestamp(rows[-1].day)
    stop = end if end is not None else last_day
    df = daily[daily.index <= stop]
    if days:
        df = df[df.index > stop - pd.Timedelta(days=days)]
    text_cols = [c for c in ("acwr_status",) if c in df]
    df = df[list(LOAD_COLUMNS) + text_cols].copy()
    df.insert(0, "day", df.index.strftime("%Y-%m-%d"))
    series = Recompute(cfg, journal).series(rows)
    if csv:
        df.insert(0, "athlete", a)
        print_frame(df, True, "")
        return
    if df.empty:
        out.print(
            f"load: {a}: no days in that window (data {daily.index[0]:%Y-%m-%d} to "
            f"{daily.index[-1]:%Y-%m-%d})"
        )
        return
    status = df.pop("acwr_status") if "acwr_status" in df else pd.Series("", index=df.index)
    for c in ACWR_COLUMNS:  # an empty ratio reads as its status
        df[c] = [
            s if pd.isna(v) and isinstance(s, str) and s != "ok" else v
            for v, s in zip(df[c], status, strict=True)
        ]
    title = (
        f"load: {a}, {df['day'].iloc[0]} to {df['day'].iloc[-1]} "
        f"(AU in {series.method}; days in {cfg.athlete(a).tz})"
    )
    print_frame(df, False, title, dict.fromkeys(ACWR_COLUMNS, "-"))
    today = pd.Timestamp.now(tz=cfg.athlete(a).tz).tz_localize(None).normalize()
    ago = (today - last_day).days
    out.print(
        f"last session {rows[-1].day} ({ago} day{'s' if ago != 1 else ''} ago)"
        if ago >= 0
        else f"last session {rows[-1].day}"
    )
    out.print(f"load method: {series.method}" + (f" - {series.note}" if series.note else ""))
    out.print(ACWR_LEGEND)
    seen = [s for s in STATUS_TEXT if s in set(status)]
    if seen:
        out.print("empty ratio: " + "; ".join(STATUS_TEXT[s] for s in seen))


def iso_day(value: str | None, option: str) -> pd.Timestamp | None:
    """A calendar day as YYYY-MM-DD (ISO only: 01/03/2020 is ambiguous); exit 2 otherwise."""
    if value is None:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            raise ValueError
        return pd.Timestamp(value.strip())
    except ValueError:
        fail(f"{option} {value!r}: give a day as YYYY-MM-DD (e.g. 2026-11-15)", 2)
    return None


@app.command()
def week(
    athlete: Annotated[str | None, typer.Option(help=ATHLETE_HELP)] = None,
    csv: Annotated[bool, typer.Option("--csv", help=CSV_HELP)] = False,
    last: Annotated[int, typer.Option(help="Show the last N weeks (0: all).", min=0)] = 12,
) -> None:
    """Per week (Monday start, the athlete's zone): runs, distance, time, load, the longest run
    against the longest of the 30 days before, and the pain trend (distances in
    ``[display] distance_unit``; --csv in metres)."""
    from ..report.data import weekly

    athlete = known_athlete(athlete)
    cfg, journal = state.config(), state.journal()
    unit = unit_of(cfg)
    athletes = [athlete] if athlete else journal.athletes()
    if not athletes:
        out.print("no sessions yet: sensorhub ingest PATH")
    for a in athletes:
        weeks = weekly(journal.session_table(a), cfg.athlete(a).tz)
        weeks = weeks.tail(last) if last else weeks
        if csv:
            weeks.insert(0, "athlete", a)
            print_frame(weeks, True, "")
            continue
        show = pd.DataFrame(
            {
                "week (Mon)": weeks["week"],
                "runs": weeks["runs"],
                unit.name: unit.of(weeks["distance_m"]).map(lambda v: _fixed(v, 1)),
                "time": (weeks["hours"] * 3600).map(min_sec),
                "load": weeks["load"].map(lambda v: _fixed(v, 0)),
                f"longest {unit.name}": unit.of(weeks["longest_m"]).map(lambda v: _fixed(v, 1)),
                "longest 30 d before": unit.of(weeks["prev30_longest_m"]).map(
                    lambda v: _fixed(v, 1)
                ),
                "vs before %": weeks["longest_vs_prev30_pct"].map(lambda v: _fixed(v, 0)),
                "pain mean": weeks["pain_mean"].map(lambda v: _fixed(v, 1)),
                "pain max": weeks["pain_max"].map(lambda v: _fixed(v, 1)),
                "pain trend": weeks["pain_trend"].replace("", "-"),
            }
        )
        print_frame(show, False, f"weeks: {a} ({cfg.athlete(a).tz})")


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
def flush(
    parked: Annotated[
        bool, typer.Option("--parked", help="Also retry parked batches (see sensorhub status).")
    ] = False,
) -> None:
    """Ship the outbox to InfluxDB now (and due alert webhooks)."""
    cfg = state.config()
    if not cfg.influx.enabled:
        fail("InfluxDB not configured (SENSORHUB_INFLUX_URL or [influx] url)", 2)
    # a shared PostgreSQL journal: recomputes are the workers' (under the athlete's job lock)
    shared = (cfg.journal.url or "").lower().startswith(("postgresql:", "postgres:"))
    report = Delivery(cfg, state.journal(finish_pending=not shared)).ship(parked=parked)
    if report.influx is not None and report.influx.skipped:
        out.print("InfluxDB: another sensorhub process is shipping the outbox; nothing sent.")
        return
    report_delivery(report, cfg)
    if report.influx.parked_batches and not parked:
        out.print(
            f"{report.influx.parked_batches} parked batch(es) kept: sensorhub flush --parked "
            "retries them"
        )
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
    last = _last_session_text(cfg, journal)
    if last:
        out.print(f"last session  {last}")
    unit = unit_of(cfg).name
    out.print(f"units         distance in {unit}, pace min:ss per {unit} ([display] distance_unit)")
    oldest = f", oldest {utc_text(ob['oldest'])}" if ob["oldest"] else ""
    out.print(f"outbox        {ob['batches']} batches, {ob['points']} points waiting{oldest}")
    if ob.get("parked"):
        why = f", last error: {ob['parked_last_error']}" if ob.get("parked_last_error") else ""
        out.print(
            f"parked        {ob['parked']} batches, {ob.get('parked_points', 0)} points "
            f"(sensorhub flush --parked retries them){why}"
        )
    now = pd.Timestamp.now(tz="UTC").timestamp()
    if (ob.get("backoff_until") or 0) > now:
        out.print(f"backoff       InfluxDB asked to wait until {utc_text(ob['backoff_until'])}")
    elif (ob.get("next_attempt_at") or 0) > now and ob["batches"]:
        out.print(f"next attempt  {utc_text(ob['next_attempt_at'])}")
    if ob["last_error"]:
        out.print(f"last error    {ob['last_error']}")


def _last_session_text(cfg, journal) -> str:
    """The newest session as ``2026-11-15 08:43 EST, ben, 10.02 km`` (local time, display
    unit); "" without sessions."""
    table = journal.session_table(None)
    if table.empty:
        return ""
    r = table.sort_values("start").iloc[-1]
    unit = unit_of(cfg)
    dist = pd.to_numeric(pd.Series([r.get("distance_m")]), errors="coerce").iloc[0]
    far = f", {_fixed(unit.of(dist), 2)} {unit.name}" if pd.notna(dist) else ""
    return f"{local_text(r['start'], cfg.athlete(r['athlete']).tz)}, {r['athlete']}{far}"


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
    athlete = known_athlete(athlete)
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
        zones = df["athlete"].map(lambda a: cfg.athlete(a).tz)
        df["state"] = [
            "cleared " + local_text(c, z)[:10] if isinstance(c, str) and c else "open"
            for c, z in zip(df["cleared_at"], zones, strict=True)
        ]
        df["opened"] = [local_text(t, z) for t, z in zip(df["opened_at"], zones, strict=True)]
        cols = ["id", "athlete", "opened", "rule", "severity", "value", "threshold", "state"]
        print_frame(df[[*cols, "message"]], csv, title="alerts")
    q = journal.alerts.webhook_stats()
    if q["waiting"] and not csv:
        last = f", last error: {q['last_error']}" if q["last_error"] else ""
        out.print(f"webhook queue: {q['waiting']} waiting{last}")
