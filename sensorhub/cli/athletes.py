"""``sensorhub athletes [list|add|edit|remove]``: athletes and devices, the config's and the
journal's (docs/configuration.md, "Athletes in the journal").

Stored athletes live in the journal (:mod:`sensorhub.store.roster`), so every worker on a
shared PostgreSQL journal sees them without a TOML file. Merge rule: the config's athletes
plus the stored ones; an id in both is the stored athlete (``athletes list`` says where each
comes from). Every value is checked with the config's rules (the ``Athlete`` dataclass): a bad
id, zone or heart rate is one line, exit 2, nothing written; so is a device another athlete
already has.

An edit that changes what the athlete's load is computed with applies to the sessions already
stored, before the command ends: a new time zone moves sessions to their local day in it (and
the ``load`` points to the new midnights); new HR limits or sex recompute TRIMP from the
sources still on disk (``sensorhub reprocess``); the daily load is then recomputed.
"""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
import typer

from ..config import Athlete, Config, ConfigError, check_athlete_id, parse_athlete
from ..corrections import Corrections
from ..pipeline import Pipeline
from ..recorder import local_day
from ..store import Journal, StoreError, delete_span
from ..store.roster import Roster, refresh_athletes
from .app import app, fail, out, print_frame, report_delivery, state

athletes_app = typer.Typer(
    help="Athletes and their devices (the config's and the journal's): list, add, edit, remove.",
    invoke_without_command=True,
    rich_markup_mode=None,
)
app.add_typer(athletes_app, name="athletes")

LOAD_FIELDS = ("sex", "hr_rest", "hr_max")  # TRIMP's inputs (the time zone is handled apart)
CSV_HELP = "CSV instead of a table."


class Refused(Exception):
    """An edit that must not be written (one line for the user)."""


# -- list ------------------------------------------------------------------------------------
@athletes_app.callback()
def athletes(
    ctx: typer.Context,
    csv: Annotated[bool, typer.Option("--csv", help=CSV_HELP)] = False,
) -> None:
    """Athletes: where each comes from (config, store), devices, sessions and their days."""
    if ctx.invoked_subcommand is None:
        _list(csv)


@athletes_app.command("list")
def athletes_list(csv: Annotated[bool, typer.Option("--csv", help=CSV_HELP)] = False) -> None:
    """Athletes: where each comes from (config, store), devices, sessions and their days."""
    _list(csv)


def _list(csv: bool) -> None:
    cfg, journal = state.config(), state.journal()
    counts = {a: (n, first, last) for a, n, first, last in journal.athlete_counts()}
    rows = []
    for a in cfg.roster():
        n, first, last = counts.pop(a.id, (0, None, None))
        rows.append(_row(a, cfg.athlete_origin(a.id), n, first, last))
    for a_id, (n, first, last) in sorted(counts.items()):  # sessions of nobody configured
        rows.append(_row(Athlete(id=a_id), "sessions only", n, first, last))
    if not rows:
        out.print("no athletes: sensorhub athletes add ID, or [[athletes]] in the config")
        return
    print_frame(pd.DataFrame(rows), csv, title="athletes")


def _row(a: Athlete, origin: str, n: int, first: str | None, last: str | None) -> dict:
    return {
        "athlete": a.id,
        "from": origin,
        "name": a.name,
        "sex": a.sex,
        "hr_rest": a.hr_rest,
        "hr_max": a.hr_max,
        "tz": a.tz,
        "devices": ",".join(a.devices),
        "sessions": n,
        "first": first,
        "last": last,
    }


# -- add, edit, remove -------------------------------------------------------------------------
IdArg = Annotated[str, typer.Argument(help="The athlete's id (lower-case letters, digits, ._-).")]


