"""Plan files and check-ins: templates load, bad input fails with one line naming the spot."""

from __future__ import annotations

import datetime as dt
import tomllib

import pytest

from sensorhub.plans import Checkin, PlanError, list_templates, load_plan, parse_checkin, parse_plan

GOOD = """
name = "mine"
[[stages]]
name = "First"
repeat = 2
prescription = { text = "run 1 min / walk 4 min × 6", run_s = 60, walk_s = 240, intervals = 6 }
[[stages]]
name = "Second"
prescription = { text = "run 20 min", continuous_s = 1200 }
"""


def test_templates_ship_with_sources_and_gates():
    plans = {p.name: p for p in list_templates()}
    assert set(plans) == {"walk-run", "achilles-silbernagel", "bone-stress"}
    for p in plans.values():
        assert p.sources and all("doi:" in s or "http" in s or "2015" in s for s in p.sources)
        assert all(s.prescription.text for s in p.stages)
    ach = plans["achilles-silbernagel"]
    assert (ach.stages[0].pain.during_max, ach.stages[0].pain.after_max) == (5.0, 5.0)
    assert ach.stages[0].pain.weekly_worsening and ach.stages[0].repeat == 3
    assert any("Silbernagel" in s and "2007" in s for s in ach.sources)
    bone = plans["bone-stress"]
    assert bone.stages[0].prescription.kind == "walk"
    assert bone.stages[0].tests[0].kind == "hop"
    assert bone.stages[0].tests[0].metric == "lsi_height_pct"
    assert bone.stages[0].tests[0].min_lsi_pct == 90.0
    assert bone.rules.max_progressions_per_week == 1
    assert plans["walk-run"].rules.max_progressions_per_week == 2
    assert not plans["walk-run"].stages[0].back_to_back


def test_a_plan_file_loads_by_path(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text(GOOD)
    plan = load_plan(f)
    assert plan.name == "mine" and [s.name for s in plan.stages] == ["First", "Second"]
    assert plan.stages[1].prescription.kind == "run" and plan.stages[1].repeat == 2


def bad(edit: str) -> str:
    """The one-line error of GOOD with ``edit`` applied (old => new)."""
    old, new = edit.split(" => ")
    assert old in GOOD
    with pytest.raises(PlanError) as e:
        parse_plan(tomllib.loads(GOOD.replace(old, new, 1)), "mine.toml")
    msg = str(e.value)
    assert "\n" not in msg
    return msg


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("repeat = 2 => rep = 2", "mine.toml: stage 1 ('First'): rep: unknown key"),
        (
            "repeat = 2 => repeat = -1",
            "mine.toml: stage 1 ('First'): repeat: -1 is not a whole number ≥ 1",
        ),
        (
            'name = "Second"\n => name = "Second"\npain = { during_max = 12 }\n',
            "mine.toml: stage 2 ('Second'): pain.during_max: 12 is not a number in 0–10",
        ),
        (
            'prescription = { text = "run 20 min", continuous_s = 1200 } => ',
            "mine.toml: stage 2 ('Second'): prescription: missing (every stage needs one)",
        ),
        (
            'text = "run 20 min", => ',
            "mine.toml: stage 2 ('Second'): prescription.text: missing (the prescription in plain words)",
        ),
        (
            "intervals = 6 => intervals = 0",
            "mine.toml: stage 1 ('First'): prescription.intervals: 0 is not a whole number ≥ 1",
        ),
        (
            "continuous_s = 1200 => continuous_s = 1200, run_s = 60, intervals = 2",
            "mine.toml: stage 2 ('Second'): prescription.continuous_s: cannot be combined with run_s or intervals",
        ),
        ('name = "mine" => name = "mine"\ncolour = "red"', "mine.toml: colour: unknown key"),
        (
            'name = "mine" => name = "mine"\n[rules]\nflare_window_days = -3',
            "mine.toml: rules.flare_window_days: -3 is not a whole number ≥ 0",
        ),
        (
            'name = "First" => name = "First"\ntests = [{ kind = "hop", min_lsi_pct = 300 }]',
            "mine.toml: stage 1 ('First'): tests[0].min_lsi_pct: 300 is not a number in 0–200",
        ),
    ],
)
def test_bad_plan_files_name_file_stage_and_key(edit, message):
    assert bad(edit) == message


def test_unreadable_and_unknown_plans(tmp_path):
    (tmp_path / "broken.toml").write_text("name = \n")
    with pytest.raises(PlanError, match=r"^broken\.toml: not valid TOML: "):
        load_plan(tmp_path / "broken.toml")
    with pytest.raises(PlanError, match=r"^nope: no such plan template or file \(templates: "):
        load_plan("nope")
    with pytest.raises(PlanError, match=r"^mine\.toml: stages: missing"):
        parse_plan({"name": "x"}, "mine.toml")


ROW = {"day": "2026-10-20", "when": "next-morning", "site": "achilles", "side": "L", "pain": "2"}


def test_checkin_parses_a_csv_row():
    c = parse_checkin({**ROW, "stiffness": "3", "note": "", "session_id": ""})
    assert c == Checkin(dt.date(2026, 10, 20), "next-morning", "achilles", "L", 2.0, 3.0)
    assert parse_checkin(ROW).stiffness == 0.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"pain": "11"}, "checkin pain: '11' is not in 0–10"),
        ({"pain": "bad"}, "checkin pain: 'bad' is not a number 0–10"),
        ({"stiffness": -1}, "checkin stiffness: -1 is not in 0–10"),
        (
            {"when": "evening"},
            "checkin when: 'evening' is not one of during, after, next-morning, rest-day",
        ),
        (
            {"site": "elbow"},
            "checkin site: 'elbow' is not one of achilles, calf, shin, knee, hip, foot, back, other",
        ),
        ({"side": "left"}, "checkin side: 'left' is not one of L, R, both, none"),
        ({"day": "20/10/2026"}, "checkin day: '20/10/2026' is not a date (YYYY-MM-DD)"),
        ({"day": "2026-10-22"}, "checkin day: 2026-10-22 is in the future"),
        ({"pain": ""}, "checkin pain: missing"),
        ({"mood": "ok"}, "checkin mood: unknown field"),
    ],
)
def test_bad_checkins_name_the_field_and_value(change, message):
    with pytest.raises(PlanError) as e:
        parse_checkin({**ROW, **change}, today=dt.date(2026, 10, 21))
    assert str(e.value) == message


def test_checkin_dataclass_refuses_a_far_future_day():
    with pytest.raises(PlanError, match="is in the future"):
        Checkin(dt.date.today() + dt.timedelta(days=3), "rest-day", "calf", "R", 1)
