"""The demo athlete cara: her FIT files, check-ins and plan give the documented decisions.

Her sessions are decoded with drivers.fit and split with run_walk_segments, as the pipeline
will do at ingest, so this also checks the generator and the segmenter agree.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from drivers.fit import decode
from sensorhub.plans import (
    PlanState,
    checkins_frame,
    load_plan,
    parse_checkin,
    replay,
    run_walk_segments,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LONDON = ZoneInfo("Europe/London")


def cara_session(path: Path) -> dict:
    fm = decode(path)
    rec, ses = fm["record"], fm["session"].iloc[0]
    frame = pd.DataFrame(
        {
            "speed_mps": rec["enhanced_speed"].to_numpy(),
            "cadence_spm": (2 * (rec["cadence"] + rec["fractional_cadence"])).to_numpy(),
        },
        index=pd.DatetimeIndex(rec["timestamp"]).tz_localize(None).tz_localize("UTC"),
    )
    seg = run_walk_segments(frame)
    start = frame.index[0]
    return {
        "id": path.stem,
        "start": start,
        "day": start.tz_convert(LONDON).date(),
        "sport": "running",
        "duration_s": float(ses["total_timer_time"]),
        "distance_m": float(ses["total_distance"]),
        "gct_balance_left_pct": float(ses["avg_stance_time_balance"]),
        **{k: seg[k] for k in ("run_time_s", "walk_time_s", "run_intervals", "longest_run_s")},
    }


@pytest.fixture(scope="module")
def cara():
    sessions = pd.DataFrame(
        [cara_session(p) for p in sorted((FIXTURES / "fit/cara").glob("*.fit"))]
    )
    rows = pd.read_csv(FIXTURES / "checkins/cara.csv", dtype=str, keep_default_na=False)
    checkins = checkins_frame(parse_checkin(r) for r in rows.to_dict("records"))
    with open(FIXTURES / "plans/cara.toml", "rb") as f:
        state = PlanState.from_dict(tomllib.load(f))
    return state, sessions, checkins


def test_cara_segments_match_what_she_was_prescribed(cara):
    _, sessions, _ = cara
    assert len(sessions) == 14
    assert list(sessions["run_intervals"]) == [6] * 14
    expected = [360] * 3 + [720] * 3 + [1080] * 5 + [1440] * 3
    assert all(abs(a - b) <= 20 for a, b in zip(sessions["run_time_s"], expected, strict=True))


def test_cara_replay_progresses_repeats_after_the_flare_and_ends_ready_for_stage_5(cara):
    state, sessions, checkins = cara
    plan = load_plan(state.template)
    days = [state.start_day + dt.timedelta(days=k) for k in range(28)]
    decs = {d.day: d for d in replay(plan, state, sessions, checkins, days=days)}
    progress = [d for d, dec in decs.items() if dec.decision == "progress"]
    assert progress == [
        dt.date(2026, 10, 24),
        dt.date(2026, 10, 30),
        dt.date(2026, 11, 9),
        dt.date(2026, 11, 15),
    ]
    assert {dec.decision for dec in decs.values()} == {"progress", "repeat"}
    flare = decs[dt.date(2026, 11, 3)]
    assert flare.stage["name"] == "Walk-run 3"
    assert flare.reasons[0] == (
        "next-morning achilles pain 3/10 on Tue 3 Nov is above your baseline 1/10 — repeat this stage"
    )
    last = decs[dt.date(2026, 11, 15)]
    assert last.stage["name"] == "Walk-run 4" and last.completed["done"] == 3
    assert last.next["name"] == "Continuous 20"
    assert last.next["text"] == (
        "run 20 min continuous (stage 5 of 6, Continuous 20), not before Mon 16 Nov"
    )
    assert last.baseline["pain"] == 1.0 and last.baseline["si_from"] == "the plan's first week"
