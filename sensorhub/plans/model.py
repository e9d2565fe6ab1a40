"""Return-to-run plans as data: stages, prescriptions, gates, and the athlete's plan state.

A plan is a list of stages; a stage has a prescription (what one session is), how many
clean sessions it needs before progressing, and gates (pain limits, rest days, readiness
tests). The plan state is what the journal keeps: which plan, since when, and the
clinician's overrides. Everything else (the current stage, the decision) is recomputed from
the data by :mod:`sensorhub.plans.engine`.

Plans support a clinician's decision; they are not a diagnosis.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any


class PlanError(ValueError):
    """A bad plan file, check-in, state or override; the message is one line naming the field."""


@dataclass(frozen=True)
class Prescription:
    """What one session of a stage is. ``text`` is for people, the numbers are what is checked.

    Kinds: ``walk`` (``walk_s`` only), ``walk-run`` (``run_s`` + ``walk_s`` × ``intervals``)
    and ``run`` (``continuous_s`` of continuous running). Durations are in seconds.
    """

    text: str
    run_s: float | None = None
    walk_s: float | None = None
    intervals: int | None = None
    continuous_s: float | None = None

    @property
    def kind(self) -> str:
        if self.continuous_s is not None:
            return "run"
        if self.run_s is not None:
            return "walk-run"
        return "walk"

    @property
    def run_total_s(self) -> float:
        """Prescribed running time of one session, s."""
        if self.continuous_s is not None:
            return float(self.continuous_s)
        if self.run_s is not None:
            return float(self.run_s) * (self.intervals or 1)
        return 0.0

    @property
    def total_s(self) -> float:
        """Prescribed session duration (running + walking), s."""
        if self.kind == "walk-run":
            return (float(self.run_s or 0) + float(self.walk_s or 0)) * (self.intervals or 1)
        if self.kind == "run":
            return float(self.continuous_s or 0)
        return float(self.walk_s or 0)


@dataclass(frozen=True)
class PainRules:
    """Pain limits on the 0–10 numeric rating scale.

    ``during_max``/``after_max``: highest acceptable pain during / right after a session.
    ``morning_margin``: next-morning pain may exceed the athlete's baseline by at most this
    (0 = "back to baseline by next morning", Silbernagel et al. 2007).
    ``weekly_worsening``: block progress when the mean morning pain or stiffness of the last
    7 days is ≥ 1 point above the 7 days before (Silbernagel's "no worsening week to week").
    """

    during_max: float = 5.0
    after_max: float = 5.0
    morning_margin: float = 0.0
    weekly_worsening: bool = False


@dataclass(frozen=True)
class Stage:
    """One step of a plan: a prescription, the clean sessions it needs, and its gates.

    ``repeat``: clean sessions needed before progressing. ``within_days``: if set, those
    sessions must fall within this many days (e.g. "3 runs in 7 days").
    ``back_to_back``: ``False`` = a run the day after another run does not count.
    ``tests``: readiness tests that must be passed (latest result, at most
    ``Rules.test_valid_days`` old) before leaving this stage.
    """

    name: str
    prescription: Prescription
    repeat: int = 2
    within_days: int | None = None
    back_to_back: bool = False
    pain: PainRules = field(default_factory=PainRules)
    tests: tuple[ReadinessGate, ...] = ()


@dataclass(frozen=True)
class ReadinessGate:
    """A readiness test a stage asks for: the latest result of ``kind`` must have its
    ``metric`` column (an LSI, %) ≥ ``min_lsi_pct`` and ``pain`` ≤ ``max_pain`` (each only
    when set). LSI (limb symmetry index) = involved ÷ uninvolved × 100 %; ``metric`` names
    the column of the readiness result, e.g. ``lsi_height_pct`` of a hop test.
    """

    kind: str
    min_lsi_pct: float | None = None
    max_pain: float | None = None
    metric: str = "lsi_pct"

    def describe(self) -> str:
        parts = [self.kind]
        if self.min_lsi_pct is not None:
            parts.append(f"{self.metric} ≥ {self.min_lsi_pct:g} %")
        if self.max_pain is not None:
            parts.append(f"pain ≤ {self.max_pain:g}/10")
        return " ".join(parts)


@dataclass(frozen=True)
class Rules:
    """Plan-wide rules.

    ``max_progressions_per_week``: at most this many stage progressions in any 7 days
    (University of Delaware: "do not progress more than 2 levels in a 7-day period").
    ``flare_window_days``: two flares in this many days (within one stage) → step back.
    ``rest_days``: days a "rest" decision lasts after pain during a session over the limit.
    ``spike_pct``: a run longer (distance, else duration) than the longest of the previous
    30 days by more than this is flagged (Frandsen et al. 2025).
    ``asymmetry_tolerance_si_pct``: |GCT SI| may exceed the athlete's baseline |SI| by at
    most this many percentage points (4 % SI = 1 point of GCT balance).
    ``test_valid_days``: a readiness test result counts for this many days.
    """

    max_progressions_per_week: int | None = 2
    flare_window_days: int = 14
    rest_days: int = 2
    spike_pct: float = 10.0
    asymmetry_tolerance_si_pct: float = 4.0
    test_valid_days: int = 14


@dataclass(frozen=True)
class Plan:
    """A whole plan: named stages in order, plan-wide rules and the sources it follows."""

    name: str
    title: str
    stages: tuple[Stage, ...]
    rules: Rules = field(default_factory=Rules)
    sources: tuple[str, ...] = ()
    description: str = ""
    source: str = ""  # where it was loaded from (template name or file path)


OVERRIDES = ("advance", "back")


@dataclass(frozen=True)
class PlanEvent:
    """A clinician's override: ``advance`` or ``back`` one stage (or to ``to_stage``, 0-based),
    effective from ``day``; ``by`` (who) and ``why`` are required."""

    day: dt.date
    kind: str
    by: str
    why: str
    to_stage: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in OVERRIDES:
            raise PlanError(f"override kind: {self.kind!r} is not one of {', '.join(OVERRIDES)}")
        if not isinstance(self.day, dt.date):
            raise PlanError(f"override day: {self.day!r} is not a date")
        for name in ("by", "why"):
            if not str(getattr(self, name) or "").strip():
                raise PlanError(f"override {name}: must say {'who' if name == 'by' else 'why'}")
        if self.to_stage is not None and (not isinstance(self.to_stage, int) or self.to_stage < 0):
            raise PlanError(f"override to_stage: {self.to_stage!r} is not a stage index ≥ 0")


@dataclass(frozen=True)
class PlanState:
    """What the journal stores per athlete: the plan, when it started, overrides, baselines.

    ``baseline_*`` override the computed baselines (see :mod:`sensorhub.plans.gates`) when a
    clinician knows better, e.g. a pre-injury GCT SI from the lab.
    """

    athlete: str
    template: str
    start_day: dt.date
    start_stage: int = 0
    events: tuple[PlanEvent, ...] = ()
    baseline_pain: float | None = None
    baseline_stiffness: float | None = None
    baseline_si_pct: float | None = None

    def with_event(self, event: PlanEvent) -> PlanState:
        """A new state with one more override (states are immutable)."""
        return PlanState(**{**self.__dict__, "events": (*self.events, event)})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (dates as ISO strings), for the journal."""
        d = asdict(self)
        d["start_day"] = self.start_day.isoformat()
        d["events"] = [{**asdict(e), "day": e.day.isoformat()} for e in self.events]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PlanState:
        """Inverse of :meth:`to_dict`."""
        events = tuple(
            PlanEvent(**{**e, "day": dt.date.fromisoformat(str(e["day"]))})
            for e in d.get("events", ())
        )
        return cls(
            **{
                **d,
                "start_day": dt.date.fromisoformat(str(d["start_day"])),
                "events": events,
            }
        )
