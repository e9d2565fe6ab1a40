"""The sensorhub command as a user runs it (subprocess, real journal, real influxd)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .fitbuild import write_run

ROOT = Path(__file__).resolve().parents[1]


def sh(home: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if not k.startswith("SENSORHUB_")}
    e.update(env or {}, SENSORHUB_HOME=str(home), COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "sensorhub.cli", *args],
        capture_output=True,
        text=True,
        env=e,
        timeout=300,
    )


def test_demo_fixtures_show_acwr_values_and_the_spike(tmp_path):
    home = tmp_path / "h"
    cfg = str(ROOT / "fixtures/sensorhub.toml")
    r = sh(home, "--config", cfg, "ingest", str(ROOT / "fixtures/fit"))
    assert r.returncode == 0, r.stderr
    assert "92 ingested" in r.stdout  # Ana, Ben and Cara (fixtures/README.md)
    csv = sh(
        home, "--config", cfg, "load", "--athlete", "ana", "--csv", "--days", "0"
    ).stdout.splitlines()
    header = csv[0].split(",")
    rows = [dict(zip(header, line.split(","), strict=True)) for line in csv[1:]]
    rac = {r["day"]: float(r["acwr_rac"]) for r in rows if r["acwr_rac"]}
    assert len(rac) > 40  # real ratios, not only "warming up"
    assert max(rac.values()) > 1.5 and max(rac, key=rac.get).startswith("2026-11-0")
    table = sh(home, "--config", cfg, "load", "--athlete", "ana", "--days", "0").stdout
    assert "warming up" in table


def test_status_and_flush_ship_the_backlog(tmp_path, influxd, db_name):
    home = tmp_path / "h"
    f = write_run(tmp_path / "r.fit", range(0, 300))
    assert sh(home, "ingest", str(f)).returncode == 0
    st = sh(home, "status").stdout
    # 300 records + 1 session + 43 load days (the run's day and 42 rest days after it)
    assert "344 points waiting" in st and "(not configured)" in st
    env = {"SENSORHUB_INFLUX_URL": influxd.url, "SENSORHUB_INFLUX_DB": db_name}
    r = sh(home, "flush", env=env)
    assert r.returncode == 0 and "344 points sent" in r.stdout
    assert "0 points waiting" in sh(home, "status", env=env).stdout
    assert influxd.count(db_name, "run", "hr_bpm") == 300


def test_flush_to_unreachable_influx_fails_and_keeps_everything(tmp_path):
    from .influxd import free_port

    home = tmp_path / "h"
    sh(home, "ingest", str(write_run(tmp_path / "r.fit", range(0, 100))))
    env = {
        "SENSORHUB_INFLUX_URL": f"http://127.0.0.1:{free_port()}",
        "SENSORHUB_INFLUX_TOKEN": "s3cret",
    }
    r = sh(home, "flush", env=env)
    assert r.returncode == 1 and "unreachable" in r.stderr and "s3cret" not in r.stderr + r.stdout
    assert "144 points waiting" in sh(home, "status", env=env).stdout


def test_log_command(tmp_path):
    home = tmp_path / "h"
    sh(home, "ingest", str(write_run(tmp_path / "r.fit", range(0, 1800, 5))))
    sid = sh(home, "sessions", "--csv").stdout.splitlines()[1].split(",")[0]
    r = sh(home, "log", sid, "--rpe", "7", "--pain", "3")
    assert r.returncode == 0 and "rpe=7.0 pain=3.0" in r.stdout
    assert sh(home, "log", sid, "--rpe", "12").returncode == 2
    assert sh(home, "log", "ffffffff", "--rpe", "2").returncode == 2


@pytest.mark.parametrize("bad", ['[load]\nprimary = "magic"\n', "not = [toml"])
def test_bad_config_is_one_line_exit_2(tmp_path, bad):
    cfg = tmp_path / "c.toml"
    cfg.write_text(bad)
    r = sh(tmp_path / "h", "--config", str(cfg), "status")
    assert r.returncode == 2 and r.stderr.startswith("config:") and "Traceback" not in r.stderr


BLOCK_PG_EXTRAS = """
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("procrastinate", "psycopg"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, _Block())
from sensorhub.cli import app
sys.argv = ["sensorhub", *sys.argv[1:]]
app()
"""


def test_the_cli_runs_without_the_postgres_extras(tmp_path):
    """The demo installs the base and BLE extras only: every command module must import
    without procrastinate and psycopg, and a job command says which extra it needs."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, SENSORHUB_HOME=str(tmp_path))
    env.pop("SENSORHUB_JOURNAL_URL", None)

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", BLOCK_PG_EXTRAS, *args],
            capture_output=True,
            text=True,
            env=env | extra,
            timeout=120,
        )

    assert run("--help").returncode == 0
    res = run("submit", str(tmp_path), SENSORHUB_JOURNAL_URL="postgresql://u:secret@127.0.0.1:1/db")
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert "needs the PostgreSQL extras" in res.stderr and "secret" not in res.stderr
