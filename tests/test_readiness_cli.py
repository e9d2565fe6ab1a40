"""``sensorhub test`` and ``sensorhub tests`` as a user runs them (in-process CLI, real journal,
real influxd), and replaying the readiness demo recordings as an emulated pod."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from drivers.imu import read_recording
from sensorhub.cli import app
from sensorhub.config import load_config
from sensorhub.live.emulate import imu_samples
from sensorhub.readiness import analyse_test
from sensorhub.store import Journal

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "readiness"
START = "2026-11-20T08:00:00Z"
CASES = {  # test -> (file stem, placement)
    "hop": ("hop", "shank"),
    "heel-raise": ("heel_raise", "shank"),
    "balance": ("balance", "sacrum"),
}


def run(home: Path, *args: str):
    return CliRunner().invoke(app, ["--home", str(home), *args])


def cli_args(kind: str, left: Path | None = None, right: Path | None = None, **opts: str):
    stem, placement = CASES[kind]
    args = ["test", kind, "--athlete", "ana", "--start", START]
    for name, path in (("--left", left or DEMO / f"{stem}_L.csv"), ("--right", right)):
        if path is not None or name == "--left":
            args += [name, str(path)]
    opts.setdefault("placement", placement)
    for k, v in opts.items():
        args += [f"--{k}", v]
    return args


def demo_args(kind: str, **opts: str) -> list[str]:
    stem = CASES[kind][0]
    return cli_args(kind, right=DEMO / f"{stem}_R.csv", **opts)


def journal(home: Path) -> Journal:
    return Journal(load_config(home=home).journal_path)


@pytest.mark.parametrize("kind", list(CASES))
def test_json_equals_analyse_test_on_the_same_files(home, kind):
    stem, placement = CASES[kind]
    r = run(home, *demo_args(kind, involved="L"), "--json")
    assert r.exit_code == 0, r.output
    left, right = (read_recording(DEMO / f"{stem}_{s}.csv").frame for s in "LR")
    assert json.loads(r.stdout) == analyse_test(kind, left, right, placement, "L").to_json()
    assert "stored" in r.stderr  # status lines keep stdout pure JSON
    rows = journal(home).readiness.results("ana")
    assert rows["kind"].tolist() == [kind] and rows["day"].tolist() == ["2026-11-20"]


def test_table_output_shows_per_leg_figures_and_the_90_mark(home):
    r = run(home, *demo_args("hop", involved="L", pain="0"))
    assert r.exit_code == 0, r.output
    for figure in ("hops", "flight_ms", "contact_ms", "height_cm", "rsi"):
        assert figure in r.stdout
    assert "lsi_height_pct: 77.3 % — is below the conventional 90 % mark" in r.stdout
    assert "stored: hop test of ana (3 points)" in r.stdout
    again = run(home, *demo_args("hop", involved="L", pain="0"))
    assert again.exit_code == 0 and "already stored" in again.stdout
    assert len(journal(home).readiness.rows()) == 1


def test_tests_lists_results_over_time_with_the_mark(home):
    assert run(home, *demo_args("balance", involved="L")).exit_code == 0
    assert run(home, *demo_args("heel-raise")).exit_code == 0
    r = run(home, "tests", "--csv")
    assert r.exit_code == 0, r.output
    df = pd.read_csv(io.StringIO(r.stdout))
    assert df["kind"].tolist() == ["balance"] * 4 + ["heel-raise"]
    heel = df[df["kind"] == "heel-raise"].iloc[0]
    assert heel["lsi"] == "lsi_reps_pct" and heel["lsi_pct"] == pytest.approx(77.78, abs=0.01)
    assert not heel["reaches_90"] and df["reaches_90"].eq(False).all()
    table = run(home, "tests", "--athlete", "ana")
    assert table.exit_code == 0 and "lsi_reps_pct" in table.stdout
    assert "no readiness tests yet" in run(home, "tests", "--athlete", "ben").stdout


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bad")
    hop = pd.read_csv(DEMO / "hop_L.csv")
    hop.iloc[::4].to_csv(d / "hop_100hz.csv", index=False)
    t = np.arange(0, 8, 0.0025)
    still = pd.DataFrame({"t_s": t, "acc_x_g": 0.01, "acc_y_g": 0.0, "acc_z_g": 1.0})
    still.to_csv(d / "standing.csv", index=False)
    (d / "notes.csv").write_text("hello,world\n1,2\n")
    return {p.stem: p for p in d.iterdir()}


BAD = {
    "hop below 200 Hz": (
        lambda f: cli_args("hop", f["hop_100hz"], DEMO / "hop_R.csv"),
        "at least 200 Hz",
    ),
    "wrong placement": (
        lambda f: demo_args("heel-raise", placement="sacrum"),
        "needs a pod on the shank",
    ),
    "no hops": (lambda f: cli_args("hop", f["standing"], DEMO / "hop_R.csv"), "no hops found"),
    "no reps": (
        lambda f: cli_args("heel-raise", f["standing"], DEMO / "heel_raise_R.csv"),
        "no reps found",
    ),
    "a leg missing": (lambda f: cli_args("hop"), "right leg's recording is missing"),
    "unreadable file": (
        lambda f: cli_args("hop", f["notes"], DEMO / "hop_R.csv"),
        "not an IMU recording",
    ),
    "no such file": (
        lambda f: cli_args("hop", Path("/nonexistent/L.csv"), DEMO / "hop_R.csv"),
        "cannot read",
    ),
    "unknown test": (lambda f: ["test", "jump", "--athlete", "ana"], "unknown test 'jump'"),
    "pain out of range": (lambda f: demo_args("hop", pain="11"), "pain must be between"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_line_exit_2_and_nothing_stored(home, bad_files, case):
    make, message = BAD[case]
    r = run(home, *make(bad_files))
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], r.stderr
    assert "Traceback" not in r.output
    j = journal(home)
    assert j.readiness.rows() == [] and j.source_counts() == (0, 0)


@pytest.mark.influx
def test_results_reach_the_readiness_measurement(influx_cfg, influxd, db_name):
    r = run(influx_cfg.home, *demo_args("hop", involved="L", pain="0"))
    assert r.exit_code == 0, r.output
    assert "InfluxDB: 3 points sent." in r.stdout
    series = influxd.query(db_name, 'SELECT * FROM "readiness" GROUP BY *')
    by_side = {
        s["tags"]["side"]: dict(zip(s["columns"], s["values"][0], strict=True)) for s in series
    }
    assert set(by_side) == {"L", "R", "lsi"}
    assert all(s["tags"]["kind"] == "hop" and s["tags"]["athlete"] == "ana" for s in series)
    assert all(s["tags"]["placement"] == "shank" for s in series)
    assert {v["time"] for v in by_side.values()} == {pd.Timestamp(START).value // 10**6}
    res = json.loads(run(influx_cfg.home, *demo_args("hop", involved="L"), "--json").stdout)
    assert by_side["L"]["height_cm"] == pytest.approx(res["legs"]["L"]["height_cm"])
    assert by_side["R"]["hops"] == res["legs"]["R"]["hops"]
    assert by_side["lsi"]["lsi_height_pct"] == pytest.approx(res["lsi_height_pct"], abs=0.01)
    assert by_side["lsi"]["pain"] == 0 and by_side["lsi"]["involved_left"] == 1


@pytest.mark.parametrize("stem", ["hop_L", "heel_raise_R", "balance_L"])
def test_imu_samples_replays_the_readiness_demo_recordings_as_recorded(stem):
    path = DEMO / f"{stem}.csv"
    raw = pd.read_csv(path)
    samples = imu_samples(path)
    assert samples.columns.tolist() == ["t_s", "acc_x_g", "acc_y_g", "acc_z_g"]
    assert len(samples) == len(raw)
    for c in samples.columns:
        np.testing.assert_allclose(samples[c].to_numpy(), raw[c].to_numpy(), atol=1e-9)
    if "gyr_x_dps" in raw:
        with_gyro = imu_samples(path, gyro=True)
        np.testing.assert_allclose(with_gyro["gyr_z_dps"].to_numpy(), raw["gyr_z_dps"].to_numpy())


def test_imu_samples_puts_body_axes_on_pod_axes_from_a_file(tmp_path):
    p = tmp_path / "body.csv"
    pd.DataFrame(
        {"t_s": [0, 0.005, 0.01], "acc_v_g": [1.0, 1.1, 0.9], "acc_ap_g": 0.1, "acc_ml_g": 0.2}
    ).to_csv(p, index=False)
    samples = imu_samples(p)
    assert samples["acc_z_g"].tolist() == [1.0, 1.1, 0.9]
    # a right-handed pod: x = AP, z = V, y = −ML (sensorhub.live.emulate._pod_axes)
    assert samples["acc_x_g"].tolist() == [0.1] * 3 and samples["acc_y_g"].tolist() == [-0.2] * 3
