"""Readiness tests: ``sensorhub test hop|heel-raise|balance`` (analyse and store one test of
both legs) and ``sensorhub tests`` (the stored results over time). See docs/readiness.md.

An LSI ≥ 90 % is a conventional criterion that supports a clinician's decision; the commands
say whether a result reaches it and nothing more (no diagnosis, no injury risk).
"""

from __future__ import annotations

import json
import math
import sys
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
) -> None:
    """Analyse one readiness test (one recording per leg), store it and show per-leg figures
    and limb symmetry indices (LSI).

    Stored in the journal (table readiness) and shipped to InfluxDB (measurement readiness)
    when configured. The same two recordings stored again are a duplicate.
    """
    kind, placement, involved, athlete = _check_options(kind, placement, involved, athlete)
    cfg = state.config()
    t0 = iso_time(start, "--start")
    try:
        src = readiness_source(
            kind, left, right, placement, athlete, involved, t0, pain, tz=cfg.athlete(athlete).tz
        )
    except SourceError as exc:
        fail(_prefixed(kind, str(exc)), 2)
    for w in src.warnings:
        err.print(_prefixed(kind, w))
    extra = src.extras[0]
    _show(extra.result, extra.start, athlete, as_json)
    journal = state.journal()
    try:
        rec = Recorder(cfg, journal).record(src)
    except StoreError as exc:
        fail(str(exc), 2)
    say = err.print if as_json else out.print
    if rec.status == "duplicate":
        say(f"already stored: this {kind} test of these two recordings (sensorhub tests)")
        return
    say(f"stored: {kind} test of {rec.athlete} ({rec.points} points)")
    _report_shipping(Delivery(cfg, journal).ship().influx, say)


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
