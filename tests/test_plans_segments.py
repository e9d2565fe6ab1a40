"""run_walk_segments on synthetic per-second and smart-recording frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sensorhub.plans import run_walk_segments


def walk_run(run_s: int, walk_s: int, reps: int, seed: int = 0) -> pd.DataFrame:
    """Per-second cadence/speed of run ``run_s`` / walk ``walk_s`` × ``reps``, with noise."""
    rng = np.random.default_rng(seed)
    cad = np.concatenate([np.r_[np.full(run_s, 164.0), np.full(walk_s, 114.0)]] * reps)
    spd = np.concatenate([np.r_[np.full(run_s, 2.6), np.full(walk_s, 1.5)]] * reps)
    idx = pd.date_range("2026-10-19 07:00", periods=len(cad), freq="s", tz="UTC")
    return pd.DataFrame(
        {
            "cadence_spm": cad + rng.normal(0, 4, len(cad)),
            "speed_mps": spd + rng.normal(0, 0.25, len(cad)),
        },
        index=idx,
    )


def summary(out: dict) -> tuple:
    return out["run_intervals"], out["run_time_s"], out["walk_time_s"], out["longest_run_s"]


def test_run_1_walk_4_times_6():
    out = run_walk_segments(walk_run(60, 240, 6))
    assert summary(out) == (6, 360.0, 1440.0, 60.0)
    assert out["method"] == "cadence"
    assert [i["kind"] for i in out["intervals"]] == ["run", "walk"] * 6
    assert out["intervals"][2] == {"kind": "run", "start_s": 300.0, "duration_s": 60.0}


def test_speed_only_and_5_s_smart_recording():
    df = walk_run(60, 240, 6)
    speed_only = run_walk_segments(df.drop(columns="cadence_spm"))
    assert speed_only["run_intervals"] == 6 and speed_only["method"] == "speed"
    assert abs(speed_only["run_time_s"] - 360) <= 6
    every_5 = run_walk_segments(df.iloc[::5])  # a record every 5 s, held until the next
    assert every_5["run_intervals"] == 6 and abs(every_5["run_time_s"] - 360) <= 10


def test_cadence_wins_over_a_slow_jog_speed():
    df = walk_run(120, 180, 4)
    df["speed_mps"] = df["speed_mps"].clip(upper=2.0)  # a jog slower than 2.2 m/s
    assert run_walk_segments(df)["run_intervals"] == 4


def test_short_stop_inside_a_run_does_not_split_it():
    df = walk_run(600, 60, 1)
    df.iloc[300:310, :] = [0.0, 0.0]  # 10 s at a crossing
    out = run_walk_segments(df)
    assert summary(out) == (1, 600.0, 60.0, 600.0)


def test_pause_is_neither_running_nor_walking():
    df = walk_run(60, 240, 2)
    later = df.index[-1] + pd.Timedelta(minutes=10)
    tail = walk_run(60, 0, 1).set_axis(pd.date_range(later, periods=60, freq="s"), axis=0)
    out = run_walk_segments(pd.concat([df, tail]))
    assert out["run_intervals"] == 3 and out["run_time_s"] == 180.0 and out["walk_time_s"] == 480.0


def test_needs_speed_or_cadence():
    df = pd.DataFrame(
        {"hr_bpm": [120, 121]}, index=pd.date_range("2026-10-19", periods=2, freq="s")
    )
    with pytest.raises(ValueError, match="needs a speed_mps or cadence_spm"):
        run_walk_segments(df)
