"""Gates: what one session and the check-ins around it say about a stage.

Definitions (also in docs/return-to-run.md):

* **Pain baseline** — the median of the athlete's daily morning pain (``next-morning`` and
  ``rest-day`` check-ins; the highest site that morning) over the 7 days before the plan
  starts, if there are ≥ 2 such mornings; otherwise over the plan's first 7 days (only days
  up to the evaluation day, so a replay never looks ahead); otherwise 0/10. The same for
  morning stiffness. A clinician can set it in the plan state.
* **Flare** — next-morning pain (any morning check-in the day after a session) above the
  baseline by more than the stage's ``morning_margin``, or pain after the session above
  ``after_max`` (Silbernagel et al. 2007: pain after ≤ 5/10 and back to baseline by the next
  morning).
* **Asymmetry baseline** — the median GCT symmetry index (SI = 4 (B − 50), B = GCT balance
  % left) of the running sessions in the 28 days before the plan (≥ 3 sessions), else of the
  plan's first 7 days (≥ 2), unless set in the state. A session of that first week is judged
  against the median of the *other* first-week sessions: a session is never part of its own
  baseline (with two sessions it would halve its own worsening). **Worsening**: |SI| of a
  session above |baseline SI| by more than ``asymmetry_tolerance_si_pct`` (default 4 % SI =
  1 point of balance, about three times the session-to-session SD of a steady runner's
  balance).
* **Single-session spike** — a run longer (distance, else duration) than the longest run
  of the previous 30 days by more than ``spike_pct`` (10 %; Frandsen et al. 2025, BJSM
  59:1203). A flag for the reasons, not a block.
* **Prescription met** — measured running time ≥ 90 % of the prescribed running time and at
  least ``intervals − 1`` running intervals (walk–run), or a longest continuous run ≥ 90 %
  of ``continuous_s`` (run), or a duration ≥ 90 % of ``walk_s`` (walk). Without the
  run/walk summary, the session duration is checked against the prescribed total.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .checkins import MORNING
from .model import PlanState, Rules, Stage

RUN_SPORTS = {"running"}
FOOT_SPORTS = {"running", "walking", "hiking"}
MET_FRACTION = 0.9  # a session counts when ≥ 90 % of the prescription was done
OVERDONE_FRACTION = 1.25  # more than 125 % of the prescribed running is flagged
MIN_RUN_S = 60.0  # a "running" session with less than 1 min of running is a walk
WORSENING_POINTS = 1.0  # weekly mean morning pain/stiffness rise that blocks progress
SESSION_COLUMNS = [
    "id",
    "start",
    "day",
    "sport",
    "duration_s",
    "distance_m",
    "gct_balance_left_pct",
    "gct_si_pct",
    "run_time_s",
    "walk_time_s",
    "run_intervals",
    "longest_run_s",
]
CHECKIN_FIELDS = ["day", "when", "site", "side", "pain", "stiffness", "note", "session_id"]
TEST_FIELDS = ["kind", "day", "pain"]  # + any lsi_*_pct columns
DAY = dt.timedelta(days=1)


def fmt_day(d: dt.date) -> str:
    """'Tue 13 Oct' — short, unambiguous within a plan."""
    return f"{d:%a} {d.day} {d:%b}"


def fmt_pain(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".") + "/10"


def _min(seconds: float) -> str:
    if seconds is None or math.isnan(seconds):
        return "an unknown time"
    return f"{seconds / 60:.1f}".rstrip("0").rstrip(".") + " min"


def _num(v: Any) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return math.nan
    return f


def _day(v: Any) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    return pd.Timestamp(v).date()


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or str(v).strip() == ""


# The day-by-day replay evaluates every gate for every day; with pandas each filter costs
# ~1 ms, so the frames are turned into plain records once (measured: 190 ms → ~2 ms per day).


@dataclass(frozen=True)
class History:
    """The caller's DataFrames as plain records, sorted by day; built once per replay."""

    sessions: list[dict[str, Any]]
    checkins: list[dict[str, Any]]
    tests: list[dict[str, Any]]
    morning: dict[dt.date, tuple[float, float, str]]  # day -> (max pain, max stiffness, site)

    @classmethod
    def build(
        cls, sessions: pd.DataFrame, checkins: pd.DataFrame | None, tests: pd.DataFrame | None
    ) -> History:
        return cls(
            _session_records(sessions),
            _records(checkins, CHECKIN_FIELDS, ("pain", "stiffness")),
            _records(tests, TEST_FIELDS, ("pain",), keep=True),
            {},
        )._with_mornings()

    def _with_mornings(self) -> History:
        for c in self.checkins:
            if c["when"] in MORNING:
                p, st, site = self.morning.get(c["day"], (-1.0, 0.0, ""))
                stiff = 0.0 if math.isnan(c["stiffness"]) else c["stiffness"]
                if c["pain"] > p:
                    p, site = c["pain"], c["site"]
                self.morning[c["day"]] = (p, max(st, stiff), site)
        return self

    def runs_on(self, day: dt.date) -> bool:
        return any(s["is_run"] and s["day"] == day for s in self.sessions)

    def mornings(self, lo: dt.date, hi: dt.date) -> list[tuple[float, float, str]]:
        return [v for d, v in self.morning.items() if lo <= d <= hi]


