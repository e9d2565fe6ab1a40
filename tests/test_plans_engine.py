"""The return-to-run decision, day by day, on hand-built histories for each template."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from sensorhub.plans import (
    PlanError,
    PlanEvent,
    PlanState,
    Prescription,
    evaluate,
    load_plan,
    parse_plan,
    replay,
)

D0 = dt.date(2026, 10, 5)  # a Monday: the plan's first day


def day(n: int) -> dt.date:
    return D0 + dt.timedelta(days=n)


def session(n: int, rx: Prescription, sid: str | None = None, **over) -> dict:
    """One session on day ``n`` that did exactly ``rx`` (overrides change single fields)."""
    run_t = rx.run_total_s
    walk_t = rx.total_s - run_t
    row = {
        "id": sid or f"s{n:+d}",
        "start": pd.Timestamp(day(n)).tz_localize("UTC") + pd.Timedelta(hours=7),
        "day": day(n),
        "sport": "running" if rx.kind != "walk" else "walking",
        "duration_s": rx.total_s,
        "distance_m": run_t * 2.5 + walk_t * 1.6,
        "gct_si_pct": 2.0,
        "run_time_s": run_t if rx.kind != "walk" else 0.0,
        "walk_time_s": walk_t,
        "run_intervals": rx.intervals or (1 if rx.kind == "run" else 0),
        "longest_run_s": rx.run_s or rx.continuous_s or 0.0,
    }
    return {**row, **over}


def checkin(n: int, pain: float, when: str = "next-morning", **over) -> dict:
    row = {"day": day(n), "when": when, "site": "achilles", "side": "L", "pain": pain}
    return {"stiffness": 1.0, "note": None, "session_id": None, **row, **over}


def baseline_week(pain: float = 1.0) -> list[dict]:
    """Rest-day mornings in the 7 days before the plan: the pain baseline."""
    return [checkin(n, pain, "rest-day") for n in range(-7, 0)]


def run(plan, state, sessions, checkins, tests=None, days=None):
    days = [day(n) for n in range(15)] if days is None else days
    decs = replay(plan, state, pd.DataFrame(sessions), pd.DataFrame(checkins), tests, days)
    return {d.day: d for d in decs}


def mornings_after(days: list[int], pain: float = 1.0) -> list[dict]:
    return [checkin(n + 1, pain) for n in days]


ACH = load_plan("achilles-silbernagel")
WALK_RUN = load_plan("walk-run")
BONE = load_plan("bone-stress")


def state(plan, stage: int = 0, **kw) -> PlanState:
    return PlanState(athlete="cara", template=plan.name, start_day=D0, start_stage=stage, **kw)


def test_clean_progression_achilles_day_by_day():
    rx = ACH.stages[0].prescription
    sessions = [session(n, rx) for n in (0, 2, 4)]
    checkins = baseline_week() + mornings_after([0, 2, 4])
    d = run(ACH, state(ACH), sessions, checkins)
    assert [d[day(n)].decision for n in range(7)] == ["repeat"] * 5 + ["progress", "repeat"]
    assert d[day(0)].completed["done"] == 0
    assert any("counts once the next-morning check-in" in r for r in d[day(0)].reasons)
    assert d[day(3)].completed == {
        "done": 2,
        "required": 3,
        "sessions": ["s+0", "s+2"],
        "since": D0.isoformat(),
    }
    p = d[day(5)]
    assert p.reasons[-1] == "3 of 3 clean sessions done — progress"
    assert p.next["name"] == "Walk-run 2" and p.next["not_before"] == day(6).isoformat()
    assert d[day(6)].stage["index"] == 1 and d[day(6)].completed["done"] == 0
    assert p.baseline["pain"] == 1.0 and p.baseline["pain_from"] == "the week before the plan"


def test_next_morning_flare_repeats_and_restarts_the_count():
    rx = ACH.stages[0].prescription
    sessions = [session(n, rx) for n in (0, 2, 4, 6, 8)]
    checkins = baseline_week() + mornings_after([0, 4, 6, 8]) + [checkin(3, 4)]
    d = run(ACH, state(ACH), sessions, checkins)
    flare = d[day(3)]
    assert flare.decision == "repeat"
    assert flare.reasons[0] == (
        "next-morning achilles pain 4/10 on Thu 8 Oct is above your baseline 1/10 — "
        "repeat this stage"
    )
    assert d[day(5)].completed["done"] == 1 and d[day(5)].completed["since"] == day(2).isoformat()
    assert d[day(7)].decision == "repeat" and d[day(9)].decision == "progress"
    assert d[day(9)].completed["sessions"] == ["s+4", "s+6", "s+8"]


def test_two_flares_step_back_one_stage():
    rx = ACH.stages[1].prescription
    sessions = [session(n, rx) for n in (0, 2)]
    checkins = baseline_week() + [checkin(1, 3), checkin(3, 4)]
    d = run(ACH, state(ACH, stage=1), sessions, checkins)
    assert d[day(1)].decision == "repeat"
    sb = d[day(3)]
    assert sb.decision == "step-back"
    assert (
        "two flares within 14 days (after the sessions on Mon 5 Oct and Wed 7 Oct) — step back to stage 1"
        in sb.reasons
    )
    assert sb.next["stage"] == 0 and sb.next["name"] == "Walk-run 1"
    assert d[day(4)].stage["index"] == 0 and d[day(4)].completed["done"] == 0


def test_two_flares_at_the_first_stage_mean_rest():
    rx = ACH.stages[0].prescription
    sessions = [session(n, rx) for n in (0, 2)]
    checkins = baseline_week() + [checkin(1, 3), checkin(3, 3)]
    dec = evaluate(ACH, state(ACH), pd.DataFrame(sessions), pd.DataFrame(checkins), today=day(3))
    assert dec.decision == "rest" and "first stage" in dec.reasons[-1]


def test_back_to_back_run_days_repeat():
    rx = WALK_RUN.stages[0].prescription
    sessions = [session(n, rx) for n in (0, 1, 3)]
    checkins = baseline_week(0) + mornings_after([0, 1, 3], 0)
    d = run(WALK_RUN, state(WALK_RUN), sessions, checkins)
    b2b = d[day(1)]
    assert b2b.decision == "repeat"
    assert b2b.reasons[0] == (
        "you ran on Mon 5 Oct and Tue 6 Oct; this stage needs a rest day between runs — "
        "repeat this stage"
    )
    assert b2b.next["not_before"] == day(3).isoformat()  # keep a rest day after day 1
    # the back-to-back run does not count, but it does not restart the count either
    assert d[day(4)].decision == "progress"
    assert d[day(4)].completed["sessions"] == ["s+0", "s+3"]


def test_too_long_run_is_flagged_without_changing_the_decision():
    rx = WALK_RUN.stages[4].prescription  # run 20 min continuous
    before = [session(n, rx, distance_m=3000.0) for n in (-10, -6)]
    sessions = [*before, session(0, rx, distance_m=3000.0), session(2, rx, distance_m=3900.0)]
    checkins = baseline_week(0) + mornings_after([0, 2], 0)
    d = run(WALK_RUN, state(WALK_RUN, stage=4), sessions, checkins)
    dec = d[day(3)]
    assert dec.decision == "progress"
    spike = [r for r in dec.reasons if "single-session spike" in r]
    assert spike == [
        "the session on Wed 7 Oct (3.9 km) was 30 % longer than your longest of the previous "
        "30 days (3.0 km): a single-session spike above 10 % (Frandsen et al. 2025) — keep the "
        "next one no longer"
    ]
    assert not any("spike" in r for r in d[day(1)].reasons)


def test_asymmetry_worsening_repeats_against_the_pre_plan_baseline():
    rx = ACH.stages[0].prescription
    pre = [session(n, rx, gct_si_pct=2.0) for n in (-20, -14, -9)]
    sessions = [*pre, session(0, rx), session(2, rx, gct_si_pct=9.0), session(4, rx)]
    checkins = baseline_week() + mornings_after([0, 2, 4])
    d = run(ACH, state(ACH), sessions, checkins)
    dec = d[day(2)]
    assert dec.decision == "repeat"
    assert dec.reasons[0].startswith(
        "ground-contact-time asymmetry on Wed 7 Oct was +9.0 % SI, 7.0 points further from "
        "symmetric than your baseline +2.0 % (the 4 weeks before the plan)"
    )
    assert d[day(5)].decision == "repeat" and d[day(5)].completed["done"] == 1


def test_small_asymmetry_change_within_tolerance_passes():
    rx = ACH.stages[0].prescription
    pre = [session(n, rx, gct_si_pct=2.0) for n in (-20, -14, -9)]
    sessions = [*pre, *(session(n, rx, gct_si_pct=5.5) for n in (0, 2, 4))]
    checkins = baseline_week() + mornings_after([0, 2, 4])
    assert run(ACH, state(ACH), sessions, checkins)[day(5)].decision == "progress"


def test_pain_during_above_the_limit_means_rest_then_repeat():
    rx = ACH.stages[0].prescription
    sessions = [session(n, rx) for n in (0, 2)]
    checkins = baseline_week() + [checkin(0, 6, "during"), *mornings_after([0, 2])]
    d = run(ACH, state(ACH), sessions, checkins, days=[day(n) for n in range(4)])
    assert [d[day(n)].decision for n in range(4)] == ["rest", "rest", "rest", "repeat"]
    assert "above the limit 5/10 — stop running and see your clinician" in d[day(0)].reasons[0]
    assert d[day(0)].next["text"].startswith("rest; see your clinician")


def test_session_short_of_the_prescription_does_not_count():
    rx = ACH.stages[0].prescription
    sessions = [session(0, rx, run_time_s=180.0, run_intervals=3)]
    d = run(ACH, state(ACH), sessions, baseline_week() + mornings_after([0]))
    assert d[day(1)].completed["done"] == 0
    assert d[day(1)].reasons[0] == (
        "the session on Mon 5 Oct had 3 min of running in 3 intervals; the stage asks for "
        "run 1 min / walk 4 min × 6 — it does not count"
    )


def test_weekly_worsening_of_morning_stiffness_blocks_progress():
    rx = ACH.stages[0].prescription
    sessions = [session(n, rx) for n in (7, 9, 11)]
    last_week = [checkin(n, 1, "rest-day", stiffness=1) for n in range(0, 7)]
    this_week = [
        checkin(n, 1, "next-morning" if n in (8, 10, 12) else "rest-day", stiffness=3)
        for n in range(7, 13)
    ]
    d = run(ACH, state(ACH), sessions, baseline_week() + last_week + this_week)
    dec = d[day(12)]
    assert dec.decision == "repeat" and dec.completed["done"] == 3
    assert any(r.startswith("morning stiffness averaged") for r in dec.reasons)


def test_bone_stress_needs_a_passed_hop_test_to_leave_walking():
    rx = BONE.stages[0].prescription
    walks = [session(n, rx) for n in (0, 1, 2)]  # walking may be daily
    checkins = baseline_week(0) + mornings_after([0, 1, 2], 0)
    no_test = run(BONE, state(BONE), walks, checkins)[day(3)]
    assert no_test.decision == "repeat"
    assert "needs a hop lsi_height_pct ≥ 90 % pain ≤ 0/10 result" in no_test.reasons[0]
    weak = pd.DataFrame([{"kind": "hop", "day": day(2), "lsi_height_pct": 84.0, "pain": 0}])
    dec = run(BONE, state(BONE), walks, checkins, weak)[day(3)]
    assert dec.reasons[0] == (
        "hop test on Wed 7 Oct: lsi_height_pct 84 % is below 90 % — not ready to progress"
    )
    no_pain = pd.DataFrame([{"kind": "hop", "day": day(2), "lsi_height_pct": 93.0}])
    dec = run(BONE, state(BONE), walks, checkins, no_pain)[day(3)]
    assert dec.decision == "repeat" and "pain during the test was not recorded" in dec.reasons[0]
    ok = pd.DataFrame([{"kind": "hop", "day": day(2), "lsi_height_pct": 93.0, "pain": 0}])
    dec = run(BONE, state(BONE), walks, checkins, ok)[day(3)]
    assert dec.decision == "progress" and dec.next["name"] == "Walk-run 1"
    old = pd.DataFrame([{"kind": "hop", "day": day(-20), "lsi_height_pct": 95.0, "pain": 0}])
    assert run(BONE, state(BONE), walks, checkins, old)[day(3)].decision == "repeat"


def test_bone_stress_pain_during_one_point_above_zero_still_passes_but_two_rests():
    rx = BONE.stages[1].prescription
    sessions = [session(0, rx), session(2, rx)]
    checkins = baseline_week(0) + [
        checkin(0, 1, "during", site="shin"),
        checkin(2, 2, "during", site="shin"),
        *mornings_after([0, 2], 0),
    ]
    d = run(BONE, state(BONE, stage=1), sessions, checkins)
    assert d[day(1)].decision == "repeat" and d[day(1)].completed["done"] == 1
    assert d[day(2)].decision == "rest"


MANY_SMALL_STEPS = """
name = "quick"
[stage_defaults]
repeat = 1
[[stages]]
name = "A"
prescription = { text = "run 10 min continuous", continuous_s = 600 }
[[stages]]
name = "B"
prescription = { text = "run 11 min continuous", continuous_s = 660 }
[[stages]]
name = "C"
prescription = { text = "run 12 min continuous", continuous_s = 720 }
[[stages]]
name = "D"
prescription = { text = "run 13 min continuous", continuous_s = 780 }
"""


def test_at_most_two_progressions_in_seven_days():
    import tomllib

    plan = parse_plan(tomllib.loads(MANY_SMALL_STEPS), "quick.toml")
    sessions = [session(n, plan.stages[k].prescription) for k, n in enumerate((0, 2, 4))]
    checkins = baseline_week(0) + mornings_after([0, 2, 4], 0)
    d = run(plan, state(plan), sessions, checkins)
    assert [d[day(n)].decision for n in (1, 3, 5)] == ["progress", "progress", "repeat"]
    assert (
        "you already progressed 2 times in the last 7 days (at most 2) — repeat this stage first"
        in d[day(5)].reasons
    )
    assert d[day(8)].decision == "progress"  # day 1's progression has left the 7-day window


def test_within_days_needs_the_sessions_close_together():
    rx = WALK_RUN.stages[5].prescription  # 3 runs of 30 min in 7 days
    sessions = [session(n, rx) for n in (0, 4, 8)]
    checkins = baseline_week(0) + mornings_after([0, 4, 8], 0)
    dec = run(WALK_RUN, state(WALK_RUN, stage=5), sessions, checkins)[day(9)]
    assert dec.decision == "repeat"
    assert "the stage needs 3 clean sessions within 7 days; your last 3 span 9 days" in dec.reasons


def test_last_stage_complete():
    rx = WALK_RUN.stages[5].prescription
    sessions = [session(n, rx) for n in (0, 2, 4)]
    checkins = baseline_week(0) + mornings_after([0, 2, 4], 0)
    dec = run(WALK_RUN, state(WALK_RUN, stage=5), sessions, checkins)[day(5)]
    assert dec.decision == "progress" and dec.next["stage"] is None
    assert dec.next["text"] == "plan complete — agree the next step with your clinician"


def test_clinician_overrides_are_honoured_and_explained():
    rx = ACH.stages[0].prescription
    adv = PlanEvent(day(2), "advance", by="Dr Ruiz (physio)", why="pain-free hop test in clinic")
    back = PlanEvent(day(6), "back", by="Dr Ruiz (physio)", why="tendon sore on palpation")
    st = state(ACH).with_event(adv).with_event(back)
    sessions = [session(0, rx), session(4, ACH.stages[1].prescription)]
    checkins = baseline_week() + mornings_after([0, 4])
    d = run(ACH, st, sessions, checkins)
    assert d[day(1)].stage["index"] == 0
    assert d[day(2)].stage["index"] == 1
    assert d[day(2)].reasons[0] == (
        "Dr Ruiz (physio) moved you on a stage on Wed 7 Oct: pain-free hop test in clinic"
    )
    assert d[day(5)].completed["done"] == 1
    assert d[day(6)].stage["index"] == 0 and d[day(6)].completed["done"] == 0
    assert PlanState.from_dict(json.loads(json.dumps(st.to_dict()))) == st


def test_override_needs_who_and_why_and_a_real_stage():
    with pytest.raises(PlanError, match="^override why: must say why$"):
        PlanEvent(day(1), "advance", by="Dr Ruiz", why=" ")
    with pytest.raises(PlanError, match="^override kind: 'skip' is not one of advance, back$"):
        PlanEvent(day(1), "skip", by="Dr Ruiz", why="x")
    st = state(ACH).with_event(PlanEvent(day(1), "back", by="Dr Ruiz", why="sore"))
    with pytest.raises(PlanError, match="stage 0 does not exist"):
        replay(ACH, st, pd.DataFrame([session(0, ACH.stages[0].prescription)]), days=[day(2)])


def test_decision_json_has_the_documented_fields():
    rx = ACH.stages[0].prescription
    dec = evaluate(ACH, state(ACH), pd.DataFrame([session(0, rx)]), pd.DataFrame(baseline_week()))
    d = json.loads(dec.to_json())
    assert set(d) == {
        "athlete",
        "plan",
        "day",
        "stage",
        "completed",
        "decision",
        "reasons",
        "next",
        "baseline",
    }
    assert d["stage"]["prescription"] == {
        "text": "run 1 min / walk 4 min × 6",
        "run_s": 60.0,
        "walk_s": 240.0,
        "intervals": 6,
        "kind": "walk-run",
    }
    assert d["decision"] in ("progress", "repeat", "step-back", "rest")


def test_without_run_walk_summary_the_duration_is_checked():
    rx = ACH.stages[0].prescription
    s = session(0, rx, run_time_s=None, run_intervals=None, longest_run_s=None)
    d = run(ACH, state(ACH), [s], baseline_week() + mornings_after([0]))[day(1)]
    assert d.completed["done"] == 1
    assert "run/walk split of Mon 5 Oct not measured — only its duration was checked" in d.reasons
