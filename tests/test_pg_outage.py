"""PostgreSQL going away under a running ``sensorhub worker`` (issue 17, "Bad input and faults").

A private PostgreSQL server (tests/pg.py; not the session's shared one, which other tests
use) holds a backlog of real FIT files (../shared/fit). While a real ``sensorhub worker``
process works through it the server is stopped (``pg_ctl stop``: every connection is cut, as
when a managed database restarts or fails over) and started again a few seconds later on the
same port. The worker must either reconnect and finish, or exit with one clear line and a
restarted worker finish; every job is done exactly once and the journal holds what a run
without the outage stores (a single-process SQLite run of the same files). While the server
is down, ``sensorhub submit`` and ``sensorhub ingest`` say so in one line naming the URL with
the password masked.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from sensorhub.config import load_config
from sensorhub.pipeline import Pipeline
from sensorhub.store import Journal

from .faults.harness import assert_one_clean_line, cli, read_journal, start_cli
from .pg import PASSWORD, PgServer, require_pg
from .shared import shared_dir
from .test_jobs import FAMILIES, ingest_jobs, pg_env, read_pg, same_results

N_FILES = 24  # a backlog a worker needs well over the outage for
DONE_BEFORE_STOP = 4  # jobs finished before the server goes away: it stops mid-backlog
DOWN_S = 4.0  # how long the server stays down (the queue's pool waits up to 30 s)
TIMEOUT = 420  # s: the worker's whole run on a busy machine


@pytest.fixture
def server():
    """A PostgreSQL server of this test's own: it is stopped and started again."""
    require_pg()
    srv = PgServer(durable_commit=True)  # a commit a worker saw succeed survives the stop
    srv.start()
    yield srv
    srv.stop()


def backlog() -> dict[str, list[Path]]:
    """{athlete: files}: copies of one recording stay with one athlete (as in test_jobs)."""
    files = sorted(shared_dir("fit").rglob("*.fit"))[:N_FILES]
    assert len(files) == N_FILES, len(files)
    groups: dict[str, list[Path]] = {}
    for f in files:
        repo = f.relative_to(shared_dir("fit")).parts[0].split("__")[0]
        groups.setdefault(FAMILIES.get(repo, "gc"), []).append(f)
    return groups


def finished_jobs(url: str) -> int:
    try:
        with psycopg.connect(url, connect_timeout=5) as db:
            return db.execute(
                "SELECT COUNT(*) FROM procrastinate_jobs WHERE status IN ('succeeded', 'failed')"
            ).fetchone()[0]
    except psycopg.errors.UndefinedTable:
        return 0


def terminal_events(url: str) -> dict[int, int]:
    """{job id: how many times it ended (succeeded or failed for good)}."""
    with psycopg.connect(url) as db:
        rows = db.execute(
            "SELECT j.id, COUNT(e.id) FILTER (WHERE e.type IN ('succeeded', 'failed'))"
            " FROM procrastinate_jobs j LEFT JOIN procrastinate_events e ON e.job_id = j.id"
            " WHERE j.task_name = 'sensorhub.ingest' GROUP BY j.id"
        ).fetchall()
    return {r[0]: r[1] for r in rows}


WRITER = """
import sys
from sensorhub.store import Journal
from sensorhub.store.backends import StoreError
j = Journal(sys.argv[1])
print("ready", flush=True)
lines = [f"run,athlete=a v={i} {1_700_000_000_000 + i}" for i in range(2000)]
try:
    for k in range(100_000):
        with j.transaction():
            j.outbox.enqueue("run", lines, 1, series=f"s{k % 7}")
except StoreError as exc:
    print(exc)
"""


@pytest.mark.slow
def test_a_connection_cut_mid_write_gives_our_line_and_no_logger_noise(server, tmp_path):
    """The server stops while a writer's executemany streams rows (psycopg's pipeline): the
    writer's StoreError is the one line; psycopg's own "error ignored terminating" warning
    (about 2 stops in 3 before the fix; CI saw it beside the worker's lines) is not printed."""
    for mode in ["immediate", "fast"] * 3:
        url = server.new_database()
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert writer.stdout.readline() == "ready\n", writer.communicate()
        time.sleep(1.0)
        server.halt(mode)
        out, err = writer.communicate(timeout=60)
        server.resume()
        assert out.startswith(f"journal postgresql://{server.user}:***@"), (mode, out, err)
        assert err == "", (mode, err)


