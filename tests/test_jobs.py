"""Jobs on a real PostgreSQL journal: ``sensorhub submit``, ``worker``, ``jobs``, relays.

A real PostgreSQL server (tests/pg.py) holds the journal and Procrastinate's queue; workers
and relays are real ``sensorhub`` processes (tests/faults/harness.py), killed with SIGKILL
at checkpoints (``SENSORHUB_KILL_AT``); results are compared with a single-process run of
the same files on SQLite, InfluxDB (tests/influxd.py) value by value.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from sensorhub.config import load_config
from sensorhub.pipeline import Pipeline
from sensorhub.store import Journal

from .faults.harness import (
    FIT,
    assert_one_clean_line,
    cli,
    env_for,
    invoke,
    journal_facts,
    read_influx,
    read_journal,
    start_cli,
)
from .shared import shared_dir

ANA = sorted((FIT / "ana").glob("*.fit"))
FAST = {  # a killed worker's job is back in the queue within seconds, not 30 s
    "SENSORHUB_JOB_HEARTBEAT_S": "1",
    "SENSORHUB_JOB_STALL_S": "4",
    "SENSORHUB_JOB_JANITOR_S": "0.5",
}


def pg_env(home: Path, url: str, influx_url: str | None = None, db: str | None = None, **kw):
    """A run's environment on the PostgreSQL journal at ``url`` (demo config by default)."""
    return env_for(home, influx_url, db, SENSORHUB_JOURNAL_URL=url, **FAST, **kw)


def read_pg(url: str) -> dict:
    """What :func:`read_journal` reads, from a PostgreSQL journal, plus the jobs."""
    with psycopg.connect(url) as db:
        q = db.execute
        return {
            "integrity": "ok",
            **journal_facts(q),
            "jobs": [
                (r[0], r[1], r[2], r[3])
                for r in q(
                    "SELECT task_name, status::text, attempts, args->>'name'"
                    " FROM procrastinate_jobs ORDER BY id"
                )
            ],
        }


def same_results(got: dict, want: dict) -> None:
    assert got["dirty"] == 0, "a recompute is still pending"
    for key in ("sources", "sessions", "daily_load", "alerts"):
        assert got[key] == want[key], key


def ingest_jobs(state: dict) -> list[tuple]:
    return [j for j in state["jobs"] if j[0] == "sensorhub.ingest"]


# -- refusals ---------------------------------------------------------------------------------
def test_submit_on_sqlite_says_it_needs_postgresql(tmp_path):
    run = invoke("submit", ANA[0], env=env_for(tmp_path / "home"))
    assert_one_clean_line(run, 2, "sensorhub submit", "PostgreSQL")
    assert not (tmp_path / "home" / "journal.sqlite").exists()  # nothing half-written


def test_submit_refuses_a_file_over_the_size_limit(postgres, tmp_path):
    url = postgres.new_database()
    big = tmp_path / "huge.fit"
    with big.open("wb") as f:
        f.truncate(65 * 1024**2)  # sparse: 65 MiB on paper
    run = invoke("submit", big, ANA[0], env=pg_env(tmp_path / "home", url))
    assert_one_clean_line(run, 1, "huge.fit", "larger than the 64 MiB")
    assert "1 job(s) queued" in run.out
    state = read_pg(url)
    assert [j[3] for j in ingest_jobs(state)] == [str(ANA[0])]  # the big one: no job, no blob


# -- one athlete, duplicates, two workers -----------------------------------------------------
def test_the_same_file_twice_is_one_job_and_one_source(postgres, tmp_path):
    url = postgres.new_database()
    env = pg_env(tmp_path / "home", url)
    first = invoke("submit", ANA[0], env=env)
    assert first.code == 0, first.text
    assert "queued for ana" in first.out  # the athlete of the file's device (config)
    again = invoke("submit", ANA[0], env=env)
    assert again.code == 0 and "already submitted" in again.out, again.text
    work = invoke("worker", "--until-idle", env=env)
    assert work.code == 0, work.text
    state = read_pg(url)
    assert [j[:2] for j in ingest_jobs(state)] == [("sensorhub.ingest", "succeeded")]
    assert len(state["sources"]) == 1 and state["dirty"] == 0 and state["daily_load"]
    listed = invoke("jobs", "--csv", env=env)
    assert listed.code == 0 and "succeeded" in listed.out and "ana" in listed.out