def _records(
    df: pd.DataFrame | None, cols: list[str], nums: tuple[str, ...], keep: bool = False
) -> list[dict]:
    """Rows as dicts with ``cols`` (missing ones None; all columns when ``keep``)."""
    if df is None or df.empty:
        return []
    rows = []
    for r in df.to_dict("records"):
        row = {**(r if keep else {}), **{c: r.get(c) for c in cols}}
        row["day"] = _day(row["day"])
        for c in nums:
            row[c] = _num(row[c])
        rows.append(row)
    return sorted(rows, key=lambda r: r["day"])


def _session_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Sessions as records with ``day`` a date, numbers as floats (NaN when missing), ``is_run``
    (sport running and ≥ 1 min of running when measured) and ``si`` (GCT SI, % — from
    ``gct_si_pct`` or 4 (B − 50) from the balance)."""
    nums = [c for c in SESSION_COLUMNS if c not in ("id", "start", "day", "sport")]
    rows = _records(df, SESSION_COLUMNS, tuple(nums))
    for r in rows:
        r["id"] = str(r["id"])
        r["sport"] = str(r["sport"]).lower()
        r["is_run"] = r["sport"] in RUN_SPORTS and not r["run_time_s"] < MIN_RUN_S
        si = r["gct_si_pct"]
        r["si"] = si if not math.isnan(si) else 4.0 * (r["gct_balance_left_pct"] - 50.0)
        r["start"] = pd.Timestamp(r["start"]) if not _blank(r["start"]) else pd.NaT
    key = pd.Timestamp.min.tz_localize("UTC")
    return sorted(rows, key=lambda r: (r["day"], key if r["start"] is pd.NaT else _utc(r["start"])))


def _utc(t: pd.Timestamp) -> pd.Timestamp:
    return t.tz_localize("UTC") if t.tzinfo is None else t


@dataclass(frozen=True)
class Baseline:
    """The athlete's own reference values and where each came from (for the reasons)."""

    pain: float
    stiffness: float
    pain_from: str
    si_pct: float | None
    si_from: str
    # (session id, SI %) of the first-week runs ``si_pct`` is the median of; empty otherwise
    si_sessions: tuple[tuple[str, float], ...] = ()

    def si_for(self, session_id: str) -> float | None:
        """The SI baseline (%) session ``session_id`` is judged against: ``si_pct``, or for a
        session of a first-week baseline the median of the other first-week sessions."""
        if not any(i == session_id for i, _ in self.si_sessions):
            return self.si_pct
        return float(statistics.median(v for i, v in self.si_sessions if i != session_id))

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k != "si_sessions"}
        d["si_pct"] = None if self.si_pct is None else round(self.si_pct, 2)
        return d


def baseline(state: PlanState, h: History, today: dt.date) -> Baseline:
    """Pain, stiffness and GCT-SI baselines (see the module docstring for the definitions)."""
    start, week = state.start_day, dt.timedelta(days=6)
    pain, stiff, pain_from = 0.0, 0.0, "assumed 0/10 (no morning check-ins yet)"
    before = h.mornings(start - 7 * DAY, start - DAY)
    first = h.mornings(start, min(start + week, today))
    for ms, label in ((before, "the week before the plan"), (first, "the plan's first week")):
        if len(ms) >= 2:
            pain = statistics.median(m[0] for m in ms)
            stiff = statistics.median(m[1] for m in ms)
            pain_from = label
            break
    if state.baseline_pain is not None:
        pain, pain_from = state.baseline_pain, "set by your clinician"
    if state.baseline_stiffness is not None:
        stiff = state.baseline_stiffness
    runs = [s for s in h.sessions if s["is_run"] and not math.isnan(s["si"])]
    pre = [s["si"] for s in runs if start - 28 * DAY <= s["day"] < start]
    wk1 = [(s["id"], s["si"]) for s in runs if start <= s["day"] <= min(start + week, today)]
    si, si_from, si_sessions = None, "none yet", ()
    if len(pre) >= 3:
        si, si_from = float(statistics.median(pre)), "the 4 weeks before the plan"
    elif len(wk1) >= 2:
        si, si_from = float(statistics.median(v for _, v in wk1)), "the plan's first week"
        si_sessions = tuple(wk1)
    if state.baseline_si_pct is not None:
        si, si_from, si_sessions = state.baseline_si_pct, "set by your clinician", ()
    return Baseline(float(pain), float(stiff), pain_from, si, si_from, si_sessions)


