"""Return-to-run plans over the journal: replay, the ``plan`` points and the plan alerts.

:func:`plan_run` builds the engine's inputs from the journal (sessions with their summary
fields, the symptom diary, readiness results) and replays the athlete's plan day by day
(:func:`sensorhub.plans.replay`). :class:`PlanAlerts` stores what a replay says:

* one ``plan`` point per athlete-day of the plan (tags ``athlete``, ``plan``; fields
  ``stage_index`` (0-based), ``stage_name``, ``decision``, ``completed``, ``required``,
  ``reasons`` joined with "; "), at the athlete's local midnight — idempotent, so every
  refresh writes every plan day again;
* alerts, deduplicated by (athlete, rule, day) in the ``alerts`` table and delivered like the
  other rules' (``alert`` points, webhook queue): ``plan_step_back`` (warning) on a day whose
  decision is ``step-back``, an event that clears the next day; ``plan_pain`` (critical) for
  a run of ``rest`` days (pain rules broken), open until the rest is over.

The messages describe what happened and what the plan says; they never make a diagnosis.
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..config import Config
from ..plans import Decision, Plan, PlanError, PlanState, load_plan, parse_plan, replay
from ..store import Journal, point_line
from .engine import AlertEvent, alert_line, webhook_body

STEP_BACK, PAIN = "plan_step_back", "plan_pain"
SEVERITY = {STEP_BACK: "warning", PAIN: "critical"}


@dataclass
class PlanRun:
    """A replayed plan: the plan, the athlete's state and one decision per day."""

    athlete: str
    plan: Plan
    state: PlanState
    decisions: list[Decision]
    checkins: pd.DataFrame
    readiness: bool  # readiness results were available to the engine


@dataclass
class PlanRefresh:
    """What :meth:`PlanAlerts.refresh` stored."""

    run: PlanRun | None
    points: int = 0
    events: list[AlertEvent] = field(default_factory=list)


def stored_plan(journal: Journal, athlete: str) -> tuple[Plan, PlanState] | None:
    """The athlete's plan and state from the journal (None without a plan).

    A plan started from a file is parsed from the text stored with it."""
    row = journal.diary.plan_state(athlete)
    if row is None:
        return None
    state = PlanState.from_dict(row["state"])
    if row["plan_toml"]:
        plan = parse_plan(tomllib.loads(row["plan_toml"]), row["plan_source"])
    else:
        plan = load_plan(row["plan_source"])
    return plan, state


