"""The decision: "am I ready for the next step, and if not, why?"

:func:`replay` walks the plan day by day from its start: clinician overrides in the state
move the stage on their day; at the end of each day the data up to that day give a
:class:`Decision`, and a ``progress`` or ``step-back`` moves the stage from the next day.
:func:`evaluate` is the last day of that replay. Nothing but the start and the overrides is
stored, so a late check-in or a re-ingested file changes the history consistently.

Rules, most severe first:

* ``rest`` — pain during a session above the stage's limit: stop, see your clinician; it
  lasts ``rules.rest_days`` days after that session.
* ``step-back`` — two flares (see :mod:`sensorhub.plans.gates`) within
  ``rules.flare_window_days`` in the current stage: go back one stage (at the first stage:
  ``rest``).
* ``progress`` — the stage's required number of clean sessions since its start (or since
  its last flare or asymmetry worsening), no session waiting for its next-morning check-in,
  the readiness tests passed, no week-to-week worsening, and fewer than
  ``rules.max_progressions_per_week`` progressions in the last 7 days.
* ``repeat`` — otherwise: do this stage's session again, with the reasons.

Flags (a too-long single session, more running than prescribed, a missing check-in) add
reasons without changing the decision. Plans support a clinician's decision, never replace it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from . import gates
from .gates import DAY, Baseline, History, SessionCheck, fmt_day
from .model import Plan, PlanError, PlanEvent, PlanState, Stage

DECISIONS = ("progress", "repeat", "step-back", "rest")
FLAG_DAYS = 7  # flags of stage sessions this recent are repeated in the reasons


@dataclass(frozen=True)
class Decision:
    """One day's answer. ``to_dict()``/``to_json()`` give the JSON the CLI and InfluxDB use."""

    athlete: str
    plan: str
    day: dt.date
    stage: dict[str, Any]
    completed: dict[str, Any]
    decision: str
    reasons: list[str]
    next: dict[str, Any]
    baseline: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["day"] = self.day.isoformat()
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, default=str)


def _stage_dict(plan: Plan, i: int) -> dict[str, Any]:
    st = plan.stages[i]
    rx = {k: v for k, v in asdict(st.prescription).items() if v is not None}
    rx["kind"] = st.prescription.kind
    return {
        "index": i,
        "number": i + 1,
        "of": len(plan.stages),
        "name": st.name,
        "prescription": rx,
    }


def _stage_sessions(stage: Stage, h: History, entered: dt.date, day: dt.date) -> list[dict]:
    """The sessions that count for ``stage``: on foot for a walking stage, else runs."""
    walk = stage.prescription.kind == "walk"
    return [
        s
        for s in h.sessions
        if entered <= s["day"] <= day and (s["sport"] in gates.FOOT_SPORTS if walk else s["is_run"])
    ]


def _count(checks: list[SessionCheck]) -> tuple[list[SessionCheck], dt.date | None]:
    """Clean sessions since the last one that reset the count, and that reset's day."""
    reset_at = max((i for i, c in enumerate(checks) if c.resets), default=-1)
    since = checks[reset_at].day if reset_at >= 0 else None
    return [c for c in checks[reset_at + 1 :] if c.counted], since


def _not_before(stage: Stage, h: History, day: dt.date) -> dt.date:
    """The first day the next session may be: tomorrow, or later to keep a rest day."""
    return day + (2 if not stage.back_to_back and h.runs_on(day) else 1) * DAY


def _next(
    plan: Plan, i: int | None, not_before: dt.date | None, text: str | None = None
) -> dict[str, Any]:
    if i is None:
        return {"stage": None, "name": None, "prescription": None, "not_before": None, "text": text}
    st = plan.stages[i]
    when = f", not before {fmt_day(not_before)}" if not_before else ""
    return {
        "stage": i,
        "name": st.name,
        "prescription": st.prescription.text,
        "not_before": not_before.isoformat() if not_before else None,
        "text": text
        or f"{st.prescription.text} (stage {i + 1} of {len(plan.stages)}, {st.name}){when}",
    }


