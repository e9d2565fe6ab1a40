"""The symptom diary and return-to-run plans: ``sensorhub checkin …`` and ``sensorhub plan …``.

Check-ins are stored through the recorder like any source (a ``checkins`` row, a ``symptom``
point, a recompute mark); every change to the diary or a plan replays the athlete's plan and
queues its ``plan`` points and plan alerts (:mod:`sensorhub.alerts.plans`). Plans support a
clinician's decision; they never make a diagnosis (docs/return-to-run.md).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import tomllib
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from ..alerts.plans import PlanAlerts, PlanRun, plan_run, stored_plan
from ..config import Config
from ..delivery import Delivery
from ..plans import (
    Checkin,
    Decision,
    PlanError,
    PlanEvent,
    PlanState,
    list_templates,
    load_plan,
    parse_checkin,
    replay,
)
from ..recompute import Recompute
from ..recorder import Recorder
from ..sources.checkin import checkin_source, checkin_time, checkin_values, symptom_series
from ..store import Journal, StoreError, frame_to_lines, point_line
from ..store.diary import CheckinRow
from ..store.journal import AmbiguousSession
from .app import app, athlete_option, fail, out, print_frame, report_delivery, state

ATHLETE_HELP = "The athlete (an id from the config, or one with sessions)."
WHEN_HELP = "during, after, next-morning or rest-day."
SITE_HELP = "achilles, calf, shin, knee, hip, foot, back or other."
SIDE_HELP = "L, R, both or none."
DAY_HELP = (
    "The athlete's local day, YYYY-MM-DD (default: today; next-morning: the day after --session)."
)

checkin_app = typer.Typer(
    help="Record a symptom check-in (pain, stiffness 0–10); list, edit, delete, import.",
    invoke_without_command=True,
    rich_markup_mode=None,
)
app.add_typer(checkin_app, name="checkin")
plan_app = typer.Typer(
    help="Return-to-run plans: templates, start, status, clinician overrides.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(plan_app, name="plan")


# -- helpers ---------------------------------------------------------------------------
def _today(cfg: Config, athlete: str) -> dt.date:
    """Today in the athlete's time zone."""
    return pd.Timestamp.now(tz="UTC").tz_convert(cfg.athlete(athlete).tz).date()


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        fail(f"{option} {value!r}: give a date as YYYY-MM-DD", 2)
    return None


def _known_athlete(cfg: Config, journal: Journal, value: str | None) -> str:
    """A valid athlete id that is configured or has sessions (exit 2 / exit 1 otherwise)."""
    if value is None:
        fail("give --athlete", 2)
    athlete = athlete_option(value)
    assert athlete is not None
    if not any(a.id == athlete for a in cfg.roster()) and athlete not in journal.athletes():
        fail(f"athlete {athlete!r}: unknown (not in the config and no sessions)", 1)
    return athlete


def _finish(
    cfg: Config, journal: Journal, athlete: str | None, quiet: bool = False
) -> PlanRun | None:
    """Recompute what the change marked, replay the athlete's plan (points, alerts), ship
    (``quiet``: say nothing unless delivery failed); returns the replay (None without a plan)."""
    run = None
    try:
        Recompute(cfg, journal).pending()
        if athlete and journal.diary.plan_state(athlete) is not None:
            run = PlanAlerts(cfg, journal).refresh(athlete).run
    except PlanError as exc:
        fail(f"plan {athlete}: {exc}", 2)
    except StoreError as exc:
        fail(str(exc), 2)
    report = Delivery(cfg, journal).ship()
    if not quiet or (report.influx is not None and not report.influx.ok):
        report_delivery(report, cfg)
    return run


def _checkin(row: dict[str, Any], today: dt.date) -> Checkin:
    try:
        return parse_checkin(row, today=today)
    except PlanError as exc:
        fail(str(exc), 2)
    raise AssertionError  # unreachable


