"""IMU file readers: Polar Sensor Logger text export and generic CSV."""

import numpy as np
import pandas as pd
import pytest

from drivers.imu import read_imu_csv, read_polar_logger, read_polar_pair

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
