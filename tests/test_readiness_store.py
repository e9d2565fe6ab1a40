"""Readiness results in the journal: the ``readiness`` table, ``ReadinessStore.results`` for the
plan engine, and the readiness source kind through the one Recorder transaction."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from drivers.imu import read_recording
from sensorhub.readiness import analyse_test
from sensorhub.recorder import Recorder
from sensorhub.sources import SourceError
from sensorhub.sources.readiness import readiness_series, readiness_source
from sensorhub.store import Journal
from sensorhub.store.readiness import RESULT_COLUMNS

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "readiness"
START = pd.Timestamp("2026-11-20T23:30:00Z")


def pair(name: str) -> tuple[Path, Path]:
    return DEMO / f"{name}_L.csv", DEMO / f"{name}_R.csv"


def test_add_and_results_give_the_plan_engine_columns_oldest_first(tmp_path):
    j = Journal(tmp_path / "j.sqlite")
    with j.transaction():
        j.readiness.add(
            "ana",
            "heel-raise",
            "shank",
            pd.Timestamp("2026-11-22T08:00Z"),
            "2026-11-22",
            {"L": {"reps": 14}, "R": {"reps": 18}},
            {"lsi_reps_pct": 77.8},
        )
        j.readiness.add(
            "ana",
            "hop",
            "shank",
            pd.Timestamp("2026-11-20T08:00Z"),
            "2026-11-20",
            {"L": {"hops": 10}, "R": {"hops": 10}},
            {"lsi_height_pct": 92.5, "lsi_rsi_pct": None},
            involved="L",
            pain=0,
        )
        j.readiness.add("ben", "hop", "sacrum", START, "2026-11-20", {}, {"lsi_height_pct": 50.0})
    df = j.readiness.results("ana")
    assert list(df.columns) == list(RESULT_COLUMNS)
    assert df["kind"].tolist() == ["hop", "heel-raise"]  # by time, not by insertion
    assert df["day"].tolist() == ["2026-11-20", "2026-11-22"]
    hop, heel = df.iloc[0], df.iloc[1]
    assert hop["lsi_height_pct"] == 92.5 and math.isnan(hop["lsi_rsi_pct"])
    assert hop["pain"] == 0.0 and math.isnan(heel["pain"])
    assert hop["involved"] == "L" and pd.isna(heel["involved"])
    assert heel["lsi_reps_pct"] == 77.8 and math.isnan(heel["lsi_height_pct"])
    assert str(df["time"].dt.tz) == "UTC"
    assert len(j.readiness.list()) == 3 and j.readiness.list("ben")["athlete"].tolist() == ["ben"]
    assert j.readiness.list("ana")["legs"].iloc[0] == {"L": {"hops": 10}, "R": {"hops": 10}}


def test_results_of_an_athlete_without_tests_is_empty_with_the_columns(tmp_path):
    df = Journal(tmp_path / "j.sqlite").readiness.results("nobody")
    assert df.empty and list(df.columns) == list(RESULT_COLUMNS)


def test_recorder_stores_row_and_points_in_one_go_and_a_rerun_is_a_duplicate(cfg):
    j = Journal(cfg.journal_path)
    left, right = pair("hop")
    src = readiness_source(
        "hop", left, right, "shank", "ana", "L", START, pain=0, tz="Europe/Berlin"
    )
    assert src.sessions == [] and src.kind == "readiness:hop"
    rec = Recorder(cfg, j).record(src)
    assert rec.status == "stored" and rec.athlete == "ana" and rec.points == 3
    row = j.readiness.rows("ana")[0]
    assert row["source_id"] == j.source_by_sha(src.identity)["id"]
    assert row["day"] == "2026-11-21"  # 23:30 UTC is past midnight in Berlin
    assert row["time"] == START.isoformat() and row["pain"] == 0.0
    expected = analyse_test(
        "hop", read_recording(left).frame, read_recording(right).frame, "shank", "L"
    )
    assert row["legs"] == expected.to_json()["legs"]
    assert row["lsi"] == pytest.approx(expected.lsi)
    lines = [ln for b in j.outbox.batches() for ln in b.body.splitlines()]
    assert len(lines) == 3 and all(ln.startswith("readiness,") for ln in lines)
    assert not j.dirty()  # a test is not training load: no daily-load recompute
    # the same files again, even with other options, are the same test
    again = readiness_source("hop", left, right, "shank", "ana", None, START)
    assert Recorder(cfg, j).record(again).status == "duplicate"
    assert len(j.readiness.rows()) == 1
    # the same bytes as another test kind are not the same identity
    assert readiness_source("hop", left, right, "sacrum", "ana").identity == src.identity
    assert src.identity != readiness_source("balance", *pair("balance"), "sacrum", "a").identity


def test_points_one_per_leg_and_one_lsi_at_the_test_start():
    left, right = pair("hop")
    res = analyse_test("hop", read_recording(left).frame, read_recording(right).frame, "shank", "R")
    series = readiness_series(res, START, pain=2)
    assert [s.tags["side"] for s in series] == ["L", "R", "lsi"]
    assert all(s.measurement == "readiness" for s in series)
    assert all(s.tags["kind"] == "hop" and s.tags["placement"] == "shank" for s in series)
    assert all(list(s.frame.index) == [START] for s in series)
    legs = series[0].frame.iloc[0]
    assert legs["hops"] == res.legs["L"]["hops"] and legs["height_cm"] == res.legs["L"]["height_cm"]
    lsi = series[2].frame.iloc[0].to_dict()
    assert lsi == pytest.approx({**res.lsi, "pain": 2.0, "involved_left": 0.0})


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"right_path": None}, "right leg's recording is missing"),
        ({"left_path": Path("/nonexistent/L.csv")}, "cannot read"),
        ({"placement": "sacrum", "kind": "heel-raise"}, "needs a pod on the shank"),
        ({"pain": 12.0}, "pain must be between 0 and 10"),
    ],
)
def test_source_errors_are_one_line(kwargs, message):
    left, right = pair("heel_raise")
    args = {"kind": "heel-raise", "left_path": left, "right_path": right, "placement": "shank"}
    args.update(kwargs)
    with pytest.raises(SourceError, match=message) as exc:
        readiness_source(**args, athlete="ana", start=START)
    assert "\n" not in str(exc.value)
