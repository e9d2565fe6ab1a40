"""Job workers on a PostgreSQL journal: files/s and points/s for 1, 2 and 4 workers.

One private PostgreSQL server (tests/pg.py: initdb + pg_ctl on loopback). For each worker
count, a fresh database gets the same backlog — the N largest files of ../shared/fit that
ingest, spread over ``--athletes`` athletes (``submit --athlete``), since one athlete's
jobs run one at a time — and ``sensorhub worker --until-idle --concurrency W`` drains it.

Measured per run: the span from the first job started to the last job finished
(Procrastinate's events), files/s and points/s over that span (points: what the jobs put in
the outbox, InfluxDB not configured so nothing leaves it), CPU per file of the worker
processes (interpreter start-up included) and of the PostgreSQL server. The baseline is one
worker, measured in the same run: the ratios say how the same backlog scales.

The writers' lock (``WRITE_LOCK``, sensorhub/store/backends.py): a thread samples
``pg_locks`` every :data:`SAMPLE_S` during the run — how many sessions hold the lock and how
many wait for it — and the table gives the lock's time held and waited for as a share of the
jobs' run time (the sum of each job's start-to-end span, Procrastinate's events). On a
machine with fewer cores than workers the files/s curve is flat whatever the lock does; the
held/waited shares say how much of a job is serialised, i.e. what caps scaling on more cores
(at most 1 / held-share times one worker).

    .venv/bin/python benchmarks/scale.py [--files N] [--athletes N] [--workers 1,2,4]
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from sensorhub.store import backends  # noqa: E402
from sensorhub.store.backends import WRITE_LOCK  # noqa: E402
from tests.pg import PgServer, pg_bin  # noqa: E402

SHARED = ROOT.parent / "shared" / "fit"
TICK = os.sysconf("SC_CLK_TCK")
SAMPLE_S = 0.02  # the lock sampler's period (s)


class LockSampler:
    """Sample who holds and who waits for the writers' advisory lock (module docstring).

    A bigint advisory key shows in ``pg_locks`` as classid = its high 32 bits, objid = its
    low 32 bits, objsubid = 1. What serialises writers: :data:`WRITE_LOCK` held exclusive,
    and ``ORDER_LOCK`` (an athlete's job ordering its outbox ids at commit), when the
    backend has it; a job holding WRITE_LOCK *shared* runs beside others and is not counted
    as held, only as waiting while it waits. ``held_s``/``waited_s``: samples times the
    period, summed over sessions (seconds of session time)."""

    def __init__(self, url: str) -> None:
        self.url, self.stop = url, threading.Event()
        self.held_s = self.waited_s = 0.0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        keys = [k for k in (WRITE_LOCK, getattr(backends, "ORDER_LOCK", None)) if k]
        classid = WRITE_LOCK >> 32
        with psycopg.connect(self.url, autocommit=True) as db:
            last = time.monotonic()
            while not self.stop.is_set():
                rows = db.execute(
                    "SELECT objid, mode, granted, COUNT(*) FROM pg_locks"
                    " WHERE locktype='advisory' AND classid=%s AND objid = ANY(%s)"
                    " AND objsubid=1 GROUP BY 1, 2, 3",
                    (classid, [k & 0xFFFFFFFF for k in keys]),
                ).fetchall()
                now = time.monotonic()
                dt, last = now - last, now
                for _objid, mode, granted, n in rows:
                    if not granted:
                        self.waited_s += n * dt
                    elif mode == "ExclusiveLock":
                        self.held_s += n * dt
                self.stop.wait(SAMPLE_S)

    def close(self) -> None:
        self.stop.set()
        self.thread.join()


def backlog(n: int) -> list[Path]:
    """The ``n`` largest files fitparse reads (the same backlog for every worker count)."""
    with open(SHARED / "MANIFEST.tsv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t") if r["fitparse_status"] == "ok"]
    rows.sort(key=lambda r: -int(r["records"] or 0))
    return [SHARED / r["path"] for r in rows[:n]]


def server_cpu_s(data: Path) -> float:
    """CPU seconds of the PostgreSQL server: the postmaster, its reaped and live children."""
    pid = int((data / "postmaster.pid").read_text().split()[0])
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            f = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        me = int(stat.parent.name)
        if me == pid:
            total += sum(int(x) for x in f[11:15])  # utime stime cutime cstime
        elif int(f[1]) == pid:
            total += int(f[11]) + int(f[12])
    return total / TICK


def cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sensorhub.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def one_run(server: PgServer, files: list[Path], athletes: int, workers: int) -> dict:
    url = server.new_database()
    home = Path(tempfile.mkdtemp(prefix="sensorhub-scale-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENSORHUB_")}
    env |= {"SENSORHUB_HOME": str(home), "SENSORHUB_JOURNAL_URL": url}
    for a in range(athletes):
        group = [str(f) for f in files[a::athletes]]
        done = cli("submit", "--athlete", f"a{a}", *group, env=env)
        if done.returncode:
            raise SystemExit(f"submit failed: {done.stderr.strip()}")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    pg_before = server_cpu_s(server.data)
    sampler = LockSampler(url)
    try:
        run = cli("worker", "--until-idle", "--concurrency", str(workers), env=env)
    finally:
        sampler.close()
    if run.returncode:
        raise SystemExit(f"worker failed: {run.stderr.strip()}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    pg_cpu = server_cpu_s(server.data) - pg_before
    with psycopg.connect(url) as db:
        span, n, failed = db.execute(
            "SELECT EXTRACT(EPOCH FROM MAX(at) FILTER (WHERE type IN ('succeeded','failed'))"
            " - MIN(at) FILTER (WHERE type='started')),"
            " COUNT(DISTINCT job_id) FILTER (WHERE type='succeeded'),"
            " COUNT(DISTINCT job_id) FILTER (WHERE type='failed')"
            " FROM procrastinate_events e JOIN procrastinate_jobs j ON j.id=e.job_id"
            " WHERE j.task_name='sensorhub.ingest'"
        ).fetchone()
        points = int(db.execute("SELECT COALESCE(SUM(n_points),0) FROM outbox").fetchone()[0])
        job_s = db.execute(  # every job's run time (ingest and recompute; a retry's last run)
            "SELECT COALESCE(SUM(EXTRACT(EPOCH FROM e - s)), 0) FROM (SELECT job_id,"
            " MAX(at) FILTER (WHERE type='started') s,"
            " MAX(at) FILTER (WHERE type IN ('succeeded','failed')) e"
            " FROM procrastinate_events GROUP BY job_id) t WHERE e IS NOT NULL"
        ).fetchone()[0]
    if not n:
        raise SystemExit(f"no job succeeded with {workers} worker(s): {run.stdout[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    span = float(span)
    return {
        "workers": workers,
        "files": int(n),
        "failed": int(failed),
        "span_s": span,
        "files_s": n / span,
        "points_s": points / span,
        "cpu_ms_file": 1000 * cpu / max(n, 1),
        "pg_ms_file": 1000 * pg_cpu / max(n, 1),
        "held": sampler.held_s / max(float(job_s), 1e-9),
        "waited": sampler.waited_s / max(float(job_s), 1e-9),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=48)
    ap.add_argument("--athletes", type=int, default=8)
    ap.add_argument("--workers", default="1,2,4")
    args = ap.parse_args()
    if not (pg_bin("initdb") and pg_bin("pg_ctl")):
        raise SystemExit("PostgreSQL server programs (initdb, pg_ctl) not found")
    counts = [int(w) for w in args.workers.split(",")]
    files = backlog(args.files)
    server = PgServer()
    server.start()
    try:
        rows = [one_run(server, files, args.athletes, w) for w in counts]
    finally:
        server.stop()
    base = rows[0]
    print(f"{len(files)} files, {args.athletes} athletes, {os.cpu_count()} CPU(s)")
    print(
        f"{'workers':>7} {'files':>5} {'span s':>7} {'files/s':>8} {'points/s':>9}"
        f" {'x files/s':>9} {'worker CPU ms/file':>18} {'PG CPU ms/file':>14}"
        f" {'lock held':>9} {'lock wait':>9}"
    )
    for r in rows:
        print(
            f"{r['workers']:>7} {r['files']:>5} {r['span_s']:>7.1f} {r['files_s']:>8.2f}"
            f" {r['points_s']:>9.0f} {r['files_s'] / base['files_s']:>9.2f}"
            f" {r['cpu_ms_file']:>18.0f} {r['pg_ms_file']:>14.0f}"
            f" {r['held']:>9.1%} {r['waited']:>9.1%}"
        )
    print(
        "lock held / lock wait: the writers' lock held exclusive (with ORDER_LOCK) / waited"
        " for, as a share of the jobs' run time (pg_locks sampled every"
        f" {SAMPLE_S * 1000:.0f} ms); 1 / held share bounds the speed-up over one worker"
    )


if __name__ == "__main__":
    main()
