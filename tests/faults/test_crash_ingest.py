"""Crash harness: ``sensorhub ingest`` SIGKILLed at chosen points, then restarted.

Each test runs the real command in a subprocess with ``SENSORHUB_KILL_AT`` (after N sources
stored, before a commit, in the middle of a recompute, between InfluxDB's 2xx and the outbox
delete), restarts with ``ingest``, ``status`` or ``flush``, and checks that the journal
(integrity, sessions, daily load, alerts) and InfluxDB (``load`` and ``session`` value by
value, ``run`` counts) equal a clean reference run of the same files in a fresh state dir
and database. Slow-ish: each test starts 2–3 interpreters (about 3 s per ingest).
"""

from __future__ import annotations

import signal
import uuid

import pytest

from .harness import cli, demo_files, env_for, read_influx, read_journal, same_journal

pytestmark = [pytest.mark.influx, pytest.mark.slow]
FILES = demo_files(8, 4)


def new_db(influxd) -> str:
    db = "crash_" + uuid.uuid4().hex[:10]
    influxd.query(db, f'CREATE DATABASE "{db}"')
    return db


@pytest.fixture(scope="module")
def reference(influxd, tmp_path_factory):
    """One clean run of FILES: (journal contents, InfluxDB contents)."""
    home, db = tmp_path_factory.mktemp("reference"), new_db(influxd)
    run = cli("ingest", *FILES, env=env_for(home, influxd.url, db))
    assert run.code == 0, run.text
    assert f"{len(FILES)} ingested" in run.out
    journal = read_journal(home)
    assert journal["outbox"] == 0 and journal["daily_load"] and journal["integrity"] == "ok"
    return journal, read_influx(influxd, db)


def killed(run, point: str) -> None:
    assert run.code == -signal.SIGKILL, f"not killed at {point}: {run.code} {run.text}"


@pytest.mark.parametrize(
    "point",
    ["record.after_commit:5", "record.before_commit:3"],
)
def test_killed_while_storing_then_ingest_again_gives_the_reference(
    point, reference, influxd, tmp_path
):
    db = new_db(influxd)
    env = env_for(tmp_path / "home", influxd.url, db)
    killed(cli("ingest", *FILES, env=env | {"SENSORHUB_KILL_AT": point}), point)
    mid = read_journal(tmp_path / "home")
    assert mid["integrity"] == "ok"
    stored = int(point.rsplit(":", 1)[1]) - (1 if "before" in point else 0)
    assert len(mid["sources"]) == stored  # all of a source or none of it
    again = cli("ingest", *FILES, env=env)
    assert again.code == 0, again.text
    assert f"{len(FILES) - stored} ingested, {stored} already there" in again.out
    want_journal, want_influx = reference
    got = read_journal(tmp_path / "home")
    same_journal(got, want_journal)
    assert got["outbox"] == 0
    assert read_influx(influxd, db) == want_influx


def test_killed_mid_recompute_then_status_finishes_it(reference, influxd, tmp_path):
    db = new_db(influxd)
    home = tmp_path / "home"
    env = env_for(home, influxd.url, db)
    killed(cli("ingest", *FILES, env=env | {"SENSORHUB_KILL_AT": "recompute.mid"}), "recompute")
    mid = read_journal(home)
    assert mid["integrity"] == "ok" and mid["dirty"] == 2  # both athletes still marked
    assert len(mid["sources"]) == len(FILES) and not mid["daily_load"]

    status = cli("status", env=env)
    assert status.code == 0, status.text
    same_journal(read_journal(home), reference[0])
    flush = cli("flush", env=env)
    assert flush.code == 0, flush.text
    assert read_journal(home)["outbox"] == 0
    assert read_influx(influxd, db) == reference[1]


def test_killed_between_ack_and_delete_then_flush_writes_the_reference(
    reference, influxd, fault_proxy, tmp_path
):
    db = new_db(influxd)
    home = tmp_path / "home"
    env = env_for(home, fault_proxy.url, db)
    # the second acknowledged request: an ingest joins its batches into a few requests (how
    # many depends on when the shipping thread looks), so a later one may never come
    point = "flush.after_send:2"
    killed(cli("ingest", *FILES, env=env | {"SENSORHUB_KILL_AT": point}), point)
    mid = read_journal(home)
    assert mid["integrity"] == "ok" and mid["outbox"] > 0
    sent = fault_proxy.stats["/write"].requests
    assert sent in (2, 3)  # on two connections the other one's request may have gone too

    # shipping overlaps storing: the kill may have cut the ingest short, so ingest again
    assert cli("ingest", *FILES, env=env).code == 0
    flush = cli("flush", env=env)
    assert flush.code == 0, flush.text
    assert fault_proxy.stats["/write"].requests > sent  # the acknowledged batch went again
    same_journal(read_journal(home), reference[0])
    assert read_journal(home)["outbox"] == 0
    assert read_influx(influxd, db) == reference[1]
