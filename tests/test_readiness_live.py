"""``sensorhub test KIND --live``: the guided prompts and running count (pure, injected clock),
and the whole command over bumble: an emulated Polar pod on a virtual link, the command in its
own process connecting through an HCI TCP transport, the test playing the athlete (it starts
each leg's hops when the command says "hop on your LEFT leg now"); and the runner in process
for heel raises with the gyro streamed. Runs are sped up 5-8×.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import socket
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from drivers.ble.emulators import replay
from sensorhub.cli import app
from sensorhub.cli.livepanel import replay_clock
from sensorhub.collect import DeviceSpec
from sensorhub.config import load_config
from sensorhub.live.emulate import Rig, imu_samples
from sensorhub.live.guided_run import run_guided
from sensorhub.readiness import analyse_leg
from sensorhub.readiness.guided import COUNT_FIELD, GuidedTest
from sensorhub.store import Journal

ROOT = Path(__file__).resolve().parents[1]
SENSORHUB = Path(sys.executable).parent / "sensorhub"
SPEEDUP = 5.0
POD = ("Hop Pod", "E0:5E:00:00:02:01")
AXES = ["acc_x_g", "acc_y_g", "acc_z_g"]
FRAME = 10  # samples per emulated PMD notification


def _generator():
    spec = importlib.util.spec_from_file_location("rgen", ROOT / "fixtures/readiness/generate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


GEN = _generator()


def hop_legs(fs: float = 200.0) -> dict[str, pd.DataFrame]:
    """Six hops per leg (left shorter flights), pods mounted askew; whole PMD frames of
    ``FRAME`` samples so the emulator sends every sample of a leg before the next leg starts."""
    legs = {}
    for leg, flight, contact, rot, seed in (
        ("L", 0.34, 0.25, [20, -35, 110], 1),
        ("R", 0.42, 0.21, [-60, 15, 200], 2),
    ):
        frame, _ = GEN.hops(6, flight, contact, "shank", fs, rotation=rot, seed=seed)
        legs[leg] = frame.iloc[: len(frame) // FRAME * FRAME].reset_index(drop=True)
    return legs


class FakeClock:
    def __init__(self, t: float = 5000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def drive(
    g: GuidedTest, legs: dict[str, pd.DataFrame], clock: FakeClock, fs: float = 200.0, dt=0.05
):
    """Play the athlete on an injected clock: each leg's samples stream in real time from its
    cue on (ACC and, when the frame has it, GYRO). Sensor time runs on (one pod): 100 s on
    between the legs."""
    prompts, pos, n = [], dict.fromkeys(legs, 0), int(round(dt * fs))
    gyr_cols = ["gyr_x_dps", "gyr_y_dps", "gyr_z_dps"]
    arrays = {  # numpy once: slicing frames on every step would be most of the test's time
        leg: (
            f["t_s"].to_numpy() + (100.0 if leg == "R" else 0.0),
            f[AXES].to_numpy(),
            f[gyr_cols].to_numpy() if "gyr_x_dps" in f else None,
        )
        for leg, f in legs.items()
    }
    g.start()
    while not g.done:
        prompts += g.poll()
        leg = g.recording
        if leg and pos[leg] < len(legs[leg]):
            t, acc, gyr = arrays[leg]
            part = slice(pos[leg], pos[leg] + n)
            pos[leg] += n
            if gyr is not None:
                g.feed_gyr(clock.t, t[part], gyr[part])
            prompts += g.feed_acc(clock.t, t[part], acc[part])
        clock.t += dt
    return prompts


def test_guided_prompts_in_order_and_running_count_is_the_final_count():
    legs, clock = hop_legs(), FakeClock()
    g = GuidedTest("hop", "shank", seconds=10, rest_s=4, clock=clock)
    prompts = drive(g, legs, clock)
    phases = [(p.leg, p.phase) for p in prompts if p.phase != "count"]
    per_leg = [("ready",), ("countdown",) * 3, ("go",), ("stop",)]
    want = [("L", ph) for group in per_leg for ph in group]
    want += [("R", "rest")] + [("R", ph) for group in per_leg for ph in group] + [("R", "done")]
    assert phases == want
    texts = [p.text for p in prompts]
    assert texts[1:5] == ["3", "2", "1", "hop on your LEFT leg now"]
    assert "hop on your RIGHT leg now" in texts and "move the pod to your RIGHT shank" in " ".join(
        texts
    )
    for leg in "LR":
        counts = [p.count for p in prompts if p.leg == leg and p.phase == "count"]
        final = analyse_leg("hop", legs[leg], "shank")["hops"]
        assert counts == list(range(1, final + 1))  # one prompt per hop, as it lands
        stop = next(p for p in prompts if p.leg == leg and p.phase == "stop")
        assert stop.count == final == 6 and stop.text == "stop (hops: 6)"
        # the recording kept is the leg's samples, on its own time axis
        rec = g.legs[leg].frame()
        assert len(rec) == len(legs[leg]) and rec["t_s"].iloc[0] == 0.0
        np.testing.assert_allclose(rec[AXES].to_numpy(), legs[leg][AXES].to_numpy())


SLOW = {  # kind -> (placement, left, right): heel raises with the gyro, balance with a touch-down
    "heel-raise": (
        "shank",
        lambda: GEN.heel_raises(full_reps=6, fs=100, rotation=[20, -35, 110], seed=3)[0],
        lambda: GEN.heel_raises(full_reps=7, fs=100, rotation=[-60, 15, 200], seed=4)[0],
    ),
    "balance": (
        "sacrum",
        lambda: GEN.balance(24, 20.0, 100, rotation=[20, -35, 110], losses_s=(9.0,), seed=5)[0],
        lambda: GEN.balance(20, 20.0, 100, rotation=[-60, 15, 200], seed=6)[0],
    ),
}


@pytest.mark.parametrize("kind", list(SLOW))
def test_guided_running_count_of_heel_raises_and_balance_is_the_final_count(kind):
    placement, make_l, make_r = SLOW[kind]
    legs, clock = {"L": make_l(), "R": make_r()}, FakeClock()
    g = GuidedTest(kind, placement, seconds=30, rest_s=1, clock=clock, update_s=1.0)
    prompts = drive(g, legs, clock, fs=100.0)
    for leg in "LR":
        final = analyse_leg(kind, legs[leg], placement)[COUNT_FIELD[kind]]
        counts = [p.count for p in prompts if p.leg == leg and p.phase == "count"]
        stop = next(p for p in prompts if p.leg == leg and p.phase == "stop")
        assert stop.count == final and counts[-1] == final
        if kind == "heel-raise":  # every rep shown as it is counted, gyro kept
            assert final >= 6 and counts == list(range(counts[0], final + 1))
            assert "gyr_x_dps" in g.legs[leg].frame()
        else:  # the seconds left, once a second, and the touch-down of the left leg
            left = [p.seconds_left for p in prompts if p.leg == leg and p.phase == "count"]
            assert left == sorted(left, reverse=True)
            assert {round(x) for x in left} == set(range(1, 30))  # 29 s left ... 1 s left
            assert final == (1 if leg == "L" else 0)


def test_guided_schedule_follows_the_clock_and_drops_samples_outside_the_windows():
    clock = FakeClock(0.0)
    g = GuidedTest("balance", "sacrum", seconds=6, rest_s=2, clock=clock)
    g.start()
    assert [p.text for p in g.poll()] == ["LEFT leg, balance test (6 s)", "3"]
    assert g.recording is None and g.next_due_s() == pytest.approx(1.0)
    t = np.arange(0, 0.5, 0.005)
    still = np.column_stack([0 * t, 0 * t, 1 + 0 * t])
    assert g.feed_acc(clock.t, t, still) == [] and g.legs["L"].n_samples == 0  # before the cue
    clock.t = 3.0
    assert [p.phase for p in g.poll()] == ["countdown", "countdown", "go"]
    assert g.recording == "L"
    clock.t = 4.2  # balance shows the seconds left once a second
    count = [p for p in g.poll() if p.phase == "count"]
    assert count and count[0].text == "5 s left, touch-downs: 0"
    assert count[0].seconds_left == pytest.approx(4.8)
    assert g.poll() == []  # not again within the same second
    clock.t = 9.0
    assert [p.phase for p in g.poll()] == ["stop", "rest"]
    assert g.recording is None and not g.done


def test_guided_rejects_a_bad_window():
    with pytest.raises(ValueError, match="--seconds must be > 0"):
        GuidedTest("hop", "shank", seconds=-1)


# --------------------------------------------------------------------------- over bumble
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(home: Path, *pods: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    rows = "".join(
        f'[[ble_devices]]\nname = "{p}"\nathlete = "ana"\nkind = "pmd"\nplacement = "left_shank"\n\n'
        for p in pods
    )
    (home / "config.toml").write_text(rows)


async def live_command(
    home: Path, pod: pd.DataFrame | None, args: list[str], cues: dict, early=None
):
    """Run ``sensorhub test ... --live`` in its own process against an emulated pod named
    ``POD`` offering ``pod``'s sample rate (no pod: None); replay ``cues[text]`` on the pod
    when the command prints ``text`` (or ``early`` as soon as the pod is connected).
    Returns (exit code, stdout, stderr)."""
    port = free_port()
    rig = Rig(speedup=SPEEDUP)
    if pod is not None:
        rig.pod(POD[0], POD[1], pod, samples_per_frame=FRAME)  # hop_legs() fills whole frames
    await rig.expose(f"tcp-server:_:{port}")
    await rig.start()
    cmd = [str(SENSORHUB), "--home", str(home), "test", *args, "--live"]
    cmd += ["--transport", "bumble", "--hci", f"tcp-client:127.0.0.1:{port}"]
    cmd += ["--speedup", str(SPEEDUP), "--rest", "2"]
    cmd += [] if "--wait" in args else ["--wait", "15"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "160"}
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env
    )
    pod = rig.sensors[0][0] if rig.sensors else None
    replays: list[asyncio.Task] = []
    if early is not None:

        async def stream_on_connect():
            await rig.wait_connected(20)
            await pod.run(replay(early))

        replays.append(asyncio.create_task(stream_on_connect()))

    async def read(stream, lines):
        while line := await stream.readline():
            text = line.decode()
            lines.append(text)
            for cue, samples in cues.items():
                if cue in text:
                    replays.append(asyncio.create_task(pod.run(replay(samples))))

    out, err = [], []
    await asyncio.wait_for(asyncio.gather(read(proc.stdout, out), read(proc.stderr, err)), 60)
    code = await proc.wait()
    for task in replays:
        task.cancel()
    await asyncio.gather(*replays, return_exceptions=True)
    await rig.close()
    return code, "".join(out), "".join(err)


def file_csvs(tmp_path: Path, legs: dict[str, pd.DataFrame]) -> dict[str, Path]:
    paths = {}
    for leg, frame in legs.items():
        paths[leg] = tmp_path / f"hop_{leg}.csv"
        frame.to_csv(paths[leg], index=False)
    return paths


def test_live_hop_test_stores_what_the_file_path_gives_on_the_same_recordings(tmp_path):
    legs = hop_legs()
    live_home, file_home = tmp_path / "live", tmp_path / "file"
    write_config(live_home, POD[0])
    cues = {
        f"hop on your {w} leg now": imu_samples(legs[leg])
        for leg, w in (("L", "LEFT"), ("R", "RIGHT"))
    }
    args = ["hop", "--athlete", "ana", "--placement", "shank", "--involved", "L", "--json"]
    code, stdout, stderr = asyncio.run(live_command(live_home, imu_samples(legs["L"]), args, cues))
    assert code == 0, stderr
    live = json.loads(stdout)

    # the prompts, in order, on stderr (stdout is pure JSON with --json)
    lines = [x.strip() for x in stderr.splitlines()]
    order = ["3", "2", "1", "hop on your LEFT leg now", "stop (hops: 6)"]
    order += ["3", "2", "1", "hop on your RIGHT leg now", "stop (hops: 6)"]
    seen = [x for x in lines if x in order]
    assert seen == order, stderr
    assert [x for x in lines if x.startswith("hops:")] == [f"hops: {n}" for n in range(1, 7)] * 2
    assert any(x.startswith("stored: hop test of ana") for x in lines), stderr

    paths = file_csvs(tmp_path, legs)
    r = CliRunner().invoke(
        app,
        ["--home", str(file_home), "test", "hop", "--left", str(paths["L"])]
        + ["--right", str(paths["R"]), "--placement", "shank", "--athlete", "ana"]
        + ["--involved", "L", "--start", "2026-11-20T08:00:00Z", "--json"],
    )
    assert r.exit_code == 0, r.output
    by_file = json.loads(r.stdout)
    for leg in "LR":
        lv, fl = live["legs"][leg], by_file["legs"][leg]
        assert lv["hops"] == fl["hops"] == 6
        assert lv["flight_ms"] == pytest.approx(fl["flight_ms"], abs=2.0)
        assert lv["contact_ms"] == pytest.approx(fl["contact_ms"], abs=2.0)
        assert lv["fs_hz"] == pytest.approx(200.0, abs=0.5)
    assert live["lsi_height_pct"] == pytest.approx(by_file["lsi_height_pct"], abs=0.5)
    assert live["lsi_height_pct"] < 90  # left flights are shorter: the same verdict

    # stored as the file path stores: one readiness row, the recordings kept as CSV files
    journal = Journal(load_config(home=live_home).journal_path)
    rows = journal.readiness.results("ana")
    assert rows["kind"].tolist() == ["hop"]
    kept = sorted((live_home / "readiness").glob("ana-hop-*.csv"))
    assert [p.name[-5:] for p in kept] == ["L.csv", "R.csv"]
    again = CliRunner().invoke(
        app,
        ["--home", str(live_home), "test", "hop", "--left", str(kept[0]), "--right"]
        + [str(kept[1]), "--placement", "shank", "--athlete", "ana", "--involved", "L"],
    )
    assert again.exit_code == 0 and "already stored" in again.stdout  # the same test


def test_live_pod_below_200_hz_is_one_line_exit_2_and_nothing_stored(tmp_path):
    home = tmp_path / "home"
    write_config(home, POD[0])
    slow = hop_legs(fs=100.0)["L"]
    args = ["hop", "--athlete", "ana", "--placement", "shank"]  # the pod offers 100 Hz only
    code, stdout, stderr = asyncio.run(
        live_command(home, imu_samples(slow), args, {}, early=imu_samples(slow))
    )
    assert code == 2, stdout + stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "pod 'Hop Pod' streams at 100 Hz; at least 200 Hz is needed" in lines[0]
    assert "Traceback" not in stderr and "now" not in stdout  # stopped before any cue
    journal = Journal(load_config(home=home).journal_path)
    assert journal.readiness.rows() == [] and journal.source_counts() == (0, 0)
    assert not list(home.glob("readiness/*"))


def test_live_pod_that_does_not_connect_is_one_line_and_nothing_stored(tmp_path):
    home = tmp_path / "home"
    write_config(home, "Missing Pod")
    args = ["hop", "--athlete", "ana", "--placement", "shank", "--wait", "1"]
    code, stdout, stderr = asyncio.run(live_command(home, None, args, {}))
    assert code == 2, stdout + stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "pod 'Missing Pod' did not connect within 1 s" in lines[0], stderr
    assert Journal(load_config(home=home).journal_path).readiness.rows() == []


def test_live_needs_a_pod_and_no_files(home):
    write_config(home)
    r = CliRunner().invoke(
        app,
        ["--home", str(home), "test", "hop", "--athlete", "ana"]
        + ["--placement", "shank", "--live"],
    )
    assert r.exit_code == 2 and "no IMU pod of ana in [[ble_devices]]" in r.stderr
    write_config(home, "A", "B")
    r = CliRunner().invoke(
        app,
        ["--home", str(home), "test", "hop", "--athlete", "ana"]
        + ["--placement", "shank", "--live"],
    )
    assert r.exit_code == 2 and "2 IMU pods of ana (A, B); give --device NAME" in r.stderr
    r = CliRunner().invoke(
        app,
        ["--home", str(home), "test", "hop", "--athlete", "ana"]
        + ["--placement", "shank", "--live", "--left", "x.csv"],
    )
    assert r.exit_code == 2 and "leave out --left/--right/--start" in r.stderr
    r = CliRunner().invoke(
        app,
        ["--home", str(home), "test", "heel-raise", "--athlete", "ana", "--live"]
        + ["--placement", "sacrum", "--device", "A"],
    )
    assert r.exit_code == 2 and "needs a pod on the shank, not 'sacrum'" in r.stderr
    assert not (home / "readiness").exists()


def test_live_heel_raises_stream_the_gyro_and_count_as_the_file_path():
    """In-process runner over a bumble virtual link: ACC and GYRO frames of one pod, each
    leg replayed at its cue; the recordings are the replayed samples (to PMD resolution)."""
    speedup = 8.0
    legs = {leg: SLOW["heel-raise"][i + 1]() for i, leg in enumerate("LR")}
    legs = {k: v.iloc[: len(v) // FRAME * FRAME].reset_index(drop=True) for k, v in legs.items()}
    samples = {k: imu_samples(v, gyro=True) for k, v in legs.items()}

    async def main():
        rig = Rig(speedup=speedup)
        pod = rig.pod("HR Pod", "E0:5E:00:00:03:01", samples["L"], samples_per_frame=FRAME)
        await rig.start()
        shown, replays = [], []

        def show(p):
            shown.append(p)
            if p.phase == "go":
                replays.append(asyncio.create_task(pod.run(replay(samples[p.leg]))))

        spec = DeviceSpec("HR Pod", "ana", "pmd", "left_shank")
        rec = await run_guided(
            "heel-raise",
            "shank",
            spec,
            rig.central(),
            show,
            seconds=28,
            rest_s=1,
            clock_ns=replay_clock(speedup),
            speedup=speedup,
        )
        await asyncio.gather(*replays)
        return rec, shown

    rec, shown = asyncio.run(main())
    assert rec.fs_hz == pytest.approx(100.0)
    for leg in "LR":
        frame = rec.frames[leg]
        assert len(frame) == len(legs[leg]) and "gyr_x_dps" in frame
        live, by_file = (analyse_leg("heel-raise", f, "shank") for f in (frame, legs[leg]))
        assert live["pitch_source"] == "gyro"
        assert (live["reps"], live["reps_total"]) == (by_file["reps"], by_file["reps_total"])
        assert live["amplitude_deg"] == pytest.approx(by_file["amplitude_deg"], abs=0.05)
        stop = next(p for p in shown if p.leg == leg and p.phase == "stop")
        assert stop.count == by_file["reps_total"]
    assert rec.starts["L"] < rec.starts["R"]