@dataclass
class SessionCheck:
    """What one stage session did to the stage.

    ``counted``: it is one of the stage's clean completions. ``resets``: it showed a symptom
    or asymmetry problem, so the count restarts after it. ``flare`` and ``rest`` feed the
    step-back and rest rules. ``pending``: tomorrow's morning check-in is still to come.
    ``reasons`` say why it did not count; ``flags`` are information only.
    """

    id: str
    day: dt.date
    counted: bool = True
    resets: bool = False
    flare: bool = False
    rest: bool = False
    pending: bool = False
    reasons: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)

    def block(self, reason: str, resets: bool = False) -> None:
        self.counted = False
        self.resets = self.resets or resets
        self.reasons.append(reason)


def _pain_for(h: History, s: dict[str, Any], when: str, today: dt.date) -> float | None:
    """Highest ``when`` pain for a session: check-ins naming it, or unnamed ones that day."""
    vals = [
        c["pain"]
        for c in h.checkins
        if c["when"] == when
        and c["day"] <= today
        and (
            str(c["session_id"]) == s["id"] if not _blank(c["session_id"]) else c["day"] == s["day"]
        )
    ]
    return max(vals) if vals else None


def check_pain(
    chk: SessionCheck, stage: Stage, s: dict, h: History, base: Baseline, today: dt.date
) -> None:
    """Pain during/after the session and the next morning against the stage's limits."""
    day, p = s["day"], stage.pain
    during = _pain_for(h, s, "during", today)
    if during is not None and during > p.during_max:
        chk.rest = chk.flare = True
        chk.block(
            f"pain during the session on {fmt_day(day)} was {fmt_pain(during)}, above the limit "
            f"{fmt_pain(p.during_max)} — stop running and see your clinician",
            resets=True,
        )
    after = _pain_for(h, s, "after", today)
    if after is not None and after > p.after_max:
        chk.flare = True
        chk.block(
            f"pain after the session on {fmt_day(day)} was {fmt_pain(after)}, above the limit "
            f"{fmt_pain(p.after_max)} — repeat this stage",
            resets=True,
        )
    morning_day = day + DAY
    m = h.morning.get(morning_day) if morning_day <= today else None
    if m is None:
        if today <= morning_day:
            chk.pending = True
            chk.counted = False
        else:
            chk.flags.append(
                f"no morning check-in on {fmt_day(morning_day)} after the session — it was "
                "counted as symptom-free; log one next time"
            )
        return
    pain, _, site = m
    if pain > base.pain + p.morning_margin:
        chk.flare = True
        chk.block(
            f"next-morning {site} pain {fmt_pain(pain)} on {fmt_day(morning_day)} is above "
            f"your baseline {fmt_pain(base.pain)} — repeat this stage",
            resets=True,
        )


def check_prescription(chk: SessionCheck, stage: Stage, s: dict) -> None:
    """Was the prescription done (see the module docstring for the tolerances)?"""
    rx, day = stage.prescription, fmt_day(s["day"])
    run_t, n_int, longest = s["run_time_s"], s["run_intervals"], s["longest_run_s"]
    if rx.kind == "walk" or math.isnan(run_t):
        need, got = rx.total_s, s["duration_s"]
        if rx.kind != "walk":
            chk.flags.append(
                f"run/walk split of {day} not measured — only its duration was checked"
            )
        if not got >= MET_FRACTION * need:
            what = "walk" if rx.kind == "walk" else "session"
            chk.block(f"the {what} on {day} lasted {_min(got)}; the stage asks for {_min(need)}")
        return
    if rx.kind == "walk-run":
        ok = run_t >= MET_FRACTION * rx.run_total_s and n_int >= (rx.intervals or 1) - 1
        done = f"{_min(run_t)} of running in {int(n_int)} intervals"
    else:
        ok = longest >= MET_FRACTION * rx.run_total_s
        done = f"a longest continuous run of {_min(longest)}"
    if not ok:
        chk.block(
            f"the session on {day} had {done}; the stage asks for {rx.text} — it does not count"
        )
    elif run_t > OVERDONE_FRACTION * rx.run_total_s:
        chk.flags.append(
            f"you ran {_min(run_t)} on {day}, more than the {_min(rx.run_total_s)} prescribed — "
            "stick to the prescription"
        )


def check_back_to_back(chk: SessionCheck, stage: Stage, s: dict, h: History) -> None:
    """A run the day after another run does not count when the stage needs rest days."""
    if stage.back_to_back or not s["is_run"]:
        return
    prev = s["day"] - DAY
    if h.runs_on(prev):
        chk.block(
            f"you ran on {fmt_day(prev)} and {fmt_day(s['day'])}; this stage needs a rest day "
            "between runs — repeat this stage"
        )