def _session(journal: Journal, athlete: str, prefix: str | None) -> tuple[str | None, Any]:
    """(session id, the session row) of ``--session``; exit 2 when unknown or someone else's."""
    if not prefix:
        return None, None
    try:
        s = journal.find_session(prefix)
    except AmbiguousSession as exc:
        fail(f"--session: {exc.args[0]}", 2)
    if s.athlete != athlete:
        fail(f"--session {prefix}: that session is {s.athlete}'s, not {athlete}'s", 2)
    return s.id, s


def _describe(c: Checkin | CheckinRow) -> str:
    stiff = f", stiffness {c.stiffness:g}/10" if c.stiffness else ""
    day = c.day if isinstance(c.day, str) else c.day.isoformat()
    return f"{day} {c.when} {c.site} {c.side}: pain {c.pain:g}/10{stiff}"


# -- checkin ---------------------------------------------------------------------------
@checkin_app.callback()
def checkin(
    ctx: typer.Context,
    athlete: Annotated[str | None, typer.Option(help=ATHLETE_HELP)] = None,
    pain: Annotated[str | None, typer.Option(help="Pain 0–10 (numeric rating scale).")] = None,
    when: Annotated[str | None, typer.Option(help=WHEN_HELP)] = None,
    site: Annotated[str | None, typer.Option(help=SITE_HELP)] = None,
    side: Annotated[str | None, typer.Option(help=SIDE_HELP)] = None,
    stiffness: Annotated[str | None, typer.Option(help="Stiffness 0–10 (default 0).")] = None,
    note: Annotated[str | None, typer.Option(help="A note in your words.")] = None,
    day: Annotated[str | None, typer.Option(help=DAY_HELP)] = None,
    session: Annotated[
        str | None, typer.Option(help="The session it is about (id or unique prefix).")
    ] = None,
) -> None:
    """Record one check-in, e.g. `sensorhub checkin --athlete cara --pain 3 --when
    next-morning --site achilles --side L --stiffness 2`. A rating of the same day, when,
    site, side (and session) replaces the earlier one."""
    if ctx.invoked_subcommand is not None:
        return
    cfg, journal = state.config(), state.journal()
    a = _known_athlete(cfg, journal, athlete)
    for name, v in (("--pain", pain), ("--when", when), ("--site", site), ("--side", side)):
        if v is None:
            fail(f"checkin: give {name} (see sensorhub checkin --help)", 2)
    sid, s = _session(journal, a, session)
    if day is None and s is not None:
        sday = dt.date.fromisoformat(s.day)
        day = (sday + dt.timedelta(days=1) if when == "next-morning" else sday).isoformat()
    row = {"day": day or _today(cfg, a).isoformat(), "when": when, "site": site, "side": side}
    row |= {"pain": pain, "stiffness": stiffness, "note": note, "session_id": sid}
    c = _checkin(row, _today(cfg, a))
    src = checkin_source(a, c, cfg.athlete(a).tz, s.start if s is not None else None)
    try:
        Recorder(cfg, journal).record(src)
    except StoreError as exc:
        fail(str(exc), 2)
    extra = src.extras[0]
    verb = "replaced" if extra.replaced else "stored"
    out.print(f"check-in {extra.checkin_id} {verb}: {a} {_describe(c)}")
    _finish(cfg, journal, a)


@checkin_app.command("list")
def checkin_list(
    athlete: Annotated[str | None, typer.Option(help="Only this athlete.")] = None,
    csv_out: Annotated[bool, typer.Option("--csv", help="CSV instead of a table.")] = False,
) -> None:
    """List check-ins, oldest first."""
    rows = state.journal().diary.checkins(athlete_option(athlete))
    if not rows:
        out.print(
            "no check-ins yet: sensorhub checkin --athlete A --pain N --when W --site S --side X"
        )
        return
    cols = [
        "id",
        "athlete",
        "day",
        "when",
        "site",
        "side",
        "pain",
        "stiffness",
        "note",
        "session_id",
    ]
    df = pd.DataFrame([{c: getattr(r, c) for c in cols} for r in rows], columns=cols)
    print_frame(df, csv_out, title="check-ins")