def _decide(
    plan: Plan,
    state: PlanState,
    i: int,
    entered: dt.date,
    day: dt.date,
    h: History,
    progress_days: list[dt.date],
) -> Decision:
    """The decision for ``day`` in stage ``i`` (entered on ``entered``)."""
    stage, rules = plan.stages[i], plan.rules
    base = gates.baseline(state, h, day)
    stage_s = _stage_sessions(stage, h, entered, day)
    checks = [gates.check_session(stage, rules, s, h, base, day) for s in stage_s]
    clean, since = _count(checks)
    done = len(clean)
    reasons: list[str] = []
    if checks:  # what the latest session did (a pending one may already fail other gates)
        reasons += checks[-1].reasons
    for c in checks:
        if c.day >= day - dt.timedelta(days=FLAG_DAYS):
            reasons += [f for f in c.flags if f not in reasons]
    pending = [c for c in checks if c.pending]
    if pending:
        reasons.append(
            f"the session on {fmt_day(pending[-1].day)} counts once the next-morning check-in "
            f"on {fmt_day(pending[-1].day + dt.timedelta(days=1))} is in"
        )
    completed = {
        "done": done,
        "required": stage.repeat,
        "sessions": [c.id for c in clean],
        "since": since.isoformat() if since else entered.isoformat(),
    }

    def decision(kind: str, why: list[str], nxt: dict[str, Any]) -> Decision:
        return Decision(
            athlete=state.athlete,
            plan=plan.name,
            day=day,
            stage=_stage_dict(plan, i),
            completed=completed,
            decision=kind,
            reasons=why,
            next=nxt,
            baseline=base.to_dict(),
        )

    rest = [c for c in checks if c.rest and day <= c.day + dt.timedelta(days=rules.rest_days)]
    if rest:
        back = rest[-1].day + dt.timedelta(days=rules.rest_days + 1)
        nxt = _next(
            plan,
            i,
            back,
            f"rest; see your clinician before running again (not before {fmt_day(back)})",
        )
        return decision("rest", reasons, nxt)

    window = day - dt.timedelta(days=rules.flare_window_days - 1)
    flares = [c for c in checks if c.flare and c.day >= window]
    if len(flares) >= 2:
        days = " and ".join(fmt_day(c.day) for c in flares[-2:])
        if i == 0:
            why = f"two flares ({days}) at the first stage — rest and see your clinician"
            return decision("rest", [*reasons, why], _next(plan, 0, None, why))
        why = f"two flares within {rules.flare_window_days} days (after the sessions on {days}) — step back to stage {i}"
        nb = _not_before(plan.stages[i - 1], h, day)
        return decision("step-back", [*reasons, why], _next(plan, i - 1, nb))

    blockers = []
    worse = gates.weekly_worsening(h, day) if stage.pain.weekly_worsening else None
    if worse:
        blockers.append(worse)
    if done >= stage.repeat:
        last = clean[-stage.repeat :]
        if stage.within_days and (last[-1].day - last[0].day).days >= stage.within_days:
            blockers.append(
                f"the stage needs {stage.repeat} clean sessions within {stage.within_days} days; "
                f"your last {stage.repeat} span {(last[-1].day - last[0].day).days + 1} days"
            )
        blockers += gates.readiness(stage, rules, h, day)
        recent = [d for d in progress_days if d > day - dt.timedelta(days=7)]
        cap = rules.max_progressions_per_week
        if cap is not None and len(recent) >= cap:
            blockers.append(
                f"you already progressed {len(recent)} times in the last 7 days (at most {cap}) "
                "— repeat this stage first"
            )
        if pending:
            blockers.append("wait for the next-morning check-in before progressing")
        if not blockers:
            why = f"{done} of {stage.repeat} clean sessions done — progress"
            if i + 1 == len(plan.stages):
                text = "plan complete — agree the next step with your clinician"
                return decision("progress", [*reasons, why], _next(plan, None, None, text))
            nb = _not_before(plan.stages[i + 1], h, day)
            return decision("progress", [*reasons, why], _next(plan, i + 1, nb))
    since_txt = f" since the session on {fmt_day(since)}" if since else ""
    count = f"{done} of {stage.repeat} clean sessions done{since_txt} — repeat this stage"
    return decision(
        "repeat", [*reasons, *blockers, count], _next(plan, i, _not_before(stage, h, day))
    )


