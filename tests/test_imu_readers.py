"""IMU file readers: Polar Sensor Logger export, generic and project CSV, read_recording."""

import os
import resource
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from drivers.imu import (
    MAX_FILE_BYTES,
    ImuFormatError,
    read_imu_csv,
    read_polar_logger,
    read_polar_pair,
    read_recording,
)
from sensorhub.gait import analyse
from tests.gait_helpers import load_generator
from tests.shared import shared_dir

# 2023-05-01T10:00:00Z in ns since 2000-01-01 UTC (Polar epoch)
NS0 = int((pd.Timestamp("2023-05-01T10:00:00Z") - pd.Timestamp("2000-01-01", tz="UTC")).value)


def _write_polar(path, header, rows):
    path.write_text(header + "\n" + "\n".join(";".join(map(str, r)) for r in rows) + "\n")


def test_polar_acc_in_mg_to_g(tmp_path):
    rows = [
        (f"2023-05-01T12:00:00.{i * 5:03d}", NS0 + i * 5_000_000, 10, -20, 1000) for i in range(100)
    ]
    p = tmp_path / "Polar_H10_ACC.txt"
    _write_polar(p, "Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]", rows)
    rec = read_polar_logger(p)
    f = rec.frame
    assert list(f.columns) == ["t_s", "acc_x_g", "acc_y_g", "acc_z_g"]
    assert f["t_s"].iloc[1] == pytest.approx(0.005)
    assert f["acc_z_g"].iloc[0] == pytest.approx(1.0)
    assert rec.start_utc == pd.Timestamp("2023-05-01T10:00:00Z")
    assert f.attrs["start_utc"] == rec.start_utc


def test_polar_acc_and_gyro_are_merged(tmp_path):
    acc = tmp_path / "ACC.txt"
    gyr = tmp_path / "GYRO.txt"
    _write_polar(
        acc,
        "Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]",
        [("2023-05-01T12:00:00", NS0 + i * 5_000_000, 0, 0, 1000) for i in range(50)],
    )
    _write_polar(
        gyr,
        "Phone timestamp;sensor timestamp [ns];X [dps];Y [dps];Z [dps]",
        [("2023-05-01T12:00:00", NS0 + i * 10_000_000, i, 0, 0) for i in range(25)],
    )
    f = read_polar_pair(acc, gyr).frame
    assert {"gyr_x_dps", "gyr_y_dps", "gyr_z_dps"} <= set(f.columns)
    assert f["gyr_x_dps"].iloc[2] == pytest.approx(1.0)  # t = 10 ms
    assert f["gyr_x_dps"].iloc[1] == pytest.approx(0.5)  # interpolated at 5 ms


def test_polar_rejects_unknown_units(tmp_path):
    p = tmp_path / "bad.txt"
    _write_polar(
        p, "Phone timestamp;sensor timestamp [ns];X [furlong];Y [mg];Z [mg]", [("x", NS0, 1, 2, 3)]
    )
    with pytest.raises(ValueError, match="unknown unit"):
        read_polar_logger(p)


def test_generic_csv_mapping_and_datetime_start(tmp_path):
    t = pd.date_range("2024-01-02T03:04:05Z", periods=20, freq="10ms")
    df = pd.DataFrame(
        {
            "time": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "ax": 9.80665,
            "ay": 0.0,
            "az": np.arange(20.0),
        }
    )
    p = tmp_path / "imu.csv"
    df.to_csv(p, index=False)
    rec = read_imu_csv(
        p,
        {"t": "time", "acc_x_g": "ax", "acc_y_g": "ay", "acc_z_g": "az"},
        scale={"acc_x_g": 1 / 9.80665},
    )
    assert rec.start_utc == pd.Timestamp("2024-01-02T03:04:05Z")
    assert rec.frame["t_s"].iloc[-1] == pytest.approx(0.19)
    assert rec.frame["acc_x_g"].iloc[0] == pytest.approx(1.0)


def test_generic_csv_numeric_ms_time(tmp_path):
    p = tmp_path / "imu.csv"
    pd.DataFrame({"ms": [1000, 1002, 1004], "gx": [1, 2, 3]}).to_csv(p, index=False)
    rec = read_imu_csv(
        p, {"t": "ms", "gyr_x_dps": "gx"}, time_unit="ms", start_utc="2024-01-01T00:00:00"
    )
    assert rec.frame["t_s"].tolist() == pytest.approx([0, 0.002, 0.004])
    assert str(rec.start_utc.tz) == "UTC"
    with pytest.raises(ValueError, match="not found"):
        read_imu_csv(p, {"t": "ms", "gyr_x_dps": "nope"})


# --- read_recording: one entry point, format detection, time base ------------------------------

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "imu"


