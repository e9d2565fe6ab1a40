"""Pipeline behaviour on the journal: athletes, late sessions, RPE logging, IMU files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sensorhub.config import load_config
from sensorhub.pipeline import Pipeline
from sensorhub.sources.imu import ImuSource

from .fitbuild import write_run

ROOT = Path(__file__).resolve().parents[1]
DAY_MS = 86_400_000
T0 = 1_767_000_000_000  # 2025-12-29 09:20 UTC
NOW = pd.Timestamp("2026-03-01", tz="UTC")


def run_on(
    tmp: Path, day: int, minutes: int = 30, serial: int = 1234567, name: str | None = None
) -> Path:
    return write_run(
        tmp / (name or f"d{day:03d}.fit"),
        range(0, minutes * 60, 5),
        t0_ms=T0 + day * DAY_MS,
        serial=serial,
    )


@pytest.fixture
def two_athletes(home: Path) -> Path:
    cfg = home.parent / "sensorhub.toml"
    cfg.write_text(
        '[load]\nprimary = "duration"\n'
        '[[athletes]]\nid = "ana"\ndevices = ["111"]\n'
        '[[athletes]]\nid = "ben"\ndevices = ["222"]\ntz = "America/New_York"\n'
    )
    return cfg


def test_device_serial_picks_the_athlete_and_override_wins(tmp_path, home, two_athletes):
    cfg = load_config(two_athletes, home)
    a, b = (
        run_on(tmp_path, 0, serial=111, name="a.fit"),
        run_on(tmp_path, 0, serial=222, name="b.fit"),
    )
    Pipeline(cfg, now=NOW).ingest([a, b])
    assert sorted(Pipeline(cfg).journal.sessions()["athlete"]) == ["ana", "ben"]
    c = run_on(tmp_path, 1, serial=111, name="c.fit")
    Pipeline(cfg, athlete="zoe", now=NOW).ingest([c])
    assert "zoe" in set(Pipeline(cfg).journal.sessions()["athlete"])


def test_unknown_device_goes_to_the_default_athlete(tmp_path, cfg):
    Pipeline(cfg, now=NOW).ingest([run_on(tmp_path, 0, serial=999)])
    assert list(Pipeline(cfg).journal.sessions()["athlete"]) == ["default"]


def test_load_is_per_local_calendar_day(tmp_path, home, two_athletes):
    cfg = load_config(two_athletes, home)
    # 2025-12-29 + 0 days at 03:00 UTC is still 2025-12-28 in New York
    f = write_run(tmp_path / "early.fit", range(0, 600, 5), t0_ms=1_766_977_200_000, serial=222)
    Pipeline(cfg, now=NOW).ingest([f])
    assert Pipeline(cfg).journal.sessions()["day"].iloc[0] == "2025-12-28"


def test_late_session_recomputes_every_later_day_and_not_earlier(tmp_path, home, two_athletes):
    cfg = load_config(two_athletes, home)
    files = [run_on(tmp_path, d, serial=111) for d in range(0, 40, 2)]
    Pipeline(cfg, now=NOW).ingest(files)
    j = Pipeline(cfg).journal
    before = j.daily_load("ana")
    # warming up for 27 days, then a ratio on every day of the training block (days 27..39;
    # the rest days after it become "rebuilding" once the chronic window is mostly rest)
    assert (
        before["acwr_rac"].iloc[:27].isna().all() and before["acwr_rac"].iloc[27:40].notna().all()
    )
    # a backfilled 90-minute run on day 31 (a rest day so far)
    Pipeline(cfg, now=NOW).ingest([run_on(tmp_path, 31, minutes=90, serial=111)])
    after = j.daily_load("ana")
    day31 = before.index[31]
    assert after.loc[day31, "daily_load"] == pytest.approx(
        before.loc[day31, "daily_load"] + 89.9167, abs=0.01
    )
    earlier = before.index < day31
    pd.testing.assert_frame_equal(after[earlier], before[earlier])
    assert (after.loc[day31:, "acute"] != before.loc[day31:, "acute"]).iloc[:7].all()
    assert (after.loc[day31:, "chronic"] > before.loc[day31:, "chronic"]).iloc[:28].all()
    assert (after.loc[day31:, "ctl"] > before.loc[day31:, "ctl"]).all()  # EWMA: every later day
    # the outbox got exactly the changed days again
    load_lines = [b.body for b in j.outbox.batches() if b.measurement == "load"][-1].splitlines()
    assert len(load_lines) == len(after) - 31


def test_log_rpe_switches_to_srpe_when_primary_and_recomputes(tmp_path, home):
    cfgfile = home.parent / "c.toml"
    cfgfile.write_text('[load]\nprimary = "srpe"\n')
    cfg = load_config(cfgfile, home)
    Pipeline(cfg, now=NOW).ingest([run_on(tmp_path, 0, minutes=40)])
    j = Pipeline(cfg).journal
    s = j.sessions().iloc[0]
    assert s["load_method"] == "duration"  # no RPE yet: the fallback
    Pipeline(cfg, now=NOW).log_session(s["id"][:6], rpe=6, pain=2)
    s = j.sessions().iloc[0]
    duration_min = s["duration_s"] / 60
    assert (s["rpe"], s["pain"], s["load_method"]) == (6, 2, "srpe")
    assert s["load"] == pytest.approx(6 * duration_min)
    assert j.daily_load("default")["daily_load"].iloc[0] == pytest.approx(6 * duration_min)


def test_log_rejects_out_of_range_and_unknown(tmp_path, cfg):
    Pipeline(cfg, now=NOW).ingest([run_on(tmp_path, 0)])
    sid = Pipeline(cfg).journal.sessions()["id"].iloc[0]
    with pytest.raises(ValueError):
        Pipeline(cfg).log_session(sid, rpe=11)
    with pytest.raises(KeyError):
        Pipeline(cfg).log_session("nope")


def imu_csv(tmp_path: Path, start: str = "2026-01-05T07:00:00Z") -> tuple[Path, pd.DataFrame]:
    f = pd.read_csv(ROOT / "fixtures/imu/sacrum_200hz.csv")
    t = pd.Timestamp(start) + pd.to_timedelta(f["t_s"], unit="s")
    f.insert(0, "time", t.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    path = tmp_path / "sacrum.csv"
    f.drop(columns="t_s").to_csv(path, index=False)
    return path, pd.read_csv(ROOT / "fixtures/imu/sacrum_200hz.events.csv")


def test_imu_file_needs_a_placement(tmp_path, cfg):
    path, _ = imu_csv(tmp_path)
    r = Pipeline(cfg).ingest([path]).files[0]
    assert r.failed and "--placement" in r.message


def test_imu_file_becomes_a_session_with_one_stride_point_per_step(tmp_path, cfg):
    path, truth = imu_csv(tmp_path)
    r = (
        Pipeline(cfg, now=NOW, sources={"imu": ImuSource(placement="sacrum")})
        .ingest([path])
        .files[0]
    )
    assert r.status == "ingested"
    j = Pipeline(cfg).journal
    summary = j.sessions()["summary"].iloc[0]
    assert summary["n_steps"] == len(truth)
    truth_l = truth[truth.side == "L"].gct_ms.mean()
    truth_r = truth[truth.side == "R"].gct_ms.mean()
    assert summary["gct_si_pct"] == pytest.approx(
        (truth_l - truth_r) / (0.5 * (truth_l + truth_r)) * 100, abs=2
    )
    strides = [
        ln for b in j.outbox.batches() if b.measurement == "stride" for ln in b.body.splitlines()
    ]
    assert len(strides) == len(truth)
    assert sum(",side=L " in ln for ln in strides) == (truth.side == "L").sum()


def test_polar_sensor_logger_export_goes_through_ingest(tmp_path, cfg):
    """The Polar Sensor Logger ACC text export (mG, sensor ns since 2000-01-01 UTC)."""
    f = pd.read_csv(ROOT / "fixtures/imu/sacrum_200hz.csv")
    start_ns = (pd.Timestamp("2026-01-07T06:30:00Z") - pd.Timestamp("2000-01-01T00:00:00Z")).value
    ns = start_ns + (f["t_s"] * 1e9).round().astype("int64")
    lines = ["Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]"]
    for n, v, ap, ml in zip(ns, f["acc_v_g"], f["acc_ap_g"], f["acc_ml_g"], strict=True):
        lines.append(f"2026-01-07T07:30:00.000;{n};{ml * 1000:.1f};{ap * 1000:.1f};{v * 1000:.1f}")
    path = tmp_path / "Polar_Sense_B5B3B12F_20260107_063000_ACC.txt"
    path.write_text("\n".join(lines) + "\n")
    r = (
        Pipeline(cfg, now=NOW, sources={"imu": ImuSource(placement="sacrum")})
        .ingest([tmp_path])
        .files
    )
    assert [x.status for x in r] == ["ingested"], [x.line() for x in r]
    s = Pipeline(cfg).journal.sessions().iloc[0]
    assert s["start"].startswith("2026-01-07T06:30:00")
    truth = pd.read_csv(ROOT / "fixtures/imu/sacrum_200hz.events.csv")
    assert s["summary"]["n_steps"] == len(truth)


def test_two_shank_pods_as_two_files_give_one_session_with_sides(tmp_path, cfg):
    from .gait_helpers import load_generator

    gen = load_generator()
    left, right, truth = gen.two_pods("shank", duration_s=30.0, fs=500.0)
    paths = []
    for name, frame, start in (
        ("left", left, "2026-01-08T07:00:00Z"),
        ("right", right, "2026-01-08T07:00:00Z"),
    ):
        f = frame.copy()
        f.insert(
            0,
            "time",
            (pd.Timestamp(start) + pd.to_timedelta(f["t_s"], unit="s")).dt.strftime(
                "%Y-%m-%dT%H:%M:%S.%fZ"
            ),
        )
        paths.append(tmp_path / f"{name}.csv")
        f.drop(columns="t_s").to_csv(paths[-1], index=False)
    pipe = Pipeline(cfg, now=NOW, sources={"imu": ImuSource(placement="shank", right=paths[1])})
    r = pipe.ingest([paths[0]]).files[0]
    assert r.status == "ingested", r.line()
    summary = pipe.journal.sessions()["summary"].iloc[0]
    gl, gr = truth[truth.side == "L"].gct_ms.mean(), truth[truth.side == "R"].gct_ms.mean()
    assert summary["gct_ms_left"] == pytest.approx(gl, abs=8)
    assert summary["gct_ms_right"] == pytest.approx(gr, abs=8)
    assert summary["gct_si_pct"] == pytest.approx((gl - gr) / (0.5 * (gl + gr)) * 100, abs=3)
    strides = [
        ln
        for b in pipe.journal.outbox.batches()
        if b.measurement == "stride"
        for ln in b.body.splitlines()
    ]
    assert (
        sum(",side=L " in ln for ln in strides) > 0 and sum(",side=R " in ln for ln in strides) > 0
    )
    again = (
        Pipeline(cfg, now=NOW, sources={"imu": ImuSource(placement="shank", right=paths[1])})
        .ingest([paths[0]])
        .files[0]
    )
    assert again.status == "duplicate"


def test_one_load_method_per_athlete_series(tmp_path, cfg):
    """Audit: without HR limits an RPE on one session switched it to sRPE (312) while the
    others stayed minutes (52), both feeding one ACWR. Now the series keeps one method."""
    files = [run_on(tmp_path, d, minutes=52) for d in (0, 2, 4)]
    pipe = Pipeline(cfg, now=NOW)
    pipe.ingest(files)
    first = pipe.journal.sessions()["id"].iloc[0]
    pipe.log_session(first, rpe=6)
    s = pipe.journal.sessions()
    assert set(s["load_method"]) == {"duration"}  # default primary trimp: not in the history
    assert s["load"].tolist() == pytest.approx([51.9167] * 3, abs=0.01)
    daily = pipe.journal.daily_load("default")["daily_load"]
    assert daily.max() == pytest.approx(51.9167, abs=0.01)  # never 6 x 52 = 312 in the series


def test_running_sessions_carry_their_run_and_walk_time(tmp_path, cfg):
    Pipeline(cfg, now=NOW).ingest([run_on(tmp_path, 0, minutes=20)])
    summary = Pipeline(cfg).journal.sessions()["summary"].iloc[0]
    assert summary["run_intervals"] == 1 and summary["run_time_s"] >= 19 * 60


def test_missing_hr_limits_are_said_once_per_run(tmp_path, cfg):
    """Audit: with HR but no HR limits TRIMP fell back silently; now the first file says why."""
    files = [run_on(tmp_path, d) for d in (0, 2, 4)]
    lines = [f.message for f in Pipeline(cfg, now=NOW).ingest(files).files]
    told = [m for m in lines if "no HR limits for default: set hr_rest and hr_max" in m]
    assert len(told) == 1 and told[0] == lines[0]
