"""Fixing mistakes: ``sessions reassign``, ``sessions delete``, ``reprocess``.

Every fix goes through :class:`~sensorhub.pipeline.Pipeline`: the journal change, the
InfluxDB deletes and rewrites (through the outbox, in order) and the durable recompute mark
are one transaction; daily load of the athletes touched is recomputed before the command
ends, and the outbox is shipped when InfluxDB is configured.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ..corrections import Corrections
from ..pipeline import Pipeline
from ..store import StoreError
from ..store.journal import AmbiguousSession
from .app import app, athlete_option, fail, out, report_delivery, state
from .records import sessions_app

ID_HELP = "Session id (or a unique prefix), see `sensorhub sessions`."


def _pipeline(athlete: str | None = None) -> Pipeline:
    return Pipeline(state.config(), state.journal(), athlete=athlete)


@sessions_app.command("delete")
def delete(session: Annotated[str, typer.Argument(help=ID_HELP)]) -> None:
    """Delete a session: from the journal, its points from InfluxDB, its load from the days."""
    pipe = _pipeline()
    try:
        row = Corrections(pipe).delete_session(session)
    except AmbiguousSession as exc:
        fail(f"sessions delete: {exc.args[0]}", 2)
    except StoreError as exc:
        fail(str(exc), 2)
    out.print(f"{row.id}: deleted ({row.athlete}, {row.sport}, {row.start:%Y-%m-%d %H:%M})")
    report_delivery(pipe.flush(), pipe.cfg)


@sessions_app.command("reassign")
def reassign(
    session: Annotated[str, typer.Argument(help=ID_HELP)],
    athlete: Annotated[str, typer.Option(help="The athlete the session belongs to.")],
) -> None:
    """Give a session to another athlete (points move in InfluxDB; both loads recomputed)."""
    target = athlete_option(athlete)
    pipe = _pipeline()
    try:
        before = pipe.journal.find_session(session)
        if before.athlete == target:
            out.print(f"{before.id}: already {target}'s")
            return
        row, moved = Corrections(pipe).reassign_session(before.id, target)
    except AmbiguousSession as exc:
        fail(f"sessions reassign: {exc.args[0]}", 2)
    except StoreError as exc:
        fail(str(exc), 2)
    note = "" if moved else " (source no longer on disk: per-second points not re-sent)"
    out.print(f"{row.id}: {before.athlete} -> {row.athlete}{note}")
    report_delivery(pipe.flush(), pipe.cfg)


@app.command()
def reprocess(
    athlete: Annotated[str | None, typer.Option(help="Only this athlete.")] = None,
) -> None:
    """Recompute TRIMP and load of stored sessions after a config change (HR limits, load
    method), from their sources re-read from disk; the days after are recomputed."""
    pipe = _pipeline()
    try:
        done, missing = Corrections(pipe).reprocess(athlete_option(athlete))
    except StoreError as exc:
        fail(str(exc), 2)
    gone = f", {missing} kept as they were (source no longer on disk)" if missing else ""
    out.print(f"reprocessed: {done} session(s) changed{gone}")
    report_delivery(pipe.flush(), pipe.cfg)