@athletes_app.command("add")
def athletes_add(
    athlete_id: IdArg,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    sex: Annotated[str, typer.Option(help="male or female (Banister TRIMP weighting).")] = "male",
    hr_rest: Annotated[float | None, typer.Option(help="Resting heart rate, bpm.")] = None,
    hr_max: Annotated[float | None, typer.Option(help="Maximum heart rate, bpm.")] = None,
    tz: Annotated[str, typer.Option(help="Time zone of their calendar days.")] = "UTC",
    device: Annotated[
        list[str] | None, typer.Option(help="A FIT serial number or BLE address (repeatable).")
    ] = None,
) -> None:
    """Store a new athlete in the journal (every worker sees it at its next job)."""
    cfg, journal = state.config(), state.journal()
    raw = {
        "id": athlete_id,
        "name": name,
        "sex": sex,
        "hr_rest": hr_rest,
        "hr_max": hr_max,
        "tz": tz,
        "devices": list(dict.fromkeys(device or [])),
    }

    def change(cfg: Config) -> tuple[Athlete, Athlete]:
        new = _valid(raw)
        origin = cfg.athlete_origin(new.id)
        if origin:
            raise Refused(
                f"athlete {new.id!r} is already known ({origin}): change it with"
                f" sensorhub athletes edit {new.id}"
            )
        _check_devices(cfg, new)
        _upsert(journal, new)
        return Athlete(id=new.id), new

    _write(cfg, journal, change, "added to the journal")


@athletes_app.command("edit")
def athletes_edit(
    athlete_id: IdArg,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    sex: Annotated[str | None, typer.Option(help="male or female.")] = None,
    hr_rest: Annotated[float | None, typer.Option(help="Resting heart rate, bpm.")] = None,
    hr_max: Annotated[float | None, typer.Option(help="Maximum heart rate, bpm.")] = None,
    tz: Annotated[str | None, typer.Option(help="Time zone of their calendar days.")] = None,
    add_device: Annotated[
        list[str] | None, typer.Option(help="Give them this device (repeatable).")
    ] = None,
    remove_device: Annotated[
        list[str] | None, typer.Option(help="Take this device away (repeatable).")
    ] = None,
) -> None:
    """Change only the options given. A config athlete edited here is stored, and the stored
    copy wins from then on. New HR limits, sex or time zone recompute their load."""
    cfg, journal = state.config(), state.journal()
    given = {"name": name, "sex": sex, "hr_rest": hr_rest, "hr_max": hr_max, "tz": tz}

    def change(cfg: Config) -> tuple[Athlete, Athlete]:
        a_id = _valid_id(athlete_id)
        if not cfg.athlete_origin(a_id):
            raise Refused(f"athlete {a_id!r} is not known: sensorhub athletes add {a_id}")
        old = cfg.athlete(a_id)
        devices = list(old.devices)
        for d in remove_device or []:
            if d not in devices:
                raise Refused(f"athlete {a_id!r} has no device {d!r} (nothing changed)")
            devices.remove(d)
        devices += [d for d in dict.fromkeys(add_device or []) if d not in devices]
        changes = {k: v for k, v in given.items() if v is not None}
        new = _valid({**_fields(old), **changes, "devices": devices})
        _check_devices(cfg, new)
        _upsert(journal, new)
        return old, new

    _write(cfg, journal, change, "stored in the journal")


@athletes_app.command("remove")
def athletes_remove(athlete_id: IdArg) -> None:
    """Delete a stored athlete (their sessions stay; a config athlete of the same id applies
    again)."""
    cfg, journal = state.config(), state.journal()

    def change(cfg: Config) -> tuple[Athlete, Athlete]:
        a_id = _valid_id(athlete_id)
        origin = cfg.athlete_origin(a_id)
        if not origin.startswith("store"):
            where = "is in the config file only (edit it there)" if origin else "is not known"
            raise Refused(f"athlete {a_id!r} {where}: nothing removed from the journal")
        old = cfg.athlete(a_id)
        Roster(journal).remove(a_id)
        refresh_athletes(cfg, journal)
        return old, cfg.athlete(a_id)

    _write(cfg, journal, change, "removed from the journal")