def _csv(path: Path, df: pd.DataFrame) -> Path:
    df.to_csv(path, index=False)
    return path


def _tfile(tmp_path: Path, t: np.ndarray, name: str = "imu.csv", **cols) -> Path:
    n = len(t)
    data = {"t_s": t, "acc_v_g": np.ones(n), "acc_ap_g": np.zeros(n), "acc_ml_g": np.zeros(n)}
    return _csv(tmp_path / name, pd.DataFrame({**data, **cols}))


def test_t_s_file_uses_the_given_start(tmp_path):
    start = pd.Timestamp("2026-10-28T22:30:00Z")
    rec = read_recording(FIX / "sacrum_200hz.csv", start_utc=start)
    assert rec.start_utc == start
    assert rec.warnings == []
    assert list(rec.frame.columns) == ["t_s", "acc_v_g", "acc_ap_g", "acc_ml_g"]
    assert rec.frame["t_s"].iloc[-1] == pytest.approx(9.995)


def test_t_s_file_without_start_falls_back_to_mtime_as_the_end(tmp_path):
    p = _tfile(tmp_path, np.arange(0, 10, 0.005))
    end = pd.Timestamp("2026-11-02T08:00:00Z")
    os.utime(p, (end.timestamp(), end.timestamp()))
    rec = read_recording(p)
    assert rec.start_utc == end - pd.Timedelta(seconds=9.995)
    (w,) = rec.warnings
    assert w.startswith("no start time in the file: using its modification time 2026-11-02T08:00")
    assert w.endswith("pass --start")


def test_start_utc_column_is_the_time_of_t_s_zero(tmp_path):
    t = np.arange(2.0, 12.0, 0.005)  # file starts at t_s = 2 s
    start = [""] * len(t)
    start[0] = "2026-10-28T22:30:00Z"
    p = _tfile(tmp_path, t, start_utc=start)
    rec = read_recording(p, start_utc=pd.Timestamp("2020-01-01T00:00:00Z"))
    assert rec.start_utc == pd.Timestamp("2026-10-28T22:30:02Z")
    assert rec.frame["t_s"].iloc[0] == 0.0
    assert "is not used" in rec.warnings[0]  # the file's own time wins over the argument


def test_two_start_utc_values_are_refused(tmp_path):
    t = np.arange(0, 1, 0.01)
    start = ["2026-10-28T22:30:00Z"] * 50 + ["2026-10-29T22:30:00Z"] * 50
    with pytest.raises(ImuFormatError, match="'start_utc' has 2 different values"):
        read_recording(_tfile(tmp_path, t, start_utc=start))


def test_iso_time_column_and_sensor_axes(tmp_path):
    t = pd.date_range("2026-10-28T22:30:00Z", periods=400, freq="5ms")
    df = pd.DataFrame(
        {
            "time": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            **{f"acc_{a}_g": np.ones(400) for a in "xyz"},
            **{f"gyr_{a}_dps": np.zeros(400) for a in "xyz"},
        }
    )
    rec = read_recording(_csv(tmp_path / "imu.csv", df), start_utc="2000-01-01")
    assert rec.start_utc == t[0]
    assert list(rec.frame.columns)[1:] == [
        "acc_x_g", "acc_y_g", "acc_z_g", "gyr_x_dps", "gyr_y_dps", "gyr_z_dps"
    ]  # fmt: skip
    assert rec.frame["t_s"].iloc[-1] == pytest.approx(1.995)


def test_shared_gait_csvs_read_with_extra_columns_ignored(tmp_path):
    for name in ("alcantara2022_sacrum/trial01.csv", "bach2022_shank/trial01.csv"):
        path = shared_dir("gait") / name
        rec = read_recording(path, start_utc="2026-10-28T22:30:00Z")
        raw = pd.read_csv(path)
        assert "grf_v" not in rec.frame.columns
        assert len(rec.frame) == len(raw)
        assert rec.frame["acc_v_g"].to_numpy() == pytest.approx(raw["acc_v_g"].to_numpy())


def test_polar_export_is_detected_and_paired_with_its_gyro(tmp_path):
    acc = tmp_path / "Polar_Verity_ACC.txt"
    _write_polar(
        acc,
        "Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]",
        [("2023-05-01T12:00:00", NS0 + i * 5_000_000, 0, 0, 1000) for i in range(50)],
    )
    _write_polar(
        tmp_path / "Polar_Verity_GYRO.txt",
        "Phone timestamp;sensor timestamp [ns];X [dps];Y [dps];Z [dps]",
        [("2023-05-01T12:00:00", NS0 + i * 10_000_000, i, 0, 0) for i in range(25)],
    )
    for path in (acc, tmp_path / "Polar_Verity_GYRO.txt"):
        rec = read_recording(path)
        assert rec.start_utc == pd.Timestamp("2023-05-01T10:00:00Z")
        assert rec.frame["gyr_x_dps"].iloc[2] == pytest.approx(1.0)
        assert rec.frame["acc_z_g"].iloc[0] == pytest.approx(1.0)


