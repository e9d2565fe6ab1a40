"""Return-to-run plans: staged walk–run progressions gated on symptoms and data.

Pure (pandas/numpy/tomllib): the only file access is reading a plan TOML file in
:func:`load_plan`. The caller builds the DataFrames from the journal:

* sessions — ``id``, ``start`` (UTC), ``day`` (local date), ``sport``, ``duration_s``,
  ``distance_m`` and, when present, ``gct_balance_left_pct``, ``gct_si_pct``, ``run_time_s``,
  ``walk_time_s``, ``run_intervals``, ``longest_run_s`` (from :func:`run_walk_segments`);
* check-ins — :data:`CHECKIN_COLUMNS` (see :class:`Checkin`, :func:`checkins_frame`);
* readiness tests — ``kind``, ``day``, ``lsi_pct``, ``pain``;
* the :class:`PlanState` (plan, start day, clinician overrides).

Plans support a clinician's decision; they never make a diagnosis.
"""

from .checkins import CHECKIN_COLUMNS, SIDES, SITES, WHEN, Checkin, checkins_frame, parse_checkin
from .engine import DECISIONS, Decision, evaluate, replay
from .gates import SESSION_COLUMNS, Baseline
from .loader import list_templates, load_plan, parse_plan, template_names
from .model import (
    PainRules,
    Plan,
    PlanError,
    PlanEvent,
    PlanState,
    Prescription,
    ReadinessGate,
    Rules,
    Stage,
)
from .segments import run_walk_segments

__all__ = [
    "CHECKIN_COLUMNS",
    "DECISIONS",
    "SESSION_COLUMNS",
    "SIDES",
    "SITES",
    "WHEN",
    "Baseline",
    "Checkin",
    "Decision",
    "PainRules",
    "Plan",
    "PlanError",
    "PlanEvent",
    "PlanState",
    "Prescription",
    "ReadinessGate",
    "Rules",
    "Stage",
    "checkins_frame",
    "evaluate",
    "list_templates",
    "load_plan",
    "parse_checkin",
    "parse_plan",
    "replay",
    "run_walk_segments",
    "template_names",
]
