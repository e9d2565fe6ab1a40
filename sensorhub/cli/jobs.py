"""``sensorhub submit``, ``worker`` and ``jobs``: the job queue of a PostgreSQL journal
(docs/scale.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..store import PgTarget, StoreError, journal_target
from ..store.blobs import Blobs
from .app import app, athlete_option, err, fail, out, print_frame, state

NEEDS_EXTRA = (
    "{cmd} needs the PostgreSQL extras (psycopg, procrastinate): "
    "pip install 'sensorhub[postgres]' (in a checkout: .venv/bin/pip install -e '.[postgres]')"
)
NEEDS_PG = (
    "{cmd} needs a PostgreSQL journal: set SENSORHUB_JOURNAL_URL=postgresql://… or [journal]"
    " url (an SQLite journal ingests in place: sensorhub ingest)"
)


def _pg_journal(cmd: str):
    """The configured journal when it is PostgreSQL; exit 2 with one line otherwise."""
    cfg = state.config()
    try:
        target = journal_target(cfg)
    except StoreError as exc:
        fail(str(exc), code=2)
    if not isinstance(target, PgTarget):
        fail(NEEDS_PG.format(cmd=cmd), code=2)
    try:  # the job engine is an optional extra: the single-user install runs without it
        import procrastinate  # noqa: F401
        import psycopg  # noqa: F401
    except ModuleNotFoundError:
        fail(NEEDS_EXTRA.format(cmd=cmd), code=2)
    return cfg, state.journal(finish_pending=False)


@app.command()
def submit(
    paths: Annotated[list[Path], typer.Argument(help="FIT, TCX, GPX files, zips, folders.")],
    athlete: Annotated[str | None, typer.Option(help="Assign every file to this athlete.")] = None,
) -> None:
    """Store files in the shared journal and queue one ingest job each (sensorhub worker
    runs them). A file submitted before is not queued again."""
    cfg, journal = _pg_journal("sensorhub submit")
    from ..jobs import Submitter

    try:
        submitter = Submitter(cfg, journal, athlete_option(athlete))
        results = []
        for s in submitter.submit(paths):
            (err if s.status == "refused" else out).print(s.line())
            results.append(s)
    except StoreError as exc:
        fail(str(exc), code=2)
    refused = [r for r in results if r.status == "refused"]
    queued = sum(r.status == "queued" for r in results)
    out.print(f"{queued} job(s) queued, {len(results) - queued - len(refused)} already submitted")
    if not results:
        fail("no input files found", code=1)
    if refused:
        raise typer.Exit(1)


@app.command()
def worker(
    until_idle: Annotated[
        bool, typer.Option("--until-idle", help="Stop once no job waits or runs.")
    ] = False,
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (one job at a time each).")
    ] = 1,
) -> None:
    """Run queued jobs: ingest each file, then its athlete's daily load and alerts."""
    cfg, journal = _pg_journal("sensorhub worker")
    from ..jobs import run_worker, run_workers

    journal.close()
    state._journal = None
    if concurrency > 1:
        raise typer.Exit(run_workers(cfg, concurrency, until_idle))
    try:
        run_worker(cfg, until_idle, say=out.print)
    except StoreError as exc:
        fail(str(exc), code=2)


@app.command()
def jobs(
    failed: Annotated[bool, typer.Option("--failed", help="Only failed jobs, with why.")] = False,
    csv: Annotated[bool, typer.Option("--csv", help="CSV on stdout.")] = False,
) -> None:
    """Jobs of the queue: status, file, athlete, attempts and why a job failed."""
    import pandas as pd

    _cfg, journal = _pg_journal("sensorhub jobs")
    blobs = Blobs(journal.db)
    if not blobs.has_table("procrastinate_jobs"):
        out.print("no jobs (nothing submitted yet)")
        return
    rows = blobs.jobs(failed=failed)
    df = pd.DataFrame(
        [
            {
                "id": r.id,
                "status": r.status,
                "task": r.task.removeprefix("sensorhub."),
                "file": r.name,
                "athlete": r.athlete,
                "attempts": r.attempts,
                "reason": r.reason or "",
            }
            for r in rows
        ],
        columns=["id", "status", "task", "file", "athlete", "attempts", "reason"],
    )
    print_frame(df, csv, "failed jobs" if failed else "jobs")
    if not csv:
        counts = blobs.counts()
        out.print(", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "no jobs")
