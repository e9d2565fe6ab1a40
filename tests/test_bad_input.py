"""Bad input gets a one-line error and loses nothing; the other files still ingest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from drivers.fit import decode
from sensorhub.pipeline import Pipeline

from .fitbuild import write_run


def cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sensorhub.cli", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return write_run(tmp_path / "good.fit", range(0, 600))


def test_garbage_empty_and_text_files_are_one_line_each_and_good_ones_go_on(tmp_path, home, good):
    (tmp_path / "empty.fit").write_bytes(b"")
    (tmp_path / "garbage.fit").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "notes.fit").write_text("this is a training diary, not a FIT file\n" * 10)
    res = cli(home, "ingest", str(tmp_path))
    assert res.returncode == 1
    errors = res.stderr.strip().splitlines()
    assert len(errors) == 3, res.stderr
    assert any(e.startswith(str(tmp_path / "empty.fit") + ": empty file") for e in errors)
    assert any(e.startswith(str(tmp_path / "garbage.fit") + ": not a FIT file") for e in errors)
    assert any(e.startswith(str(tmp_path / "notes.fit") + ": not a FIT file") for e in errors)
    assert "Traceback" not in res.stderr + res.stdout
    assert "1 ingested" in res.stdout
    sessions = cli(home, "sessions", "--csv").stdout
    assert len(sessions.strip().splitlines()) == 2  # header + the good file's session


def test_missing_path_is_reported_not_raised(tmp_path, home):
    res = cli(home, "ingest", str(tmp_path / "nope.fit"))
    assert res.returncode == 1
    assert res.stderr.strip() == f"{tmp_path / 'nope.fit'}: no such file"


def test_truncated_file_keeps_records_before_the_damage_and_marks_partial(tmp_path, cfg, good):
    data = good.read_bytes()
    cut = tmp_path / "cut.fit"
    cut.write_bytes(data[: len(data) // 2])
    msgs = decode(cut)
    assert msgs.partial and msgs.error
    n_before = len(msgs["record"])
    assert 200 < n_before < 600
    report = Pipeline(cfg).ingest([cut])
    r = report.files[0]
    assert r.status == "ingested" and r.partial and "PARTIAL" in r.message
    s = Pipeline(cfg).journal.sessions()
    assert len(s) == 1 and s["partial"].iloc[0] == 1
    # no session message survived the cut: the session spans the records kept
    assert (
        Pipeline(cfg).journal.source_by_sha(
            __import__("hashlib").sha256(cut.read_bytes()).hexdigest()
        )["n_records"]
        == n_before
    )


def test_crc_error_is_a_warning_and_the_data_is_kept(tmp_path, cfg, good):
    data = bytearray(good.read_bytes())
    data[-1] ^= 0xFF  # the file CRC
    bad = tmp_path / "crc.fit"
    bad.write_bytes(bytes(data))
    msgs = decode(bad)
    assert any("CRC" in w for w in msgs.warnings)
    assert len(msgs["record"]) == 600
    r = Pipeline(cfg).ingest([bad]).files[0]
    assert r.status == "ingested" and "CRC" in r.message


def test_duplicate_timestamps_are_merged_and_counted(tmp_path, cfg):
    times = list(range(100)) + [50, 51, 52]  # a device repeating three seconds
    f = write_run(tmp_path / "dup.fit", times)
    r = Pipeline(cfg).ingest([f]).files[0]
    assert "3 duplicate timestamps merged" in r.message
    assert r.points == 100 + 1  # 100 distinct seconds + the session point
    summary = Pipeline(cfg).journal.sessions()["summary"].iloc[0]
    assert summary["duplicates_merged"] == 3


def test_backwards_timestamps_are_sorted_not_lost(tmp_path, cfg):
    times = list(range(0, 60)) + list(range(30, 20, -1)) + list(range(60, 120))
    f = write_run(tmp_path / "back.fit", times)
    r = Pipeline(cfg).ingest([f]).files[0]
    # 10 repeated seconds merged; every distinct second kept once, in order
    assert r.status == "ingested" and "10 duplicate timestamps merged" in r.message
    assert r.points == 120 + 1


def test_time_jump_forward_keeps_both_sides(tmp_path, cfg):
    times = list(range(0, 60)) + list(range(7200, 7260))  # two hours paused
    f = write_run(tmp_path / "jump.fit", times)
    r = Pipeline(cfg).ingest([f]).files[0]
    assert r.points == 120 + 1


def test_file_with_only_implausible_device_times_fails_with_a_reason(tmp_path, cfg):
    # a clock never set: times a few seconds after the FIT epoch (1989-12-31)
    f = write_run(tmp_path / "epoch.fit", range(0, 30), t0_ms=631_065_600_000 + 5_000)
    r = Pipeline(cfg).ingest([f]).files[0]
    assert r.failed and "30 records but none has a usable UTC timestamp" in r.message


def test_device_relative_times_are_anchored_and_every_record_kept(tmp_path, cfg):
    # the first 20 records carry FIT system time (seconds since power-on, < 0x10000000);
    # the first absolute timestamp anchors them (audit: relative timestamps were dropped)
    epoch_ms = 631_065_600_000
    times = list(range(0, 20)) + [1_100_000_000 + t for t in range(40)]  # clock set mid-run
    span = (times[20], times[-1])
    f = write_run(tmp_path / "clock.fit", times, t0_ms=epoch_ms + 5_000, session_span_s=span)
    r = Pipeline(cfg).ingest([f]).files[0]
    assert r.status == "ingested" and r.points == 60 + 1
    assert "anchored by the first absolute timestamp" in r.message


@pytest.mark.shared
def test_every_corpus_file_ingests_or_is_reported_in_one_line(cfg):
    from .shared import shared_dir

    root = shared_dir("fit")
    report = Pipeline(cfg).ingest([root])
    assert len(report.files) == len(list(root.rglob("*.fit"))) + len(list(root.rglob("*.FIT")))
    for f in report.files:
        assert "\n" not in f.line()
        assert not f.message.startswith("unexpected"), f.line()
    failed = {f.path.name: f.message for f in report.failed}
    no_time = "records but none has a usable UTC timestamp"
    expected = {
        "broken.fit": "no data messages",
        "empty-sessions.fit": "empty file",
        "DeveloperData.fit": no_time,  # SDK example: records without timestamps
        "TestEncode.fit": no_time,
        "antfs-dump.63.fit": no_time,  # device-relative time only
        "compressed-speed-distance.fit": no_time,
    }  # garmin-virb-ultra-30.fit ingests since its timestamp_correlation anchors it
    assert set(failed) == set(expected), failed
    for name, reason in expected.items():
        assert reason in failed[name], failed[name]
    partial = {f.path.name for f in report.files if f.partial}
    assert {"nick.fit", "strava-android-app-201.10-b1218918.fit"} <= partial