def _override(plan: Plan, i: int, ev: PlanEvent) -> int:
    """The stage index after a clinician override."""
    step = 1 if ev.kind == "advance" else -1
    target = ev.to_stage if ev.to_stage is not None else i + step
    if not 0 <= target < len(plan.stages):
        raise PlanError(
            f"override {ev.kind} on {ev.day.isoformat()}: stage {target + 1} does not exist "
            f"(the plan has {len(plan.stages)})"
        )
    return target


def replay(
    plan: Plan,
    state: PlanState,
    sessions: pd.DataFrame,
    checkins: pd.DataFrame | None = None,
    tests: pd.DataFrame | None = None,
    days: Iterable[dt.date] | None = None,
) -> list[Decision]:
    """The decision of each day in ``days`` (default: every day from the plan's start to the
    last session or check-in), walking the plan day by day from ``state.start_day``."""
    if not 0 <= state.start_stage < len(plan.stages):
        raise PlanError(
            f"plan state start_stage: {state.start_stage} is not a stage of {plan.name}"
        )
    h = History.build(sessions, checkins, tests)
    wanted = sorted(set(days)) if days is not None else None
    if wanted is None:
        last = max(
            [state.start_day, *(s["day"] for s in h.sessions), *(c["day"] for c in h.checkins)]
        )
        wanted = [
            state.start_day + dt.timedelta(days=k) for k in range((last - state.start_day).days + 1)
        ]
    if not wanted or wanted[-1] < state.start_day:
        return []
    events = sorted(state.events, key=lambda e: e.day)
    i, entered, progress_days, out = state.start_stage, state.start_day, [], []
    todo = set(wanted)
    day = state.start_day
    while day <= wanted[-1]:
        for ev in (e for e in events if e.day == day):
            i, entered = _override(plan, i, ev), day
            if ev.kind == "advance":
                progress_days.append(day)
        dec = _decide(plan, state, i, entered, day, h, progress_days)
        if day in todo:
            out.append(_with_overrides(dec, events, day))
        if dec.decision == "progress" and i + 1 < len(plan.stages):
            i, entered = i + 1, day + dt.timedelta(days=1)
            progress_days.append(day)
        elif dec.decision == "step-back":
            i, entered = i - 1, day + dt.timedelta(days=1)
        day += dt.timedelta(days=1)
    return out


def _with_overrides(dec: Decision, events: list[PlanEvent], day: dt.date) -> Decision:
    """Mention a clinician's override made on this day first in the reasons."""
    todays = [e for e in events if e.day == day]
    if not todays:
        return dec
    said = [
        f"{e.by} moved you {'on' if e.kind == 'advance' else 'back'} a stage on {fmt_day(day)}: {e.why}"
        for e in todays
    ]
    return Decision(**{**dec.__dict__, "reasons": [*said, *dec.reasons]})


def evaluate(
    plan: Plan,
    state: PlanState,
    sessions: pd.DataFrame,
    checkins: pd.DataFrame | None = None,
    tests: pd.DataFrame | None = None,
    today: dt.date | None = None,
) -> Decision:
    """Today's decision (``today`` defaults to the last day with data). See the module docstring."""
    if today is None:
        days = None
    else:
        if today < state.start_day:
            raise PlanError(
                f"today: {today.isoformat()} is before the plan's start {state.start_day.isoformat()}"
            )
        days = [today]
    return replay(plan, state, sessions, checkins, tests, days)[-1]


__all__ = ["DECISIONS", "Baseline", "Decision", "evaluate", "replay"]