@checkin_app.command("edit")
def checkin_edit(
    checkin_id: Annotated[int, typer.Argument(help="The check-in's id (sensorhub checkin list).")],
    pain: Annotated[str | None, typer.Option(help="Pain 0–10.")] = None,
    when: Annotated[str | None, typer.Option(help=WHEN_HELP)] = None,
    site: Annotated[str | None, typer.Option(help=SITE_HELP)] = None,
    side: Annotated[str | None, typer.Option(help=SIDE_HELP)] = None,
    stiffness: Annotated[str | None, typer.Option(help="Stiffness 0–10.")] = None,
    note: Annotated[str | None, typer.Option(help="A note ('' removes it).")] = None,
    day: Annotated[str | None, typer.Option(help="The athlete's local day, YYYY-MM-DD.")] = None,
) -> None:
    """Change fields of a check-in; the plan's decisions are replayed."""
    cfg, journal = state.config(), state.journal()
    old = journal.diary.checkin(checkin_id)
    if old is None:
        fail(f"check-in {checkin_id}: no such check-in (see sensorhub checkin list)", 1)
    given = {"pain": pain, "when": when, "site": site, "side": side, "stiffness": stiffness}
    given |= {"note": note, "day": day}
    row = {**old.values(), **{k: v for k, v in given.items() if v is not None}}
    c = _checkin(row, _today(cfg, old.athlete))
    try:
        with journal.transaction():
            new = journal.diary.edit_checkin(checkin_id, checkin_values(c))
            lines = _tombstone(cfg, journal, old, c) + _symptom_lines(cfg, journal, new, c)
            journal.outbox.enqueue("symptom", lines, cfg.influx.batch_points)
            journal.mark_dirty(old.athlete, min(old.day, new.day))
    except ValueError as exc:
        fail(str(exc), 2)
    out.print(f"check-in {checkin_id} changed: {old.athlete} {_describe(new)}")
    _finish(cfg, journal, old.athlete)


@checkin_app.command("delete")
def checkin_delete(
    checkin_id: Annotated[int, typer.Argument(help="The check-in's id (sensorhub checkin list).")],
) -> None:
    """Delete a check-in (its InfluxDB point is marked deleted=1); the plan is replayed."""
    cfg, journal = state.config(), state.journal()
    try:
        with journal.transaction():
            old = journal.diary.delete_checkin(checkin_id)
            lines = _tombstone(cfg, journal, old, None)
            journal.outbox.enqueue("symptom", lines, cfg.influx.batch_points)
            journal.mark_dirty(old.athlete, old.day)
    except KeyError as exc:
        fail(str(exc.args[0]), 1)
    out.print(f"check-in {checkin_id} deleted: {old.athlete} {_describe(old)}")
    _finish(cfg, journal, old.athlete)