# --- time order (drivers/imu/timebase.py rules) -------------------------------------------------


def test_shuffled_rows_are_sorted_with_a_warning(tmp_path):
    t = np.arange(0, 10, 0.005)
    v = np.sin(t)
    order = np.random.default_rng(3).permutation(t.size)
    p = _tfile(tmp_path, t[order], acc_v_g=v[order])
    rec = read_recording(p, start_utc="2026-10-28T22:30:00Z")
    assert rec.frame["t_s"].iloc[-1] == pytest.approx(9.995)  # was 6.6 s
    assert rec.frame["acc_v_g"].to_numpy() == pytest.approx(v)
    assert any(w.startswith("rows were out of time order: sorted") for w in rec.warnings)


def test_shuffled_polar_rows_are_sorted(tmp_path):
    rows = [("x", NS0 + i * 5_000_000, i, 0, 1000) for i in range(200)]
    rows = [rows[i] for i in np.random.default_rng(1).permutation(200)]
    p = tmp_path / "ACC.txt"
    _write_polar(p, "Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]", rows)
    rec = read_polar_logger(p)
    assert rec.frame["acc_x_g"].to_numpy() == pytest.approx(np.arange(200) / 1000)
    assert any("sorted" in w for w in rec.warnings)


def test_clock_reset_is_refused_with_its_row(tmp_path):
    t = np.arange(0, 10, 0.005)
    t[1233:] -= 30.0  # data row 1234 jumps 30 s back
    with pytest.raises(ImuFormatError, match=r"time goes back by 30\.0 s at row 1234: clock reset"):
        read_recording(_tfile(tmp_path, t), start_utc="2026-10-28T22:30:00Z")


def test_a_few_late_rows_are_sorted(tmp_path):
    t = np.arange(0, 10, 0.005)
    t[[500, 501]] = t[[501, 500]]
    rec = read_recording(_tfile(tmp_path, t), start_utc="2026-10-28T22:30:00Z")
    assert np.all(np.diff(rec.frame["t_s"]) > 0)
    assert "sorted (1 steps back)" in rec.warnings[0]


def test_duplicated_times_dropped_when_rare_refused_when_common(tmp_path):
    t = np.arange(0, 10, 0.005)
    few = np.insert(t, [100, 900], [t[99], t[899]])  # 2 repeats in 2000 rows
    rec = read_recording(_tfile(tmp_path, few), start_utc="2026-10-28T22:30:00Z")
    assert len(rec.frame) == len(t)
    assert "2 rows repeated an earlier time stamp: dropped" in rec.warnings
    many = np.repeat(t, 2)
    with pytest.raises(ImuFormatError, match=r"2000 rows \(50\.0%\) repeat an earlier time"):
        read_recording(_tfile(tmp_path, many), start_utc="2026-10-28T22:30:00Z")


# --- clear one-line errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("t_s,acc_v_g,acc_ap_g\n", "no samples"),
        ("t_s,acc_v_g,acc_ap_g", "no samples"),
        ("", "empty file"),
        ("t_s,acc_v_g\n0,1\n", r"only 1 sample"),
        ("t_s,acc_v_g,acc_ap_g\n0,,1\n0.01,nan,1\n", "column 'acc_v_g' has no values"),
        ("t_s,acc_v_g\n0,1\n0.01,1\n0.02,abc\n", r"column 'acc_v_g': 'abc' at row 3 is not a"),
        ("t_s,acc_v_g\n0,1\nzz,1\n", r"column 't_s': 'zz' at row 2 is not a number"),
        ("t_s,acc_x_g,acc_y_g\n0,1,1\n0.01,1,1\n", "missing column 'acc_z_g'"),
        ("t_s,acc_ap_g\n0,1\n0.01,1\n", "missing column 'acc_v_g'"),
        ("t_s,acc_x_ms2\n0,1\n", "unknown IMU column 'acc_x_ms2'"),
        ("time,acc_v_g\nyesterday,1\n", r"column 'time': 'yesterday' at row 1 is not an ISO"),
        ("t_s,grf_v\n0,1\n", "not an IMU recording"),
        ("t_s,acc_v_g,acc_v_g\n0,1,1\n", "column 'acc_v_g' appears twice"),
        ("t_s,acc_v_g\n0,1\n0.01,1,7,8\n", "cannot read as a table"),
        ("t_s,acc_v_g\n\0\0\0", "binary data"),
    ],
)
def test_unusable_files_give_one_clear_line(tmp_path, text, message):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(ImuFormatError, match=message) as e:
        read_recording(p, start_utc="2026-10-28T22:30:00Z")
    assert "\n" not in str(e.value)
    assert str(e.value).startswith("bad.csv")