# -- helpers -----------------------------------------------------------------------------------
def _write(cfg: Config, journal: Journal, change: Any, done: str) -> None:
    """Run ``change`` in one journal transaction (on the roster as it is inside it), then
    bring the athlete's stored sessions and load in line with what changed."""
    try:
        with journal.transaction():
            refresh_athletes(cfg, journal)
            old, new = change(cfg)
    except Refused as exc:
        fail(str(exc), code=2)
    except StoreError as exc:
        fail(str(exc), code=2)
    refresh_athletes(cfg, journal)
    effective = cfg.athlete(new.id)
    out.print(f"athlete {new.id} {done} (in use: {cfg.athlete_origin(new.id) or 'defaults'})")
    try:
        _apply(cfg, journal, old, effective)
    except StoreError as exc:
        fail(str(exc), code=2)


def _apply(cfg: Config, journal: Journal, old: Athlete, new: Athlete) -> None:
    """Make the athlete's stored sessions and daily load follow a changed time zone, HR
    limits or sex; one line per thing done."""
    moved_tz = old.tz != new.tz
    trimp = any(getattr(old, f) != getattr(new, f) for f in LOAD_FIELDS)
    if not (moved_tz or trimp) or not journal.session_rows(new.id):
        return
    pipe = Pipeline(cfg, journal)
    if moved_tz:
        n = _move_days(journal, new.id, old.tz, new.tz)
        out.print(f"time zone {old.tz} -> {new.tz}: {n} session(s) moved to another day")
    if trimp:
        done, missing = Corrections(pipe).reprocess(new.id)
        gone = f", {missing} kept as they were (source not on disk)" if missing else ""
        out.print(f"HR limits/sex changed: {done} session(s) recomputed{gone}")
    pipe.recompute.pending()
    out.print(f"daily load of {new.id} recomputed")
    report_delivery(pipe.flush(), cfg)


def _move_days(journal: Journal, athlete: str, old_tz: str, new_tz: str) -> int:
    """Give each session its local day in ``new_tz`` and mark the athlete for recompute; the
    ``load`` points written at the old zone's midnights are deleted first (the recompute
    writes every day again at the new ones)."""
    rows = journal.session_rows(athlete)
    table = journal.daily_load(athlete)
    moved = 0
    with journal.transaction():
        if not table.empty:
            lo, hi = (_midnight(d, old_tz) for d in (table.index.min(), table.index.max()))
            journal.outbox.enqueue("load", [delete_span("load", {"athlete": athlete}, lo, hi)], 1)
            journal.replace_daily_load(athlete, pd.DataFrame())
        for r in rows:
            day = local_day(r.start, new_tz)
            if day != r.day:
                journal.update_session(r.id, day=day)
                moved += 1
        # from the earliest day in either zone: the whole table is rebuilt anyway
        journal.mark_dirty(athlete, min(min(r.day, local_day(r.start, new_tz)) for r in rows))
    return moved


def _midnight(day: pd.Timestamp, tz: str) -> pd.Timestamp:
    return pd.Timestamp(day).tz_localize(tz).tz_convert("UTC")


def _valid_id(value: str) -> str:
    try:
        return check_athlete_id(value)
    except ConfigError as exc:
        raise Refused(str(exc)) from None


def _valid(raw: dict[str, Any]) -> Athlete:
    try:
        return parse_athlete(raw)
    except ConfigError as exc:
        raise Refused(f"{exc} (nothing written)") from None


def _fields(a: Athlete) -> dict[str, Any]:
    return {
        "id": a.id,
        "name": a.name,
        "sex": a.sex,
        "hr_rest": a.hr_rest,
        "hr_max": a.hr_max,
        "tz": a.tz,
        "devices": list(a.devices),
    }


def _check_devices(cfg: Config, new: Athlete) -> None:
    for d in new.devices:
        owner = cfg.athlete_for_device(d)
        if owner is not None and owner.id != new.id:
            raise Refused(
                f"device {d!r} already belongs to athlete {owner.id!r}"
                f" ({cfg.athlete_origin(owner.id)}): not given to {new.id!r}"
                f" (remove it there first; nothing written)"
            )


def _upsert(journal: Journal, a: Athlete) -> None:
    Roster(journal).upsert(a.id, a.name, a.sex, a.hr_rest, a.hr_max, a.tz, a.devices)
