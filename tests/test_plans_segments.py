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


# -- the numpy segmentation equals the pandas / relabel-and-encode-again one it replaced -------
def reference(run: pd.DataFrame) -> dict:
    """run_walk_segments as it was written first (pandas rolling median; the short segments
    relabelled second by second and run-length encoded again after each merge)."""
    run = run.sort_index()
    t = np.asarray((run.index - run.index[0]).total_seconds(), dtype=float)
    grid = np.arange(0.0, np.floor(t[-1]) + 1.0)
    idx = np.searchsorted(t, grid, side="right") - 1
    nxt = np.append(t[1:], np.inf)
    end = np.where(nxt - t <= 10.0, nxt, t + 1.0)

    def held(col: str) -> np.ndarray:
        if col not in run:
            return np.full(len(grid), np.nan)
        return np.where(grid < end[idx], run[col].to_numpy(dtype=float)[idx], np.nan)

    cad, spd = held("cadence_spm"), held("speed_mps")
    present = ~(np.isnan(cad) & np.isnan(spd))
    cad_s = pd.Series(cad).rolling(5, min_periods=1, center=True).median().to_numpy()
    spd_s = pd.Series(spd).rolling(5, min_periods=1, center=True).median().to_numpy()
    running = np.where(~np.isnan(cad_s), cad_s >= 140.0, np.nan_to_num(spd_s) >= 2.2)
    labels = np.where(present, np.where(running, 1, 0), -1)

    def runs(lab: np.ndarray) -> list[tuple[int, int, int]]:
        starts = np.concatenate([[0], np.flatnonzero(np.diff(lab)) + 1])
        lengths = np.diff(np.concatenate([starts, [len(lab)]]))
        return [(int(lab[s]), int(s), int(n)) for s, n in zip(starts, lengths, strict=True)]

    while True:
        segs = runs(labels)
        short = sorted((n, i) for i, (lab, _, n) in enumerate(segs) if lab != -1 and n < 20)
        for _, i in short:
            nbrs = [segs[j] for j in (i - 1, i + 1) if 0 <= j < len(segs) and segs[j][0] != -1]
            if nbrs:
                labels[segs[i][1] : segs[i][1] + segs[i][2]] = max(nbrs, key=lambda s: s[2])[0]
                break
        else:
            break
    segs = [s for s in runs(labels) if s[0] != -1]
    return {
        "intervals": [
            {"kind": "run" if lab == 1 else "walk", "start_s": float(s), "duration_s": float(n)}
            for lab, s, n in segs
        ],
        "method": "+".join(
            m
            for m, used in (("cadence", ~np.isnan(cad_s)), ("speed", np.isnan(cad_s)))
            if used[present].any()
        ),
    }