def engine_inputs(
    journal: Journal, athlete: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """Sessions (summary fields as columns, ``start`` UTC), check-ins and readiness results
    (None when the journal has no readiness store method) of one athlete."""
    sessions = journal.session_table(athlete)
    checkins = journal.diary.checkins_frame(athlete)
    results = getattr(getattr(journal, "readiness", None), "results", None)
    tests = results(athlete) if callable(results) else None
    return sessions, checkins, tests


def plan_run(journal: Journal, athlete: str, days: list[dt.date] | None = None) -> PlanRun | None:
    """Replay the athlete's plan (every day from its start to the last day with data or an
    override, or ``days``); None without a plan. PlanError when the stored plan or an override is bad."""
    found = stored_plan(journal, athlete)
    if found is None:
        return None
    plan, state = found
    sessions, checkins, tests = engine_inputs(journal, athlete)
    if days is None:  # up to the last day with data or with a clinician's override
        last = max(
            [state.start_day, *(e.day for e in state.events)]
            + [dt.date.fromisoformat(str(x)) for x in (*sessions.get("day", []), *checkins["day"])]
        )
        days = [
            state.start_day + dt.timedelta(days=k) for k in range((last - state.start_day).days + 1)
        ]
    decisions = replay(plan, state, sessions, checkins, tests, days)
    return PlanRun(athlete, plan, state, decisions, checkins, tests is not None)


def day_start_utc(day: dt.date, tz: str) -> pd.Timestamp:
    """The UTC time of the athlete's local midnight starting ``day``."""
    return pd.Timestamp(day).tz_localize(tz, nonexistent="shift_forward").tz_convert("UTC")


def plan_lines(run: PlanRun, tz: str) -> list[str]:
    """The ``plan`` points of a replay, one per day."""
    lines = []
    for d in run.decisions:
        fields = {
            "stage_index": float(d.stage["index"]),
            "stage_name": d.stage["name"],
            "decision": d.decision,
            "completed": float(d.completed["done"]),
            "required": float(d.completed["required"]),
            "reasons": "; ".join(d.reasons),
        }
        tags = {"athlete": run.athlete, "plan": run.plan.name}
        lines.append(point_line("plan", tags, fields, day_start_utc(d.day, tz)))
    return [ln for ln in lines if ln]


@dataclass(frozen=True)
class PlanEpisode:
    """A plan alert as the replay says it should be: ``first``..``last`` day of the episode,
    ``ended`` when a later replayed day is no longer in it."""

    rule: str
    first: dt.date
    last: dt.date
    ended: bool
    value: float | None
    threshold: float | None
    message: str


def _day_pain(checkins: pd.DataFrame, day: dt.date, whens: tuple[str, ...]) -> float | None:
    if checkins.empty:
        return None
    sel = checkins[(checkins["day"] == day.isoformat()) & checkins["when"].isin(whens)]
    return float(sel["pain"].max()) if len(sel) else None


def _message(d: Decision) -> str:
    """What happened (the day's reasons) and what the plan says, in one line."""
    said = [r.split(" — ")[0] for r in d.reasons if "pain" in r or "flare" in r]
    nxt = d.next
    if d.decision == "step-back":
        tail = f"the plan says step back to stage {nxt['stage'] + 1} ({nxt['name']})"
    else:
        tail = f"the plan says {nxt['text']}"
    return f"{'; '.join(said)}: {tail}" if said else tail


def plan_episodes(run: PlanRun) -> list[PlanEpisode]:
    """Step-back days and runs of rest days of a replay, most recent last."""
    eps: list[PlanEpisode] = []
    decs = run.decisions
    for k, d in enumerate(decs):
        stage = run.plan.stages[d.stage["index"]]
        if d.decision == "step-back":
            value = _day_pain(run.checkins, d.day, ("next-morning", "rest-day", "after"))
            threshold = d.baseline["pain"] + stage.pain.morning_margin
            eps.append(PlanEpisode(STEP_BACK, d.day, d.day, True, value, threshold, _message(d)))
        elif d.decision == "rest" and (k == 0 or decs[k - 1].decision != "rest"):
            end = k
            while end + 1 < len(decs) and decs[end + 1].decision == "rest":
                end += 1
            pains = [_day_pain(run.checkins, x.day, ("during",)) for x in decs[k : end + 1]]
            value = max((p for p in pains if p is not None), default=None)
            ended = end + 1 < len(decs)
            msg = _message(d)
            eps.append(
                PlanEpisode(PAIN, d.day, decs[end].day, ended, value, stage.pain.during_max, msg)
            )
    return eps


class PlanAlerts:
    """Replay plans and store their ``plan`` points and alerts in one journal.

    Args:
        cfg: athletes' time zones, alert delivery settings, InfluxDB batch size.
        now: the current time (tests); decides which events are recent enough to push.
    """

    def __init__(self, cfg: Config, journal: Journal, now: pd.Timestamp | None = None) -> None:
        self.cfg = cfg
        self.journal = journal
        self.now = now

    def refresh(self, athlete: str, in_transaction: bool = False) -> PlanRefresh:
        """Replay the athlete's plan; queue every plan day's point and reconcile the alerts.
        No plan: nothing to do. PlanError when the stored plan cannot be replayed."""
        run = plan_run(self.journal, athlete)
        if run is None:
            return PlanRefresh(None)
        tz = self.cfg.athlete(athlete).tz
        lines = plan_lines(run, tz)
        with nullcontext() if in_transaction else self.journal.transaction():
            self.journal.outbox.enqueue("plan", lines, self.cfg.influx.batch_points)
            events = self._reconcile(athlete, tz, plan_episodes(run)) if self._enabled() else []
            self._deliver(events)
        return PlanRefresh(run, len(lines), events)

    def _enabled(self) -> bool:
        return self.cfg.alerts.enabled

    def _reconcile(self, athlete: str, tz: str, eps: list[PlanEpisode]) -> list[AlertEvent]:
        store = self.journal.alerts
        events: list[AlertEvent] = []
        wanted: set[tuple[str, str]] = set()
        for ep in eps:
            opened = day_start_utc(ep.first, tz)
            wanted.add((ep.rule, opened.isoformat()))
            row = next(
                (
                    r
                    for r in store.of_rule(athlete, ep.rule)
                    if r["opened_at"] == opened.isoformat()
                ),
                None,
            )
            cleared = day_start_utc(ep.last + dt.timedelta(days=1), tz) if ep.ended else None
            if row is None:
                events.append(self._open(athlete, ep, opened, cleared))
            elif row["cleared_at"] is None and cleared is not None:
                store.clear(row["id"], cleared, None)
                if ep.rule == PAIN:
                    events.append(self._event(row["id"], athlete, ep, "cleared", cleared))
        for rule in SEVERITY:  # episodes the data no longer show (a check-in edited, deleted)
            for r in store.of_rule(athlete, rule):
                if r["cleared_at"] is None and (rule, r["opened_at"]) not in wanted:
                    t = self._now()
                    store.clear(r["id"], t, None)
                    events.append(
                        AlertEvent(
                            r["id"],
                            athlete,
                            rule,
                            r["severity"],
                            "cleared",
                            t,
                            None,
                            r["threshold"] or 0.0,
                            r["message"] + " (no longer in the diary)",
                        )
                    )
        return events

    def _open(
        self, athlete: str, ep: PlanEpisode, opened: pd.Timestamp, cleared: pd.Timestamp | None
    ) -> AlertEvent:
        row: dict[str, Any] = {
            "rule": ep.rule,
            "severity": SEVERITY[ep.rule],
            "opened_at": opened,
            "value": ep.value,
            "threshold": ep.threshold,
            "peak": ep.value,
            "message": ep.message,
            "ref": ep.first.isoformat(),
            # a step-back is an event: stored as cleared the next day, pushed once
            "cleared_at": cleared if ep.rule == STEP_BACK else None,
        }
        alert_id = self.journal.alerts.add(athlete, row)
        if ep.rule == PAIN and cleared is not None:
            self.journal.alerts.clear(alert_id, cleared, None)
        return self._event(alert_id, athlete, ep, "open", opened)

    def _event(
        self, alert_id: int, athlete: str, ep: PlanEpisode, status: str, t: pd.Timestamp
    ) -> AlertEvent:
        threshold = ep.threshold if ep.threshold is not None else 0.0
        return AlertEvent(
            alert_id,
            athlete,
            ep.rule,
            SEVERITY[ep.rule],
            status,
            t,
            ep.value,
            threshold,
            ep.message,
        )

    def _deliver(self, events: list[AlertEvent]) -> None:
        """``alert`` points into the outbox; recent events into the webhook queue (as the
        alert engine does, :meth:`sensorhub.alerts.AlertEngine._deliver`)."""
        ac = self.cfg.alerts
        lines = [ln for ln in (alert_line(e) for e in events) if ln]
        self.journal.outbox.enqueue("alert", lines, self.cfg.influx.batch_points)
        if not ac.webhook_url:
            return
        now = self._now()
        max_age = pd.Timedelta(hours=ac.notify_max_age_h)
        for e in events:
            if ac.notify_max_age_h <= 0 or now - e.time <= max_age:
                self.journal.alerts.queue_webhook(e.alert_id, json.dumps(webhook_body(e)), now)

    def _now(self) -> pd.Timestamp:
        return self.now if self.now is not None else pd.Timestamp.now(tz="UTC")


__all__ = [
    "PAIN",
    "STEP_BACK",
    "PlanAlerts",
    "PlanEpisode",
    "PlanError",
    "PlanRefresh",
    "PlanRun",
    "engine_inputs",
    "plan_episodes",
    "plan_lines",
    "plan_run",
    "stored_plan",
]