def check_asymmetry(chk: SessionCheck, rules: Rules, s: dict, base: Baseline) -> None:
    """|GCT SI| worse than the athlete's baseline by more than the tolerance."""
    ref = base.si_for(s["id"])
    if ref is None or math.isnan(s["si"]) or not s["is_run"]:
        return
    worse = abs(s["si"]) - abs(ref)
    if worse > rules.asymmetry_tolerance_si_pct:
        chk.block(
            f"ground-contact-time asymmetry on {fmt_day(s['day'])} was {s['si']:+.1f} % SI, "
            f"{worse:.1f} points further from symmetric than your baseline {ref:+.1f} % "
            f"({base.si_from}) — repeat this stage",
            resets=True,
        )


def check_spike(chk: SessionCheck, rules: Rules, s: dict, h: History) -> None:
    """Flag a run longer than the longest of the previous 30 days by > spike_pct (Frandsen 2025)."""
    if not s["is_run"]:
        return
    lo = s["day"] - 30 * DAY
    prev = [p for p in h.sessions if p["is_run"] and lo <= p["day"] < s["day"]]
    if not prev:
        return
    use_dist = s["distance_m"] > 0 and all(p["distance_m"] > 0 for p in prev)
    col = "distance_m" if use_dist else "duration_s"
    longest, this = max(p[col] for p in prev), s[col]
    if longest > 0 and this > longest * (1 + rules.spike_pct / 100):
        show = (lambda v: f"{v / 1000:.1f} km") if use_dist else _min
        chk.flags.append(
            f"the session on {fmt_day(s['day'])} ({show(this)}) was "
            f"{(this / longest - 1) * 100:.0f} % longer than your longest of the previous 30 days "
            f"({show(longest)}): a single-session spike above {rules.spike_pct:g} % "
            "(Frandsen et al. 2025) — keep the next one no longer"
        )


def check_session(
    stage: Stage, rules: Rules, s: dict, h: History, base: Baseline, today: dt.date
) -> SessionCheck:
    """Every per-session gate of ``stage`` for session ``s``, with data up to ``today``."""
    chk = SessionCheck(id=s["id"], day=s["day"])
    check_pain(chk, stage, s, h, base, today)
    check_prescription(chk, stage, s)
    check_back_to_back(chk, stage, s, h)
    check_asymmetry(chk, rules, s, base)
    check_spike(chk, rules, s, h)
    return chk


def weekly_worsening(h: History, today: dt.date) -> str | None:
    """A reason if mean morning pain or stiffness of the last 7 days is ≥ 1 point above the
    7 days before (each week needs ≥ 2 mornings), else ``None``."""
    this = h.mornings(today - 6 * DAY, today)
    last = h.mornings(today - 13 * DAY, today - 7 * DAY)
    if len(this) < 2 or len(last) < 2:
        return None
    for k, label in ((0, "pain"), (1, "stiffness")):
        a = float(np.mean([m[k] for m in this]))
        b = float(np.mean([m[k] for m in last]))
        if a - b >= WORSENING_POINTS:
            return (
                f"morning {label} averaged {fmt_pain(round(a, 1))} this week against "
                f"{fmt_pain(round(b, 1))} the week before — no progression while it is getting worse"
            )
    return None


def readiness(stage: Stage, rules: Rules, h: History, today: dt.date) -> list[str]:
    """Reasons for each readiness test of ``stage`` that is missing, too old or not passed."""
    out = []
    oldest = today - rules.test_valid_days * DAY
    for gate in stage.tests:
        done = [t for t in h.tests if t["kind"] == gate.kind and t["day"] <= today]
        if not done or done[-1]["day"] < oldest:
            out.append(
                f"to progress, this stage needs a {gate.describe()} result from the last "
                f"{rules.test_valid_days} days — ask your clinician to test it"
            )
            continue
        last, bad = done[-1], []
        lsi = _num(last.get(gate.metric))
        if gate.min_lsi_pct is not None and math.isnan(lsi):
            bad.append(f"{gate.metric} was not measured")
        elif gate.min_lsi_pct is not None and lsi < gate.min_lsi_pct:
            bad.append(f"{gate.metric} {lsi:.0f} % is below {gate.min_lsi_pct:g} %")
        if gate.max_pain is not None and math.isnan(last["pain"]):
            bad.append("pain during the test was not recorded")
        elif gate.max_pain is not None and last["pain"] > gate.max_pain:
            bad.append(f"pain {fmt_pain(last['pain'])} is above {fmt_pain(gate.max_pain)}")
        if bad:
            out.append(
                f"{gate.kind} test on {fmt_day(last['day'])}: {' and '.join(bad)} — "
                "not ready to progress"
            )
    return out