def assert_down_line(run, server: PgServer) -> None:
    """One line, exit 2, the URL with its password masked (and never the password)."""
    masked = f"postgresql://{server.user}:***@127.0.0.1:{server.port}/"
    assert_one_clean_line(run, 2, masked)
    assert PASSWORD not in run.text, run.text


@pytest.mark.slow
@pytest.mark.shared
@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_a_worker_outlives_a_postgresql_restart_and_every_job_is_done_once(
    server, tmp_path, monkeypatch, mode
):
    groups = backlog()
    for name in [k for k in os.environ if k.startswith("SENSORHUB_")]:
        monkeypatch.delenv(name)
    ref_cfg = load_config(home=tmp_path / "ref")  # the same files: one process, SQLite
    journal, want_failed = Journal(ref_cfg.journal_path), set()
    for athlete, files in groups.items():
        report = Pipeline(ref_cfg, journal=journal, athlete=athlete).ingest(files)
        want_failed |= {str(r.path) for r in report.failed}
    journal.close()
    want = read_journal(tmp_path / "ref")
    assert want["sessions"] and want["daily_load"]

    url = server.new_database()
    env = pg_env(tmp_path / "home", url, config=None)
    for athlete, files in groups.items():
        sub = cli("submit", "--athlete", athlete, *files, env=env)
        assert sub.code == 0, sub.text
    worker = start_cli("worker", "--until-idle", env=env)
    try:
        deadline = time.monotonic() + TIMEOUT
        while finished_jobs(url) < DONE_BEFORE_STOP:
            assert worker.poll() is None, worker.communicate()
            assert time.monotonic() < deadline, "the worker did not start working"
            time.sleep(0.2)
        server.halt(mode)  # mid-backlog: a job is running, its transaction is cut
        stopped = time.monotonic()
        probe = tmp_path / "probe"
        assert_down_line(cli("submit", groups["gc"][0], env=pg_env(probe, url)), server)
        assert_down_line(cli("ingest", groups["gc"][0], env=pg_env(probe, url)), server)
        time.sleep(max(0.0, DOWN_S - (time.monotonic() - stopped)))
        server.resume()
        out, err = worker.communicate(timeout=TIMEOUT)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert "Traceback" not in out + err, err[:5000]
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert all("***" in ln for ln in lines), lines  # our one-liners, no logger noise
    if worker.returncode != 0:  # it gave up: one line saying why, a restarted worker finishes
        assert worker.returncode == 2 and "job queue" in lines[-1], (worker.returncode, lines)
        again = cli("worker", "--until-idle", env=env, timeout=TIMEOUT)
        assert again.code == 0, again.text

    got = read_pg(url)
    jobs = ingest_jobs(got)
    assert len(jobs) == N_FILES
    assert not [j for j in got["jobs"] if j[1] not in ("succeeded", "failed")], got["jobs"]
    assert {j[3] for j in jobs if j[1] == "failed"} == want_failed  # files that do not decode
    assert all(n == 1 for n in terminal_events(url).values()), terminal_events(url)
    same_results(got, want)  # one source per file; sessions, daily load, alerts as without


@pytest.mark.parametrize("kind", ["connector", "store", "os"])
def test_the_loop_handler_turns_a_lost_job_end_into_one_line(kind, capsys):
    """A job's end lost with the journal reaches asyncio's loop handler; each transient kind
    gives our one line, never a second traceback from the handler itself (CI saw
    ``TypeError: unsupported operand type(s) for |`` there)."""
    import asyncio

    from procrastinate import exceptions as pexc

    from sensorhub.jobs.work import _lost_job_end
    from sensorhub.store.backends import PgTarget, StoreError

    exc = {
        "connector": pexc.ConnectorException("Database error."),
        "store": StoreError("journal x: terminating connection"),
        "os": ConnectionResetError("reset by peer"),
    }[kind]
    loop = asyncio.new_event_loop()
    try:
        _lost_job_end(PgTarget("postgresql://u:secret@h/db"))(
            loop, {"message": "m", "exception": exc}
        )
    finally:
        loop.close()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "a job's end was not recorded" in err
    assert "Traceback" not in err and "secret" not in err


def test_the_loop_handler_leaves_other_errors_to_asyncio(caplog):
    import asyncio

    from sensorhub.jobs.work import _lost_job_end

    loop = asyncio.new_event_loop()
    try:
        _lost_job_end("t")(loop, {"message": "boom", "exception": ValueError("not ours")})
    finally:
        loop.close()
    assert any("boom" in r.getMessage() for r in caplog.records)