@checkin_app.command("import")
def checkin_import(
    file: Annotated[
        Path, typer.Argument(help="CSV: day,when,site,side,pain,stiffness,note[,session_id].")
    ],
    athlete: Annotated[str | None, typer.Option(help=ATHLETE_HELP)] = None,
) -> None:
    """Import a symptom diary (fixtures/checkins/cara.csv is an example). Every row is checked
    first: one bad row and nothing is stored. Importing the same rows again is a no-op."""
    cfg, journal = state.config(), state.journal()
    a = _known_athlete(cfg, journal, athlete)
    try:
        with open(file, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        fail(f"{file}: cannot read: {exc.strerror or exc}", 2)
    except (UnicodeDecodeError, csv.Error) as exc:
        fail(f"{file.name}: not a CSV diary: {exc}", 2)
    today, parsed = _today(cfg, a), []
    for n, r in enumerate(rows, start=2):  # line 1 is the header
        try:
            c = parse_checkin({k: v for k, v in r.items() if k is not None}, today)
        except PlanError as exc:
            fail(f"{file.name}: line {n}: {exc}", 2)
        s = journal.session(c.session_id) if c.session_id else None
        if c.session_id and (s is None or s.athlete != a):
            fail(f"{file.name}: line {n}: session_id {c.session_id}: not a session of {a}", 2)
        parsed.append((n, c, s.start if s is not None else None))
    counts = {"stored": 0, "replaced": 0, "duplicate": 0}
    rec = Recorder(cfg, journal)
    try:
        for n, c, start in parsed:
            src = checkin_source(a, c, cfg.athlete(a).tz, start, origin=f"{file.name}:{n}")
            if rec.record(src).status == "duplicate":
                counts["duplicate"] += 1
            else:
                counts["replaced" if src.extras[0].replaced else "stored"] += 1
    except StoreError as exc:
        fail(str(exc), 2)
    out.print(
        f"{file.name}: {counts['stored']} check-ins stored, {counts['replaced']} replaced, "
        f"{counts['duplicate']} already there"
    )
    _finish(cfg, journal, a)


def _point_time(cfg: Config, journal: Journal, athlete: str, c: Checkin) -> pd.Timestamp:
    s = journal.session(c.session_id) if c.session_id else None
    return checkin_time(c, cfg.athlete(athlete).tz, s.start if s is not None else None)


def _symptom_lines(cfg: Config, journal: Journal, row: CheckinRow, c: Checkin) -> list[str]:
    series = symptom_series(c, _point_time(cfg, journal, row.athlete, c), row.id)
    return frame_to_lines("symptom", series.frame, {"athlete": row.athlete, **series.tags})


def _tombstone(cfg: Config, journal: Journal, old: CheckinRow, new: Checkin | None) -> list[str]:
    """``deleted=1`` on the old point when the check-in is deleted or moves to another slot."""
    prev = Checkin(**{**old.values(), "day": dt.date.fromisoformat(old.day)})
    t = _point_time(cfg, journal, old.athlete, prev)
    if new is not None:
        same = (prev.when, prev.site, prev.side) == (new.when, new.site, new.side)
        if same and t == _point_time(cfg, journal, old.athlete, new):
            return []
    tags = {"athlete": old.athlete, "when": prev.when, "site": prev.site, "side": prev.side}
    line = point_line("symptom", tags, {"deleted": 1.0, "checkin_id": float(old.id)}, t)
    return [line] if line else []


# -- plan ------------------------------------------------------------------------------
@plan_app.command("templates")
def plan_templates() -> None:
    """The shipped plan templates (docs/return-to-run.md)."""
    rows = [
        {
            "name": p.name,
            "title": p.title,
            "stages": len(p.stages),
            "first": p.stages[0].prescription.text,
            "last": p.stages[-1].prescription.text,
        }
        for p in list_templates()
    ]
    print_frame(pd.DataFrame(rows), False, title="plan templates")


def _state_file(path: Path, athlete: str) -> dict[str, Any]:
    """A plan-state TOML file (like fixtures/plans/cara.toml) as a PlanState dict."""
    try:
        with open(path, "rb") as f:
            d = tomllib.load(f)
    except OSError as exc:
        fail(f"{path}: cannot read: {exc.strerror or exc}", 2)
    except tomllib.TOMLDecodeError as exc:
        fail(f"{path.name}: not valid TOML: {exc}", 2)
    if d.get("athlete", athlete) != athlete:
        fail(f"{path.name}: athlete: {d['athlete']!r} is not {athlete!r}", 2)
    d["athlete"] = athlete
    for k in ("template", "start_day"):
        if k not in d:
            fail(f"{path.name}: {k}: missing (a plan state needs template and start_day)", 2)
    return {**d, "start_day": str(d["start_day"])}


@plan_app.command("start")
def plan_start(
    athlete: Annotated[str | None, typer.Option(help=ATHLETE_HELP)] = None,
    template: Annotated[
        str | None,
        typer.Option(
            "--template",
            "--plan",
            help="A template name (sensorhub plan templates) or a plan file.",
        ),
    ] = None,
    from_day: Annotated[
        str | None,
        typer.Option("--from", help="First day of the plan, YYYY-MM-DD (default: today)."),
    ] = None,
    state_file: Annotated[
        Path | None,
        typer.Option(
            "--state",
            help="A plan-state file (template, start_day, events), e.g. fixtures/plans/cara.toml.",
        ),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace the athlete's current plan.")
    ] = False,
) -> None:
    """Start a return-to-run plan for an athlete; prints the current decision."""
    cfg, journal = state.config(), state.journal()
    a = _known_athlete(cfg, journal, athlete)
    if (template is None) == (state_file is None):
        fail("plan start: give --template NAME|FILE or --state FILE", 2)
    if journal.diary.plan_state(a) is not None and not replace:
        fail(f"{a}: already on a plan (sensorhub plan status; --replace to start again)", 1)
    try:
        if state_file is not None:
            d = _state_file(state_file, a)
            plan = load_plan(d["template"])
            new = PlanState.from_dict(d)
            source = d["template"]
        else:
            plan = load_plan(template)
            source = template
            start = _date(from_day, "--from") or _today(cfg, a)
            new = PlanState(athlete=a, template=plan.name, start_day=start)
        replay(plan, new, journal.session_table(a), days=[new.start_day])  # the state is usable
    except (ValueError, TypeError) as exc:  # PlanError is a ValueError
        fail(str(exc) if isinstance(exc, PlanError) else f"{state_file}: {exc}", 2)
    if new.start_day > _today(cfg, a) + dt.timedelta(days=7):
        fail(f"--from {new.start_day}: more than a week ahead", 2)
    toml_text = None
    if plan.source != source or Path(source).suffix == ".toml":  # a file: keep its text
        toml_text = Path(source).read_text(encoding="utf-8")
        source = str(Path(source))
    with journal.transaction():
        journal.diary.set_plan_state(a, new.to_dict(), source, toml_text)
        journal.diary.add_plan_event(a, "start", new.start_day.isoformat(), detail=plan.name)
    out.print(
        f"{a}: plan {plan.name} ({plan.title}) from {new.start_day}, {len(plan.stages)} stages"
    )
    _print_status(journal, a, None, _finish(cfg, journal, a))


def _decision_json(d: Decision) -> dict[str, Any]:
    """The ``plan status --json`` object: exactly these fields."""
    stage = {k: d.stage[k] for k in ("index", "name", "prescription")}
    return {
        "athlete": d.athlete,
        "plan": d.plan,
        "stage": stage,
        "completed": d.completed,
        "decision": d.decision,
        "reasons": list(d.reasons),
        "next": d.next,
    }


def _decision_on(
    journal: Journal, athlete: str, on: dt.date | None, run: PlanRun | None = None
) -> tuple[PlanRun, Decision]:
    """The decision of ``on`` (default: the last replayed day), from ``run`` when it has it."""
    if run is not None and run.decisions:
        found = [d for d in run.decisions if on is None or d.day == on]
        if found:
            return run, found[-1]
    try:
        run = plan_run(journal, athlete, [on] if on else None)
    except PlanError as exc:
        fail(f"plan {athlete}: {exc}", 2)
    if run is None:
        fail(
            f"{athlete}: no plan started (sensorhub plan start --athlete {athlete} --template NAME)",
            1,
        )
    if not run.decisions:
        fail(f"{athlete}: no decision yet (the plan starts {run.state.start_day})", 1)
    return run, run.decisions[-1]


def _print_status(
    journal: Journal, athlete: str, on: dt.date | None, run: PlanRun | None = None
) -> None:
    run, d = _decision_on(journal, athlete, on, run)
    st = d.stage
    done = d.completed
    out.print(f"{athlete}: {run.plan.name} ({run.plan.title}), decision of {d.day:%a %d %b %Y}")
    out.print(
        f"  stage     {st['number']} of {st['of']}: {st['name']} — {st['prescription']['text']}"
    )
    out.print(
        f"  done      {done['done']} of {done['required']} clean sessions since {done['since']}"
    )
    out.print(f"  decision  {d.decision}")
    for r in d.reasons:
        out.print(f"    - {r}")
    out.print(f"  next      {d.next['text']}")
    if not run.readiness:
        out.print("  (readiness tests not available in this journal: test gates cannot pass)")


@plan_app.command("status")
def plan_status(
    athlete: Annotated[
        str | None, typer.Option(help="Only this athlete (default: all on a plan).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="JSON (see docs/return-to-run.md).")
    ] = False,
    on: Annotated[
        str | None, typer.Option(help="The decision of this day (default: the last day with data).")
    ] = None,
) -> None:
    """Stage, what was done, the decision (progress, repeat, step-back, rest), why, and next."""
    cfg, journal = state.config(), state.journal()
    a = athlete_option(athlete)
    athletes = [a] if a else journal.diary.plan_athletes()
    if not athletes:
        fail("no athlete is on a plan (sensorhub plan start)", 1)
    day = _date(on, "--on")
    # the plan points and alerts follow the data: replay, queue, ship (quietly)
    runs = {x: _finish(cfg, journal, x, quiet=True) for x in athletes}
    if as_json:
        objs = [_decision_json(_decision_on(journal, x, day, runs[x])[1]) for x in athletes]
        out.print(json.dumps(objs[0] if a else objs, ensure_ascii=False), soft_wrap=True)
        return
    for x in athletes:
        _print_status(journal, x, day, runs[x])


def _override(
    kind: str, athlete: str | None, by: str | None, why: str | None, on: str | None, to: int | None
) -> None:
    cfg, journal = state.config(), state.journal()
    a = _known_athlete(cfg, journal, athlete)
    try:
        found = stored_plan(journal, a)
    except PlanError as exc:
        fail(f"plan {a}: {exc}", 2)
    if found is None:
        fail(f"{a}: no plan started (sensorhub plan start)", 1)
    plan, current = found
    day = _date(on, "--on") or _today(cfg, a)
    if day < current.start_day or day > _today(cfg, a):
        fail(f"--on {day}: not between the plan's start {current.start_day} and today", 2)
    try:
        ev = PlanEvent(
            day, kind, by=by or "", why=why or "", to_stage=None if to is None else to - 1
        )
        new = current.with_event(ev)
        replay(plan, new, journal.session_table(a), journal.diary.checkins_frame(a), days=[day])
    except PlanError as exc:
        fail(f"plan {kind}: {exc}", 2)
    with journal.transaction():
        journal.diary.set_plan_state(a, new.to_dict())
        detail = None if to is None else f"to stage {to}"
        journal.diary.add_plan_event(a, kind, day.isoformat(), by=by, why=why, detail=detail)
    out.print(f"{a}: {kind} on {day} recorded (by {by}: {why})")
    _print_status(journal, a, None, _finish(cfg, journal, a))


BY_HELP = "Who decides (the clinician), recorded with the override."
WHY_HELP = "Why, recorded with the override."


@plan_app.command("advance")
def plan_advance(
    athlete: Annotated[str | None, typer.Option(help=ATHLETE_HELP)] = None,
    by: Annotated[str | None, typer.Option(help=BY_HELP)] = None,
    why: Annotated[str | None, typer.Option(help=WHY_HELP)] = None,
    on: Annotated[
        str | None, typer.Option(help="Effective from this day (default: today).")
    ] = None,
    to: Annotated[
        int | None, typer.Option(help="To this stage number (1-based) instead of the next.")
    ] = None,
) -> None:
    """A clinician moves the athlete on a stage (recorded with who and why)."""
    _override("advance", athlete, by, why, on, to)


@plan_app.command("back")
def plan_back(
    athlete: Annotated[str | None, typer.Option(help=ATHLETE_HELP)] = None,
    by: Annotated[str | None, typer.Option(help=BY_HELP)] = None,
    why: Annotated[str | None, typer.Option(help=WHY_HELP)] = None,
    on: Annotated[
        str | None, typer.Option(help="Effective from this day (default: today).")
    ] = None,
    to: Annotated[
        int | None, typer.Option(help="To this stage number (1-based) instead of the previous.")
    ] = None,
) -> None:
    """A clinician moves the athlete back a stage (recorded with who and why)."""
    _override("back", athlete, by, why, on, to)
