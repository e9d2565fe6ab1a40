"""Bad input at the edge of the ``sensorhub`` command: one line naming the thing, exit 2 (bad
input) or 1 (a file that could not be ingested), never a traceback.

Configuration, hostile athlete ids, session prefixes with LIKE wildcards, credentials in the
InfluxDB URL, IMU CSV files that are shuffled, jump back, have only a header or one 200 MB
line; hostile text in line protocol through the real influxd. Most commands run in this
process (typer's runner: the real app, no interpreter start-up); the memory test runs a
subprocess to measure its peak RSS.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pandas as pd
import pytest

from sensorhub.store import Journal, point_line

from .harness import ROOT, assert_one_clean_line, demo_files, env_for, invoke

IMU = ROOT / "fixtures" / "imu" / "sacrum_200hz.csv"
IMU_ARGS = ["--placement", "sacrum", "--start", "2026-10-28T10:00:00Z"]


# -- item 5: configuration --------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, words",
    [
        ("[lod]\nprimary = 'trimp'\n", ["unknown key", "lod"]),
        ("hrmax = 190\n", ["unknown key", "hrmax"]),
        ("[influx]\nbatch_points = 'lots'\n", ["influx.batch_points", "'lots'", "integer"]),
        ("[influx]\nurl = 8086\n", ["influx.url", "8086", "string"]),
        ("[alerts]\nacwr_max = 'high'\n", ["alerts.acwr_max", "'high'", "number"]),
        ("[[athletes]]\nid = 'ana'\ntz = 'Europe/Madird'\n", ["tz", "Europe/Madird", "time zone"]),
        ("[influx]\nshard_duration = '52 weeks'\n", ["influx.shard_duration", "52w"]),
    ],
    ids=["section", "key", "batch_points", "url", "acwr_max", "tz", "shard_duration"],
)
@pytest.mark.parametrize("command", ["status", "watch"])
def test_a_bad_config_is_one_line_naming_key_value_and_expectation(text, words, command, tmp_path):
    conf = tmp_path / "c.toml"
    conf.write_text(text)
    args = [command] + ([str(tmp_path)] if command == "watch" else [])
    run = invoke("--config", conf, *args, env=env_for(tmp_path / "h", config=None))
    assert_one_clean_line(run, 2, "config", *words)
    assert "watching" not in run.out  # watch never started


def test_a_missing_config_file_is_one_line_exit_2(tmp_path):
    run = invoke("--config", tmp_path / "nope.toml", "status", env=env_for(tmp_path / "h"))
    assert_one_clean_line(run, 2, "nope.toml", "no such config file")


# -- item 7: hostile athlete ids and line protocol --------------------------------------------
@pytest.mark.parametrize("athlete", ["a\nb", "a,b", "a b", 'a"b', "a\\b", "a=b", ""])
def test_a_hostile_athlete_id_is_refused_at_the_edge(athlete, tmp_path):
    run = invoke("ingest", "--athlete", athlete, demo_files(1, 0)[0], env=env_for(tmp_path / "h"))
    assert_one_clean_line(run, 2, "athlete")
    assert not (tmp_path / "h" / "journal.sqlite").exists() or "ingested" not in run.out


HOSTILE = ["new\nline x=1", "com,ma", "spa ce", 'quo"te', "back\\slash", "equ=als", "end\\", "ü ✓"]


@pytest.mark.influx
def test_hostile_text_in_line_protocol_reaches_influxdb_intact(tmp_path, influxd, db_name):
    home = tmp_path / "h"
    j = Journal(home / "journal.sqlite")
    t0 = pd.Timestamp("2026-03-01", tz="UTC")
    lines = [
        point_line(
            "session",
            {"athlete": "eva", "sport": v, "device": v},
            {"message": v, "n": float(i)},
            t0 + pd.Timedelta(seconds=i),
        )
        for i, v in enumerate(HOSTILE)
    ]
    with j.transaction():
        j.outbox.enqueue("session", lines, 100)
    j.close()
    run = invoke("flush", env=env_for(home, influxd.url, db_name))
    assert run.code == 0, run.text
    names = [r[0] for s in influxd.query(db_name, "SHOW MEASUREMENTS") for r in s["values"]]
    assert names == ["session"]  # no stray measurement from a newline
    j = Journal(home / "journal.sqlite")
    assert j.outbox.stats()["batches"] == 0  # nothing stuck
    j.close()
    got = {
        s["tags"]["sport"]: s["values"][0][1]
        for s in influxd.query(db_name, "SELECT message FROM session GROUP BY sport")
    }
    assert len(got) == len(HOSTILE)
    for v in ("com,ma", "spa ce", 'quo"te', "equ=als", "ü ✓"):
        assert got[v] == v  # tags and string fields round-trip


# -- item 8: credentials in the URL -----------------------------------------------------------
@pytest.mark.influx
@pytest.mark.parametrize("where", ["proxy-500", "refused"])
def test_credentials_in_the_url_are_never_printed_or_stored(
    where, tmp_path, fault_proxy, proxy_cfg, db_name
):
    from tests.influxd import free_port

    host = fault_proxy.url.removeprefix("http://")
    if where == "refused":
        host = f"127.0.0.1:{free_port()}"
    else:
        fault_proxy.fail(500, body='{"error":"bad password s3cret for eva"}')
    env = env_for(tmp_path / "h", f"http://eva:s3cret@{host}", db_name)
    ingest = invoke("ingest", demo_files(1, 0)[0], env=env)
    flush = invoke("flush", env=env)
    status = invoke("status", env=env)
    assert "InfluxDB" in status.out and "eva:***@" in status.out
    assert flush.code != 0 and ("500" in flush.text or "unreachable" in flush.text)
    for run in (ingest, flush, status):
        assert "s3cret" not in run.text and "Traceback" not in run.text
    j = Journal(tmp_path / "h" / "journal.sqlite")
    stored = j.db.execute("SELECT last_error FROM outbox").fetchall()
    stored += j.db.execute("SELECT last_error, reason FROM outbox_backoff").fetchall()
    j.close()
    assert "s3cret" not in json.dumps([list(r) for r in stored])


# -- item 9: IMU CSV edge cases through ingest ------------------------------------------------
def imu_rows() -> tuple[str, list[str]]:
    header, *rows = IMU.read_text().splitlines()
    return header, rows


def test_imu_shuffled_rows_are_sorted_with_a_warning(tmp_path):
    header, rows = imu_rows()
    random.Random(1).shuffle(rows)
    f = tmp_path / "shuffled.csv"
    f.write_text("\n".join([header, *rows]) + "\n")
    run = invoke("ingest", *IMU_ARGS, f, env=env_for(tmp_path / "h"))
    assert run.code == 0 and "1 ingested" in run.out, run.text  # drivers.imu.timebase policy
    assert "Traceback" not in run.text and "unexpected" not in run.text


def test_imu_edge_cases_are_one_clear_line_each_and_exit_1(tmp_path):
    header, rows = imu_rows()
    back = rows[:1000] + [
        f"{float(r.split(',')[0]) - 30.0 + 5.0:.3f},{r.split(',', 1)[1]}" for r in rows[1000:]
    ]  # 5 s of running, then the clock 30 s back
    (tmp_path / "back.csv").write_text("\n".join([header, *back]) + "\n")
    (tmp_path / "header.csv").write_text(header + "\n")
    run = invoke("ingest", *IMU_ARGS, tmp_path / "back.csv", env=env_for(tmp_path / "h"))
    assert_one_clean_line(run, 1, "back.csv", "time goes back")
    run = invoke("ingest", *IMU_ARGS, tmp_path / "header.csv", env=env_for(tmp_path / "h"))
    assert_one_clean_line(run, 1, "header.csv", "no samples")


MEASURE = """
import resource, subprocess, sys
p = subprocess.run([sys.executable, "-m", "sensorhub.cli", *sys.argv[1:]], capture_output=True,
                   text=True)
