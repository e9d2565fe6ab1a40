"""Return-to-run parts of the range report: the plan's current stage and decision, the days
that changed a stage, the pain timeline from the check-ins, and the readiness tests.

Decisions are replayed from the journal (:func:`sensorhub.alerts.plans.plan_run`), so the
report says what ``sensorhub plan status`` says. Check-ins come from the symptom diary
(``journal.diary``), tests from ``journal.readiness``. The wording describes what the plan's
rules say; a plan supports a clinician's decision and makes no diagnosis.
"""

from __future__ import annotations

from dataclasses import replace
from html import escape

import pandas as pd

from ..alerts.plans import PlanRun, plan_run
from ..plans import Decision, PlanError
from ..store import Journal
from .svg import Chart

DECISION_COLOUR = {"progress": "#2ca02c", "repeat": "#ff7f0e", "step-back": "#d62728"}
DECISION_COLOUR["rest"] = "#d62728"
DECISION_WORDS = {
    "progress": "move on to the next stage",
    "repeat": "repeat this stage",
    "step-back": "go back one stage",
    "rest": "rest from running",
}
#: check-in moments on the pain timeline (rest-day mornings in grey), each at a local hour of its day (so the three of
#: one day sit side by side) and in its colour
PAIN_WHENS = {
    "rest-day": (10, "#aaaaaa"),
    "next-morning": (8, "#9467bd"),
    "during": (12, "#d62728"),
    "after": (16, "#ff7f0e"),
}
LSI_LINE = 90.0  # %: the symmetry mark most return-to-run guidance uses
LSI_LABEL = {
    "lsi_height_pct": "hop height",
    "lsi_rsi_pct": "reactive strength index",
    "lsi_reps_pct": "heel-raise repetitions",
    "lsi_rms_pct": "sway (RMS)",
    "lsi_jerk_pct": "sway jerk",
    "lsi_path_pct": "sway path",
    "lsi_area_pct": "sway area",
}
#: per kind: the per-leg figures charted (key in ``legs``, label, unit)
LEG_FIGURES = {
    "hop": [("height_cm", "hop height", "cm"), ("rsi", "reactive strength index", "")],
    "heel-raise": [("reps", "repetitions to fatigue", "reps")],
    "balance": [("rms_mg", "sway RMS", "mg"), ("path", "sway path", "")],
}
KIND_TITLE = {"hop": "Hop test", "heel-raise": "Heel-raise test", "balance": "Balance test"}
DISCLAIMER = (
    "The plan applies its template's rules to the check-ins, sessions and tests in the journal. "
    "It supports a clinician's decision; it does not replace it and makes no diagnosis."
)


