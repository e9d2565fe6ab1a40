"""``sensorhub report``: a self-contained HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .app import app, fail, out, state
from .records import iso_day, known_athlete


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
    from ..report import range_report, session_report

    day0, day1 = iso_day(start, "--from"), iso_day(end, "--to")
    if day0 is not None and day1 is not None and day0 > day1:
        fail(f"report: --from {start} is after --to {end}", 2)
    cfg, journal = state.config(), state.journal()
    try:
        if session:
            html = session_report(cfg, journal, session)
        else:
            athletes = [known_athlete(athlete)] if athlete else journal.athletes()
            if len(athletes) != 1:
                fail("give --session ID, or --athlete NAME (several athletes in the journal)", 2)
            html = range_report(cfg, journal, athletes[0], start, end)
    except (KeyError, ValueError) as exc:
        fail(f"report: {exc.args[0] if exc.args else exc}", 2)
    try:
        output.write_text(html, encoding="utf-8")
    except OSError as exc:
        fail(f"report: cannot write {output} ({exc.strerror or exc})", 2)
    out.print(f"wrote {output} ({len(html) // 1024} KiB)")