def test_two_files_of_one_athlete_on_two_workers_give_the_sequential_load(postgres, tmp_path):
    files = ANA[:2]
    ref_home = tmp_path / "ref"
    ref = invoke("ingest", *files, env=env_for(ref_home))
    assert ref.code == 0, ref.text
    want = read_journal(ref_home)

    url = postgres.new_database()
    env = pg_env(tmp_path / "home", url)
    sub = invoke("submit", *files, env=env)
    assert sub.code == 0 and "2 job(s) queued" in sub.out, sub.text
    work = cli("worker", "--until-idle", "--concurrency", "2", env=env, timeout=120)
    assert work.code == 0, work.text  # no deadlock: both processes drained the queue and left
    got = read_pg(url)
    assert [j[1] for j in ingest_jobs(got)] == ["succeeded", "succeeded"]
    same_results(got, want)
    assert len(got["sources"]) == 2
    with psycopg.connect(url) as db:  # the athlete lock: one job ran after the other
        spans = db.execute(
            "SELECT job_id, MIN(at) FILTER (WHERE type='started'),"
            " MAX(at) FILTER (WHERE type='succeeded') FROM procrastinate_events"
            " JOIN procrastinate_jobs j ON j.id=job_id WHERE j.task_name='sensorhub.ingest'"
            " GROUP BY job_id ORDER BY job_id"
        ).fetchall()
    assert spans[0][2] <= spans[1][1], spans


# -- a bad file ---------------------------------------------------------------------------------
def test_a_corrupt_file_fails_once_with_its_reason(postgres, tmp_path):
    url = postgres.new_database()
    env = pg_env(tmp_path / "home", url)
    bad = tmp_path / "bad.fit"
    bad.write_bytes(ANA[0].read_bytes()[:14] + bytes(range(256)) * 8)
    assert invoke("submit", bad, ANA[1], env=env).code == 0
    for _ in range(2):  # a second worker run does not try it again
        work = invoke("worker", "--until-idle", env=env)
        assert work.code == 0, work.text
    state = read_pg(url)
    jobs = {j[3]: j for j in ingest_jobs(state)}
    assert jobs[str(bad)][1:3] == ("failed", 1)  # one attempt, no retry loop
    assert jobs[str(ANA[1])][1] == "succeeded"
    listed = invoke("jobs", "--failed", "--csv", env=env)
    assert listed.code == 0, listed.text
    lines = listed.out.strip().splitlines()
    assert len(lines) == 2 and "bad.fit" in lines[1] and "failed" in lines[1]
    reason = lines[1].rsplit(",", 1)[1]
    assert reason and "Traceback" not in listed.text


# -- the kill test ------------------------------------------------------------------------------
# Files of one recording copied between repositories stay with one athlete (as one runner's
# files would): the fitparse family, the sports-lib family, the rest.
FAMILIES = {
    "dtcooper": "fp",
    "muktihari": "fp",
    "polyvertex": "fp",
    "tormoder": "fp",
    "stadelmanma": "fp",
    "jimmykane": "sl",
    "sports-alliance": "sl",
    "alex-hhh": "sl",
    "tcgoetz": "sl",
}


N_FILES = 150
TIMEOUT = 600  # s: a worker's whole run (the machine may be busy)
RELAY_PAUSE_S = 2.0  # between two flush runs of one relay


def corpus_groups() -> dict[str, list[Path]]:
    files = sorted(shared_dir("fit").rglob("*.fit"))
    assert len(files) >= N_FILES, len(files)
    files = files[:N_FILES]
    groups: dict[str, list[Path]] = {}
    for f in files:
        repo = f.relative_to(shared_dir("fit")).parts[0].split("__")[0]
        groups.setdefault(FAMILIES.get(repo, "gc"), []).append(f)
    return groups


def new_influx_db(influxd) -> str:
    db = "jobs_" + uuid.uuid4().hex[:10]
    influxd.query(db, f'CREATE DATABASE "{db}"')
    return db


def influx_diff(got: dict, want: dict) -> dict:
    """A short account of how two :func:`read_influx` measurements differ."""
    both = got.keys() & want.keys()
    fields = {k: (got[k], want[k]) for k in sorted(both) if got[k] != want[k]}
    return {
        "only_got": sorted(got.keys() - want.keys())[:5],
        "only_want": sorted(want.keys() - got.keys())[:5],
        "n_differ": len(fields),
        "differ": {
            k: {f: (g.get(f), w.get(f)) for f in g.keys() | w.keys() if g.get(f) != w.get(f)}
            for k, (g, w) in list(fields.items())[:3]
        },
    }


def kill_env(point: str | None) -> dict[str, str]:
    return {"SENSORHUB_KILL_AT": point} if point else {}


KILL_WAIT_S = 60.0  # the longest relay 0 runs alone before the others start anyway