def return_to_run(
    journal: Journal,
    athlete: str,
    t0: pd.Timestamp,
    t1: pd.Timestamp,
    tz: str,
    span: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> str:
    """The "Return to run" section ("" when the athlete has no plan): the stage and decision
    on the range's last day with its reasons, the days that changed a stage, the pain timeline. ``t0``,
    ``t1``: the report range (UTC-aware); ``span``: the charts' time axis (default the range)."""
    span = span or (t0, t1)
    try:
        run = plan_run(journal, athlete)
    except PlanError as exc:
        return f'<h2>Return to run</h2><p class="note">The plan cannot be replayed: {escape(str(exc))}</p>'
    if run is None or not run.decisions:
        return ""
    last_day = (t1 - pd.Timedelta(days=1)).tz_convert(tz).date()
    decisions = [d for d in run.decisions if d.day <= last_day]
    if not decisions:
        return (
            '<h2 id="return-to-run">Return to run</h2><p class="note">The plan '
            f"{escape(run.plan.name)} starts on {d_fmt(run.state.start_day)}, after this period.</p>"
        )
    run = replace(run, decisions=decisions)
    parts = [
        '<h2 id="return-to-run">Return to run</h2>',
        f'<p class="note">{escape(DISCLAIMER)}</p>',
        current(run),
        "<h3>Stage changes</h3>" + stage_table(run.decisions, tz),
        pain_chart(run.checkins, *span, tz),
        stage_chart(run.decisions, *span, tz),
    ]
    return "".join(parts)


def current(run: PlanRun) -> str:
    """The latest day's stage, decision, reasons and what comes next, in plain words."""
    d = run.decisions[-1]
    colour = DECISION_COLOUR.get(d.decision, "#555")
    stage = f"{d.stage['name']} (stage {d.stage['number']} of {d.stage['of']})"
    rx = d.stage.get("prescription", {}).get("text", "")
    reasons = "".join(f"<li>{escape(r)}</li>" for r in d.reasons)
    nxt = d.next.get("text") if d.next else None
    return (
        f"<p>Plan <b>{escape(run.plan.title or run.plan.name)}</b> ({escape(run.plan.name)}), "
        f"started {d_fmt(run.state.start_day)}. On <b>{d_fmt(d.day)}</b> the athlete is on "
        f"<b>{escape(stage)}</b>{' — ' + escape(rx) if rx else ''}.</p>"
        f'<p>The plan says: <b style="color:{colour}">{escape(d.decision)}</b> '
        f"({escape(DECISION_WORDS.get(d.decision, d.decision))}), "
        f"{d.completed['done']} of {d.completed['required']} clean sessions in this stage.</p>"
        f"<p>Because:</p><ul>{reasons}</ul>" + (f"<p>Next: {escape(nxt)}.</p>" if nxt else "")
    )


def d_fmt(day) -> str:
    """A date as "Sun 15 Nov 2026"."""
    return escape(pd.Timestamp(day).strftime("%a %-d %b %Y"))


def stage_changes(decisions: list[Decision]) -> list[Decision]:
    """The days that moved or reset a stage: progress, step-back, rest, and repeats that
    started the stage's count again (a flare), in day order."""
    out, since = [], None
    for d in decisions:
        reset = since is not None and d.completed.get("since") not in (since, None)
        reset = reset and d.decision == "repeat" and d.completed.get("done") == 0
        if d.decision != "repeat" or reset:
            out.append(d)
        since = d.completed.get("since")
        if d.decision != "repeat":
            since = None
    return out


def stage_table(decisions: list[Decision], tz: str) -> str:
    """Table: day, stage, decision, the plan's reasons (one row per stage change)."""
    rows = stage_changes(decisions)
    if not rows:
        return '<p class="note">No stage changes yet.</p>'
    body = "".join(
        f'<tr><td style="white-space:nowrap">{d_fmt(d.day)}</td>'
        f'<td style="text-align:left;white-space:nowrap">{escape(d.stage["name"])}</td>'
        f'<td style="color:{DECISION_COLOUR.get(d.decision, "#222")};font-weight:600">'
        f"{escape(d.decision)}</td>"
        f'<td style="text-align:left">{escape("; ".join(d.reasons))}</td></tr>'
        for d in rows
    )
    head = "<tr><th>day</th><th>stage</th><th>decision</th><th>why</th></tr>"
    return f"<table>{head}{body}</table>"


def pain_chart(checkins: pd.DataFrame, t0: pd.Timestamp, t1: pd.Timestamp, tz: str) -> str:
    """Pain 0–10 during, after and the morning after, per check-in, over the report range."""
    chart = Chart(
        "Pain timeline: check-ins", "0–10", y_min=0, y_max=10, tz=tz, x_range=(t0, t1),
        empty="no check-ins in this period (sensorhub checkin)",
    )  # fmt: skip
    if not checkins.empty:
        days = pd.to_datetime(checkins["day"].astype(str))
        for when, (hour, colour) in PAIN_WHENS.items():
            c = checkins[(checkins["when"] == when) & checkins["pain"].notna()]
            x = pd.DatetimeIndex(days[c.index] + pd.Timedelta(hours=hour)).tz_localize(
                tz, ambiguous="NaT", nonexistent="shift_forward"
            )
            keep = (x >= t0) & (x < t1)
            if keep.any():
                chart.add(when, x[keep], c["pain"].to_numpy(float)[keep], "points", colour)
    return chart.svg()


def stage_chart(decisions: list[Decision], t0: pd.Timestamp, t1: pd.Timestamp, tz: str) -> str:
    """The plan's stage number per day (a step up on the day after a progress)."""
    x = pd.DatetimeIndex([pd.Timestamp(d.day) for d in decisions]).tz_localize(
        tz, ambiguous="NaT", nonexistent="shift_forward"
    )
    keep = (x >= t0) & (x < t1)
    n = decisions[0].stage["of"]
    chart = Chart("Plan stage per day", f"1–{n}", height=150, y_min=1, y_max=n, tz=tz)
    chart.x_range = (t0, t1)
    numbers = [float(d.stage["number"]) for d in decisions]
    return chart.add("stage", x[keep], pd.Series(numbers)[keep], "line", "#1f77b4").svg()


def focus(
    journal: Journal, athlete: str, t0: pd.Timestamp, t1: pd.Timestamp, tz: str
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The time axis of the return-to-run charts: from the local midnight of the first plan
    day, check-in or readiness test (not before ``t0``) to ``t1``."""
    firsts = [pd.Timestamp(d).tz_localize(tz) for d in journal.diary.checkins_frame(athlete)["day"]]
    row = journal.diary.plan_state(athlete)
    if row is not None:
        firsts.append(pd.Timestamp(row["state"]["start_day"]).tz_localize(tz))
    tests = journal.readiness.list(athlete)
    firsts += [t.tz_convert(tz).normalize() for t in tests["time"]]
    inside = [f for f in firsts if f >= t0 and f < t1]
    return (min(inside) - pd.Timedelta(days=1), t1) if inside else (t0, t1)


# -- readiness tests -------------------------------------------------------------------------
def readiness_section(
    journal: Journal,
    athlete: str,
    t0: pd.Timestamp,
    t1: pd.Timestamp,
    tz: str,
    span: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> str:
    """The "Readiness tests" section: per test kind, each leg's figures over time and the LSI
    with the 90 % line; "" when the athlete has no tests at all. ``span``: the charts' time
    axis (default the range)."""
    span = span or (t0, t1)
    tests = journal.readiness.list(athlete)
    if tests.empty:
        return ""
    tests = tests[(tests["time"] >= t0) & (tests["time"] < t1)]
    parts = [
        '<h2 id="readiness-tests">Readiness tests</h2>',
        '<p class="note">LSI (limb symmetry index) = involved leg as % of the other (smaller '
        "as % of larger when no leg is named); the line marks 90 %, the symmetry mark most "
        "return-to-run guidance uses. Tests support a clinician's judgement; they are not a "
        "diagnosis (docs/readiness.md).</p>",
    ]
    if tests.empty:
        return "".join(parts) + '<p class="note">No readiness tests in this period.</p>'
    parts.append(tests_table(tests, tz))
    for kind, g in tests.groupby("kind", sort=False):
        parts.append(f"<h3>{escape(KIND_TITLE.get(kind, kind))}</h3>")
        parts += leg_charts(kind, g, *span, tz)
        parts.append(lsi_chart(g, *span, tz))
    return "".join(parts)


def _lsi_cols(g: pd.DataFrame) -> list[str]:
    return [c for c in LSI_LABEL if c in g and g[c].notna().any()]


def tests_table(tests: pd.DataFrame, tz: str) -> str:
    """One row per test: day, kind, placement, involved leg, each LSI, pain."""
    rows = []
    for _, r in tests.iterrows():
        lsi = ", ".join(
            f"{LSI_LABEL[c]} {r[c]:.0f} %" for c in LSI_LABEL if c in r and pd.notna(r[c])
        )
        inv = {"L": "left", "R": "right"}.get(r["involved"], "not named")
        pain = f"{r['pain']:.0f}/10" if pd.notna(r["pain"]) else "-"
        rows.append(
            f"<tr><td>{escape(r['time'].tz_convert(tz).strftime('%Y-%m-%d %H:%M'))}</td>"
            f"<td>{escape(r['kind'])}</td><td>{escape(r['placement'])}</td><td>{inv}</td>"
            f'<td style="text-align:left">{escape(lsi)}</td><td>{pain}</td></tr>'
        )
    head = (
        f"<tr><th>time ({escape(tz)})</th><th>test</th><th>pod</th><th>involved leg</th>"
        "<th>LSI</th><th>pain</th></tr>"
    )
    return f"<table>{head}{''.join(rows)}</table>"


def leg_charts(kind: str, g: pd.DataFrame, t0: pd.Timestamp, t1: pd.Timestamp, tz: str) -> list:
    """Each leg's main figures of one test kind over time (left blue, right red)."""
    out = []
    x = pd.DatetimeIndex(g["time"])
    for key, label, unit in LEG_FIGURES.get(kind, []):
        chart = Chart(
            f"{label[0].upper()}{label[1:]} per leg", unit, height=170, tz=tz, x_range=(t0, t1)
        )
        for leg, name, colour in (("L", "left", "#1f77b4"), ("R", "right", "#d62728")):
            y = [float((legs.get(leg) or {}).get(key, float("nan"))) for legs in g["legs"]]
            chart.add(name, x, y, "points", colour)
        out.append(chart.svg())
    return out


def lsi_chart(g: pd.DataFrame, t0: pd.Timestamp, t1: pd.Timestamp, tz: str) -> str:
    """The LSIs of one test kind over time with a line at 90 %."""
    chart = Chart("Limb symmetry index, line at 90 %", "%", height=190, y_min=0, tz=tz)
    chart.x_range = (t0, t1)
    x = pd.DatetimeIndex(g["time"])
    for c in _lsi_cols(g):
        chart.add(LSI_LABEL[c], x, g[c].to_numpy(float), "points")
    top = max(110.0, float(g[_lsi_cols(g)].max().max()) if _lsi_cols(g) else 110.0)
    chart.y_max = top
    chart.add("90 %", pd.DatetimeIndex([t0, t1]), [LSI_LINE, LSI_LINE], "line", "#2ca02c")
    return chart.svg()