def choppy(seed: int, n: int = 1200) -> pd.DataFrame:
    """Cadence and speed switching every 3-60 s, near the thresholds, with missing values,
    stretches without cadence, ±inf, pauses and smart-recording gaps: many short segments,
    ties of equal length and windows with missing values, the cases the merge order and
    the median's missing-value rule decide."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, 60, n // 3)
    kind = np.repeat(rng.integers(0, 2, len(lengths)), lengths)[:n]
    cad = np.where(kind == 1, 150.0, 125.0) + rng.normal(0, 8, len(kind))
    spd = np.where(kind == 1, 2.5, 1.8) + rng.normal(0, 0.3, len(kind))
    cad[rng.random(len(kind)) < 0.05] = np.nan
    spd[rng.random(len(kind)) < 0.02] = np.inf
    for start in rng.integers(0, len(kind), 4):
        cad[start : start + rng.integers(10, 200)] = np.nan
    step = rng.choice([1, 1, 1, 2, 3, 12, 30], len(kind))  # seconds to the next record
    idx = pd.Timestamp("2026-10-19 07:00", tz="UTC") + pd.to_timedelta(np.cumsum(step), unit="s")
    return pd.DataFrame({"cadence_spm": cad, "speed_mps": spd}, index=idx)


@pytest.mark.parametrize("seed", range(6))
def test_segments_equal_the_first_implementation(seed):
    df = choppy(seed)
    variants = [df, df.drop(columns="cadence_spm"), df.iloc[::4], df.iloc[: len(df) // 7]]
    for run in variants:
        out = run_walk_segments(run)
        assert {k: out[k] for k in ("intervals", "method")} == reference(run)
        runs = [i["duration_s"] for i in out["intervals"] if i["kind"] == "run"]
        assert out["run_time_s"] == sum(runs) and out["run_intervals"] == len(runs)
    assert len(reference(df)["intervals"]) > 20  # the merges had work to do


def test_unsorted_records_columns_given_and_sub_second_times_give_the_same():
    df = choppy(3)
    out = run_walk_segments(df)
    assert run_walk_segments(df.sample(frac=1.0, random_state=1)) == out
    cols = {c: df[c].to_numpy() for c in ("cadence_spm", "speed_mps")}
    assert run_walk_segments(df, columns=cols) == out
    late = df.set_axis(df.index + pd.Timedelta(milliseconds=250), axis=0)
    late.index = late.index.insert(0, df.index[0])[:-1]  # only the first on a whole second
    assert run_walk_segments(late)["intervals"] == reference(late)["intervals"]


def test_short_segments_merge_shortest_first_earliest_of_equals():
    # walk 30 | run 5 | walk 8 | run 5 | walk 30: the first 5-s run goes first (earliest of
    # the two shortest) and joins both walks; the walk of 43 s then swallows the second run
    lab = np.r_[[0] * 30, [1] * 5, [0] * 8, [1] * 5, [0] * 30]
    df = pd.DataFrame(
        {"cadence_spm": np.where(lab == 1, 170.0, 110.0)},
        index=pd.date_range("2026-10-19", periods=len(lab), freq="s", tz="UTC"),
    )
    out = run_walk_segments(df, smooth_s=1)
    assert out["intervals"] == [{"kind": "walk", "start_s": 0.0, "duration_s": 78.0}]
    # walk 30 | run 3 | walk 2 | run 14 | walk 30: the 2-s walk joins the runs, 19 s of
    # running that is still short and joins the walks in turn
    lab = np.r_[[0] * 30, [1] * 3, [0] * 2, [1] * 14, [0] * 30]
    frame = pd.DataFrame(
        {"cadence_spm": np.where(lab == 1, 170.0, 110.0)},
        index=pd.date_range("2026-10-19", periods=len(lab), freq="s", tz="UTC"),
    )
    out = run_walk_segments(frame, smooth_s=1)
    assert out["intervals"] == [{"kind": "walk", "start_s": 0.0, "duration_s": 79.0}]
    # a short run between two pauses has no neighbour to join: it stays
    gap = pd.Timedelta(minutes=1)
    alone = pd.concat([df.iloc[:30], df.iloc[30:35].set_axis(df.index[30:35] + gap, axis=0)])
    out = run_walk_segments(alone, smooth_s=1)
    assert [(i["kind"], i["duration_s"]) for i in out["intervals"]] == [
        ("walk", 30.0),
        ("run", 5.0),
    ]


@pytest.mark.parametrize("window", [1, 2, 4, 5, 6, 9, 15, 16])
def test_rolling_median_is_pandas_value_for_value(window):
    from sensorhub.plans.segments import _CHUNK, _rolling_median

    rng = np.random.default_rng(window)
    for n in (1, 2, 7, 300, _CHUNK + 123):
        x = rng.integers(-3, 4, n).astype(float)  # ties: the even-count mean of equal values
        x[rng.random(n) < 0.2] = np.nan
        x[rng.random(n) < 0.05] = np.inf  # pandas' rolling treats ±inf as missing
        x[rng.random(n) < 0.05] = -np.inf
        x[: n // 10] = np.nan
        want = pd.Series(x).rolling(window, min_periods=1, center=True).median().to_numpy()
        got = _rolling_median(x.copy(), window)
        np.testing.assert_array_equal(got, want)