print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.stderr.write(p.stdout + p.stderr)
"""


def peak_rss_mb(args: list, env: dict) -> tuple[int, float, str]:
    p = subprocess.run(
        [sys.executable, "-c", MEASURE, *map(str, args)], env=env, capture_output=True, text=True
    )
    code, kb = p.stdout.split()
    return int(code), int(kb) / 1024, p.stderr


@pytest.mark.slow
def test_a_200_mb_single_line_is_refused_with_bounded_memory(tmp_path):
    big = tmp_path / "huge.csv"
    with big.open("wb") as f:
        f.write(b"t_s,acc_v_g,acc_ap_g,acc_ml_g\n0.0,")
        chunk = b"1" * (1 << 20)
        for _ in range(200):
            f.write(chunk)
    env = env_for(tmp_path / "h")
    code, small_mb, _ = peak_rss_mb(["ingest", *IMU_ARGS, tmp_path / "missing.csv"], env)
    assert code == 1
    code, big_mb, text = peak_rss_mb(["ingest", *IMU_ARGS, big], env)
    assert code == 1 and "longer than 64 KiB" in text and "Traceback" not in text, text
    assert big_mb - small_mb < 1.5 * 200, (small_mb, big_mb)  # at most one copy of the file


# -- item 10: session prefixes ---------------------------------------------------------------
def test_log_with_a_wildcard_or_short_prefix_matches_nothing(tmp_path):
    env = env_for(tmp_path / "h")
    assert invoke("ingest", *demo_files(2, 0), env=env).code == 0
    for prefix in ["", "%", "____", "%%%%", "ab"]:
        run = invoke("log", prefix, "--rpe", "5", env=env)
        assert_one_clean_line(run, 2, "log:", "session")