class Relays:
    """``sensorhub flush`` run over and over by ``n`` threads (relay processes); relay 0 runs
    with ``kill_at`` until it is killed there."""

    def __init__(self, n: int, env: dict, kill_at: str) -> None:
        self.env, self.kill_at, self.stop = env, kill_at, threading.Event()
        self.killed = threading.Event()
        self.codes: list[int] = []
        self.threads = [
            threading.Thread(target=self._loop, args=(i,), daemon=True) for i in range(n)
        ]
        for t in self.threads:
            t.start()

    def _loop(self, i: int) -> None:
        armed = i == 0  # until it is killed (a run finding the outbox empty sends nothing)
        if not armed:  # the others join once relay 0 was killed: alone, it is sure to ship
            self.killed.wait(KILL_WAIT_S)  # (racing relays once left it nothing to send)
        while not self.stop.is_set():
            env = self.env | kill_env(self.kill_at if armed else None)
            try:
                code = cli("flush", env=env, timeout=TIMEOUT).code
            except subprocess.TimeoutExpired:  # (the process is killed by subprocess.run)
                code = None
            self.codes.append(code)
            if armed and code == -signal.SIGKILL:
                armed = False
                self.killed.set()
            self.stop.wait(RELAY_PAUSE_S)

    def join(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()


@pytest.mark.slow
@pytest.mark.influx
@pytest.mark.shared
def test_workers_and_relays_killed_and_restarted_give_the_single_process_results(
    postgres, influxd, tmp_path, monkeypatch
):
    groups = corpus_groups()
    # the reference: one process, SQLite, the same athletes, each athlete's files in order
    ref_db = new_influx_db(influxd)
    monkeypatch.setenv("SENSORHUB_INFLUX_URL", influxd.url)
    monkeypatch.setenv("SENSORHUB_INFLUX_DB", ref_db)
    ref_cfg = load_config(home=tmp_path / "ref")
    journal, want_failed = Journal(ref_cfg.journal_path), set()
    for athlete, files in groups.items():
        report = Pipeline(ref_cfg, journal=journal, athlete=athlete).ingest(files)
        want_failed |= {str(r.path) for r in report.failed}
    journal.close()
    want, want_influx = read_journal(tmp_path / "ref"), read_influx(influxd, ref_db)
    assert want["outbox"] == 0 and want["daily_load"]

    url, db = postgres.new_database(), new_influx_db(influxd)
    env = pg_env(tmp_path / "home", url, influxd.url, db, config=None)
    for athlete, files in groups.items():
        sub = invoke("submit", "--athlete", athlete, *files, env=env)
        assert sub.code == 0, sub.text
    kills = {0: "record.before_commit:9", 1: "job.after_ingest:14"}  # in / after a transaction
    procs: list = []
    relays = None
    try:
        procs += [
            start_cli("worker", "--until-idle", env=env | kill_env(kills.get(i))) for i in range(3)
        ]
        relays = Relays(2, env, "flush.after_send:1")  # between InfluxDB's 204 and the delete
        for i in kills:
            procs[i].communicate(timeout=TIMEOUT)
            assert procs[i].returncode == -signal.SIGKILL, f"worker {i} not killed"
            procs.append(start_cli("worker", "--until-idle", env=env))  # restarted
        for w in procs[2:]:
            out, err = w.communicate(timeout=TIMEOUT)
            assert w.returncode == 0, out + err
    finally:
        if relays:
            relays.join()
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
    assert -signal.SIGKILL in relays.codes, relays.codes  # the relay was killed, then ran again
    deadline = time.monotonic() + 180  # what the relays had not shipped yet; a busy influxd
    while read_pg(url)["outbox"]:  # may time out a request: the outbox keeps it, flush again
        last = cli("flush", env=env)
        assert last.code in (0, 1) and time.monotonic() < deadline, last.text
        time.sleep(0 if last.code == 0 else 2)
    got = read_pg(url)
    jobs = ingest_jobs(got)
    assert {j[1] for j in jobs} <= {"succeeded", "failed"}, jobs  # every job done
    assert not [j for j in got["jobs"] if j[1] in ("todo", "doing")]
    assert len(jobs) == sum(len(g) for g in groups.values())
    assert max(j[2] for j in jobs) >= 2  # the killed workers' jobs were requeued and ran again
    assert {j[3] for j in jobs if j[1] == "failed"} == want_failed  # files that do not decode
    assert got["outbox"] == 0
    same_results(got, want)
    got_influx = read_influx(influxd, db)
    for m in ("load", "session", "run"):
        assert got_influx[m] == want_influx[m], influx_diff(got_influx[m], want_influx[m])
