"""The README and docs/live.md commands run as written (extracted from the documents).

The quick start's demo command, the README's IMU examples and the emulate/collect example of
docs/live.md are taken from the Markdown, not copied here, so the documents cannot drift from
what works. Each runs in its own state dir.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

from .influxd import free_port

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
LIVE = (ROOT / "docs" / "live.md").read_text()


def sh_blocks(markdown: str, after: str) -> list[str]:
    """Commands of the first ```sh block after the heading ``after`` (continuations joined)."""
    text = markdown[markdown.index(after) :]
    block = re.search(r"```sh\n(.*?)```", text, re.S).group(1)
    lines = block.replace("\\\n", " ").splitlines()
    return [ln.split(" #")[0].strip() for ln in lines if ln.strip() and not ln.startswith("#")]


def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENSORHUB_")}
    return {**env, "SENSORHUB_HOME": str(home), "COLUMNS": "200", **extra}


def run(cmd: list[str], env: dict, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def sensorhub(line: str) -> list[str]:
    """A documented `sensorhub ...` line as the command this checkout runs."""
    words = shlex.split(line)
    assert words[0] == "sensorhub", line
    return [sys.executable, "-m", "sensorhub.cli", *words[1:]]


def test_quick_start_has_exactly_the_two_commands():
    cmds = sh_blocks(README, "## Quick start")
    assert cmds == ["./scripts/demo.sh", "./scripts/test.sh"]


def test_demo_runs_as_written_and_shows_a_decision(tmp_path):
    demo = sh_blocks(README, "## Quick start")[0]
    r = run([demo], env_for(tmp_path / "demo"))
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "Traceback" not in r.stdout + r.stderr
    assert "92 ingested" in r.stdout and "1 ingested" in r.stdout  # FIT files, then the pod pair
    assert re.search(r"\b(progress|repeat|step-back|rest)\b", r.stdout), r.stdout[-1500:]


def test_readme_imu_examples_run_as_written(tmp_path):
    lines = [
        c for c in sh_blocks(README, "## Using it") if c.startswith("sensorhub ingest --placement")
    ]
    assert len(lines) == 2
    files = {
        "imu.csv": "fixtures/imu/sacrum_200hz.csv",
        "left.csv": "fixtures/imu/shank_left_200hz.csv",
        "right.csv": "fixtures/imu/shank_right_200hz.csv",
    }
    for i, line in enumerate(lines):
        for doc_name, real in files.items():
            line = line.replace(f" {doc_name}", f" {real}")
        r = run(sensorhub(line), env_for(tmp_path / f"h{i}"))
        assert r.returncode == 0, line + "\n" + r.stderr
        assert "1 ingested" in r.stdout, r.stdout
        assert "Traceback" not in r.stderr


def test_live_md_emulate_and_collect_run_as_written(tmp_path):
    cmds = [c for c in sh_blocks(LIVE, "## Try it on one machine") if c.startswith("sensorhub ")]
    emulate, collect, status = (
        next(c for c in cmds if c.startswith(f"sensorhub {w}"))
        for w in ("emulate", "collect", "status")
    )
    port = str(free_port())
    home = tmp_path / "h"
    emu = subprocess.Popen(
        sensorhub(emulate.replace(":9000", f":{port}")),
        cwd=ROOT,
        env=env_for(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        printed = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the emulator prints the config entries first
            line = emu.stdout.readline()
            printed.append(line)
            if "waiting for the collector" in line:
                break
        config = "".join(ln for ln in printed if not ln.startswith(("emulating", "waiting")))
        cfg = tmp_path / "config.toml"
        cfg.write_text(config)
        env = env_for(home, SENSORHUB_CONFIG=str(cfg))
        col = collect.replace(":9000", f":{port}").replace("--duration 60", "--duration 12")
        r = run(sensorhub(col), env, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        assert re.search(r"session \w+ for default: \d+ s, \d+ run points, \d+ steps", r.stdout)
        st = run(sensorhub(status), env)
        assert st.returncode == 0 and "sessions      1 for 1 athlete(s)" in st.stdout
    finally:
        emu.kill()
        emu.wait(10)