def test_missing_file_is_a_format_error(tmp_path):
    with pytest.raises(ImuFormatError, match="cannot open"):
        read_recording(tmp_path / "nope.csv")


# --- bounded reading (drivers/imu/table.py) ----------------------------------------------------


def _measure(fn):
    """Run ``fn``; return (its exception, Python peak bytes, growth of the process peak RSS)."""
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.start()
    try:
        fn()
    except ImuFormatError as e:
        err = e
    else:
        err = None
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return err, peak, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss0


def _stream(path: Path, head: bytes, n_mib: int) -> Path:
    block = b"9" * (1 << 20)
    with path.open("wb") as f:
        f.write(head)
        for _ in range(n_mib):
            f.write(block)
    return path


def test_200_mb_single_line_is_refused_with_bounded_memory(tmp_path):
    p = _stream(tmp_path / "one_line.csv", b"t_s,acc_v_g,", 200)
    err, peak, rss = _measure(lambda: read_recording(p, start_utc="2026-10-28T22:30:00Z"))
    assert err is not None and "first line is longer than 64 KiB" in str(err)
    assert peak < 2 * 2**20
    assert rss < 50 * 2**20


def test_long_line_after_the_header_is_refused_with_bounded_memory(tmp_path):
    head = b"t_s,acc_v_g\n" + b"".join(b"%.3f,1.0\n" % (i / 200) for i in range(5000))
    p = _stream(tmp_path / "long_line.csv", head, 50)
    err, peak, rss = _measure(lambda: read_recording(p, start_utc="2026-10-28T22:30:00Z"))
    assert err is not None and "line 5002 is longer than 64 KiB" in str(err)
    assert peak < 8 * 2**20
    assert rss < 50 * 2**20


def test_file_over_the_size_cap_is_refused_without_reading(tmp_path):
    p = tmp_path / "huge.csv"
    with p.open("wb") as f:
        f.write(b"t_s,acc_v_g\n")
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk, no memory
    err, peak, _ = _measure(lambda: read_recording(p))
    assert err is not None and "over the 2 GiB limit for one IMU file" in str(err)
    assert peak < 2**20


# --- the demo's two-pod fixture ------------------------------------------------------------------


def test_two_pod_demo_fixture_gives_the_truth_per_side():
    left = read_recording(FIX / "shank_left_200hz.csv")
    right = read_recording(FIX / "shank_right_200hz.csv")
    assert left.warnings == right.warnings == []
    assert left.start_utc == pd.Timestamp("2026-10-28T22:30:00Z")  # ben's rest day, 18:30 EDT
    assert left.frame["t_s"].iloc[-1] == pytest.approx(180.0, abs=0.01)
    for name in ("shank_left_200hz.csv", "shank_right_200hz.csv"):
        assert (FIX / name).stat().st_size < 1_000_000
    offset = (right.start_utc - left.start_utc).total_seconds()
    assert offset == pytest.approx(0.25)
    res = analyse(left.frame, "shank", right=right.frame.assign(t_s=right.frame["t_s"] + offset))
    truth = pd.read_csv(FIX / "shank_200hz.events.csv")
    gct = truth.groupby("side")["gct_ms"].mean()
    si = 100 * (gct["L"] - gct["R"]) / (0.5 * (gct["L"] + gct["R"]))
    s = res.summary
    assert s["n_steps"] == len(truth)
    assert s["gct_ms_left"] == pytest.approx(gct["L"], abs=3.0)
    assert s["gct_ms_right"] == pytest.approx(gct["R"], abs=3.0)
    assert s["gct_si_pct"] == pytest.approx(si, abs=1.0)
    assert 5.0 < s["gct_si_pct"] < 7.5


def test_two_pod_demo_fixture_is_what_the_generator_writes(tmp_path):
    gen = load_generator()
    left, right, truth = gen.shank_pair_demo()
    for frame, name in ((left, "shank_left_200hz.csv"), (right, "shank_right_200hz.csv")):
        frame.to_csv(tmp_path / name, index=False)
        assert (tmp_path / name).read_bytes() == (FIX / name).read_bytes()
    truth.round(4).to_csv(tmp_path / "events.csv", index=False)
    assert (tmp_path / "events.csv").read_bytes() == (FIX / "shank_200hz.events.csv").read_bytes()
