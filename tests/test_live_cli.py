"""`sensorhub emulate` in one process, `scan` and `collect` in others, over an HCI TCP link."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sensorhub.store import Journal

from .influxd import free_port

ROOT = Path(__file__).resolve().parents[1]
FIT = sorted((ROOT / "fixtures" / "fit" / "ana").glob("*.fit"))[0]
IMU = ROOT / "fixtures" / "imu" / "sacrum_200hz.csv"
CONFIG = """
[[athletes]]
id = "ana"
hr_rest = 48
hr_max = 188
[[ble_devices]]
name = "sensorhub FootPod"
kind = "rsc"
athlete = "ana"
[[ble_devices]]
name = "sensorhub HRM"
kind = "hr"
athlete = "ana"
[[ble_devices]]
name = "sensorhub Pod 1"
kind = "pmd"
athlete = "ana"
placement = "sacrum"
"""


def sensorhub(*args: str, env: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sensorhub.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def test_emulate_scan_collect(home: Path, tmp_path: Path):
    port = free_port()
    cfg = tmp_path / "config.toml"
    cfg.write_text(CONFIG)
    env = {**os.environ, "SENSORHUB_HOME": str(home), "SENSORHUB_CONFIG": str(cfg)}
    emu = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sensorhub.cli",
            "emulate",
            "--fit",
            str(FIT),
            "--imu",
            str(IMU),
            "--hci",
            f"tcp-server:_:{port}",
            "--speedup",
            "10",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    try:
        assert "emulating on" in emu.stdout.readline()
        hci = ["--transport", "bumble", "--device", f"tcp-client:127.0.0.1:{port}"]
        scan = sensorhub("scan", "--seconds", "1", *hci, env=env)
        assert scan.returncode == 0, scan.stderr
        assert "sensorhub FootPod" in scan.stdout and "running speed and cadence" in scan.stdout
        assert "sensorhub HRM" in scan.stdout and "heart rate (hr)" in scan.stdout
        got = sensorhub("collect", "--duration", "4", *hci, env=env)
        assert got.returncode == 0, got.stderr
        assert "session" in got.stdout and "0 malformed" in got.stdout
    finally:
        emu.terminate()
        emu.wait(10)
    journal = Journal(home / "journal.sqlite")
    (session,) = journal.sessions("ana").to_dict("records")
    assert session["load_method"] == "trimp" and session["trimp"] > 0
    assert 2 <= session["duration_s"] <= 6
    measurements = {r[0] for r in journal.db.execute("SELECT DISTINCT measurement FROM outbox")}
    assert measurements == {"run", "stride", "session", "load"}
