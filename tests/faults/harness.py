"""Run the real ``sensorhub`` command in a subprocess and read back what it left behind.

Used by the crash, concurrency, disk-full and bad-input tests: every run is a fresh
interpreter (``python -m sensorhub.cli``) with its own environment (no ``SENSORHUB_*`` from
the test process), optionally killed at a checkpoint (``SENSORHUB_KILL_AT``,
:mod:`sensorhub.faultpoints`). The journal is read with plain ``sqlite3`` (read-only URI),
InfluxDB through its HTTP API.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "fixtures" / "sensorhub.toml"
FIT = ROOT / "fixtures" / "fit"


def demo_files(n_ana: int = 12, n_ben: int = 6) -> list[Path]:
    """A modest, fixed set of the project's demo FIT files (two athletes)."""
    ana = sorted((FIT / "ana").glob("*.fit"))[:n_ana]
    ben = sorted((FIT / "ben").glob("*.fit"))[:n_ben]
    return ana + ben


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def env_for(
    home: Path | str,
    influx_url: str | None = None,
    db: str | None = None,
    kill_at: str | None = None,
    config: Path | None = CONFIG,
    **extra: str,
) -> dict[str, str]:
    """The environment of one run: the test's own minus ``SENSORHUB_*``, plus these."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENSORHUB_")}
    env["SENSORHUB_HOME"] = str(home)
    if config is not None:
        env["SENSORHUB_CONFIG"] = str(config)
    if influx_url:
        env["SENSORHUB_INFLUX_URL"] = influx_url
        env["SENSORHUB_INFLUX_DB"] = db or "sensorhub"
    if kill_at:
        env["SENSORHUB_KILL_AT"] = kill_at
    env.update(extra)
    return env


def cli(*args: str | Path, env: dict[str, str], timeout: float = 120) -> Run:
    """``sensorhub ARGS`` in a fresh interpreter; its exit code (negative: killed) and output."""
    p = subprocess.run(
        [sys.executable, "-m", "sensorhub.cli", *map(str, args)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Run(p.returncode, p.stdout, p.stderr)


def start_cli(*args: str | Path, env: dict[str, str]) -> subprocess.Popen:
    """``sensorhub ARGS`` started in the background (stdout/stderr piped as text)."""
    return subprocess.Popen(
        [sys.executable, "-m", "sensorhub.cli", *map(str, args)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def assert_one_clean_line(run: Run, code: int, *words: str) -> None:
    """Exit ``code``, no traceback, and a line on stderr naming every one of ``words``."""
    assert run.code == code, (run.code, run.text)
    assert "Traceback" not in run.text and "unexpected" not in run.text, run.text
    lines = [ln for ln in run.err.splitlines() if ln.strip()]
    assert lines, run.text
    assert any(all(w in ln for w in words) for ln in lines), (words, run.err)


# -- the journal, read back ---------------------------------------------------------------------
def read_journal(home: Path) -> dict:
    """What a journal holds that must not depend on crashes: integrity, sessions, daily
    load (every value), alerts (rule, opened_at, cleared_at, value), pending marks, outbox."""
    db = sqlite3.connect(f"file:{home / 'journal.sqlite'}?mode=ro", uri=True)
    try:
        return {
            "integrity": db.execute("PRAGMA integrity_check").fetchone()[0],
            **journal_facts(db.execute),
        }
    finally:
        db.close()


def journal_facts(q) -> dict:
    """The facts :func:`read_journal` compares, through ``q`` (a connection's ``execute``:
    SQLite or PostgreSQL)."""
    return {
        "sources": sorted(r[0] for r in q("SELECT sha256 FROM sources")),
        "sessions": sorted(
            (r[0], r[1], r[2], None if r[3] is None else round(r[3], 9))
            for r in q("SELECT id, athlete, load_method, load FROM sessions")
        ),
        "daily_load": {
            (a, d): json.loads(v)
            for a, d, v in q("SELECT athlete, day, values_json FROM daily_load")
        },
        "alerts": sorted(
            tuple(r) for r in q("SELECT athlete, rule, opened_at, cleared_at, value FROM alerts")
        ),
        "dirty": q("SELECT COUNT(*) FROM dirty").fetchone()[0],
        "outbox": q("SELECT COUNT(*) FROM outbox").fetchone()[0],
    }


def same_journal(got: dict, want: dict) -> None:
    """Assert two :func:`read_journal` results are the same results (outbox aside)."""
    assert got["integrity"] == "ok"
    assert got["dirty"] == 0, "a recompute is still pending"
    for key in ("sources", "sessions", "daily_load", "alerts"):
        assert got[key] == want[key], key


# -- InfluxDB, read back ------------------------------------------------------------------------
def influx_values(influxd, db: str, measurement: str) -> dict:
    """{(series tags, time ms): {field: value}} of every point of ``measurement``."""
    out: dict = {}
    for s in influxd.query(db, f'SELECT * FROM "{measurement}" GROUP BY *'):
        tags = tuple(sorted(s.get("tags", {}).items()))
        cols = s["columns"]
        for row in s["values"]:
            fields = {c: v for c, v in zip(cols[1:], row[1:], strict=True) if v is not None}
            out[(tags, row[0])] = fields
    return out


def influx_counts(influxd, db: str, measurement: str) -> dict:
    """{series tags: {field: count}} of ``measurement``."""
    out: dict = {}
    for s in influxd.query(db, f'SELECT COUNT(*) FROM "{measurement}" GROUP BY *'):
        cols = s["columns"]
        out[tuple(sorted(s.get("tags", {}).items()))] = dict(
            zip(cols[1:], s["values"][0][1:], strict=True)
        )
    return out


def read_influx(influxd, db: str) -> dict:
    """``load`` and ``session`` value by value, ``run`` as counts per series and field."""
    return {
        "load": influx_values(influxd, db, "load"),
        "session": influx_values(influxd, db, "session"),
        "run": influx_counts(influxd, db, "run"),
    }


def invoke(*args: str | Path, env: dict[str, str]) -> Run:
    """``sensorhub ARGS`` in this process (typer's runner: the same app, no interpreter
    start-up) with exactly the ``SENSORHUB_*`` variables of ``env``. An exception that
    escaped the command shows as a traceback in ``err``, as it would for a user."""
    from typer.testing import CliRunner

    from sensorhub.cli import app
    from sensorhub.cli.app import state

    names = {k for k in os.environ if k.startswith("SENSORHUB_")} | set(env)
    run_env = {k: env.get(k) for k in names if k.startswith("SENSORHUB_")}
    res = CliRunner().invoke(app, [str(a) for a in args], env=run_env)
    if state._journal is not None:  # as the end of a process would
        state._journal.close()
        state._journal = None
    err = res.stderr
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        import traceback

        err += "".join(traceback.format_exception(res.exception))
    return Run(res.exit_code, res.stdout, err)


class Mount:
    """A tmpfs mounted for one test (root only): ``Mount(path, "size=512k")``; ``remount``
    changes its options (``ro``, ``size=…``); ``close`` unmounts. ``pytest.skip`` when this
    process may not mount."""

    def __init__(self, path: Path, options: str) -> None:
        import pytest

        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        p = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
            capture_output=True,
            text=True,
        )
        if p.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {p.stderr.strip() or p.returncode}")

    def remount(self, options: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{options}", str(self.path)], check=True)

    def close(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], check=False)
