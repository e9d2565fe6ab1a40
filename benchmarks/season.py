"""A season into InfluxDB: whole-pipeline ingest against what influxd itself takes.

Corpus: every ``.fit`` below ../shared/fit plus fixtures/fit. Measured in one run, each part
in its own process (peak RSS is per process):

1. **compute path** (decode -> normalise -> line protocol -> journal; InfluxDB not
   configured) with this checkout and, given ``--base DIR`` (a ``git worktree`` of the commit
   to compare with), with that one: points/s and the ratio, outbox bytes a point, peak RSS.
2. **raw**: the same line protocol (the outbox bodies of step 1) POSTed straight to a fresh
   database of a real influxd, created as sensorhub creates its own (52-week shard groups):
   one connection plain text, one connection gzip, two connections plain text. The best of
   these is the bound for step 3. One more, plain text into a database with the server's
   one-week shard groups, shows what the shard duration is worth.
3. **season**: the whole pipeline into a fresh database of the same influxd:
   ``Pipeline.ingest`` ships the outbox on a background thread while files are ingested,
   then the final ship; ``--serial`` also runs the old order (``Pipeline(overlap=False)``:
   ingest everything, then ship), ``--gzip`` also the overlap sending the stored gzip bodies
   as they are. Reported: wall time / best raw time (goal <= 1.25); then the writer alone
   (``InfluxWriter.flush`` of step 1's outbox) against the raw rate, on one HTTP connection
   and on two (``[influx] connections``); every InfluxDB line prints the connections used
   (``BENCH_CONNECTIONS=N`` overrides the setting for the season runs).

Every timed run against InfluxDB gets a fresh influxd of its own: influxd goes on compacting
what an earlier run wrote for tens of seconds, and a run on a server holding four earlier
copies of the season was measured 1.6x slower than the same run on a fresh one. CPU seconds
of influxd and of the client are printed next to each wall time (the machine is shared).

``--writer-only JOURNAL`` skips the compute path and measures raw plain against the writer
alone, ``--repeat`` times interleaved, each on its own copy of JOURNAL's outbox (a compute
run prints where it left its journal).

    .venv/bin/python benchmarks/season.py [--base /tmp/base] [--serial] [--gzip] [--limit N]
        [--compute-only] [--writer-only JOURNAL [--repeat N]]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import pickle
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SHARDS = "52w"  # the shard groups of the database sensorhub creates ([influx] shard_duration)
SHARED = ROOT.parent / "shared" / "fit"
NOW = "2026-11-20T12:00:00Z"


def corpus(limit: int | None = None) -> list[Path]:
    """Every .fit file of ../shared/fit and fixtures/fit, sorted (``limit``: the first N)."""
    files = sorted(p for p in SHARED.rglob("*") if p.is_file() and p.suffix.lower() == ".fit")
    files += sorted((ROOT / "fixtures" / "fit").rglob("*.fit"))
    return files[:limit] if limit else files


# -- workers (run in a child process, possibly with another checkout on PYTHONPATH) ----------
def worker(mode: str, home: str, influx_url: str, db: str, limit: int | None, dump: str) -> dict:
    """Ingest the corpus into a fresh journal in ``home``; what it cost (a JSON-able dict)."""
    import pandas as pd

    from sensorhub.config import load_config
    from sensorhub.pipeline import Pipeline

    if influx_url:
        os.environ["SENSORHUB_INFLUX_URL"] = influx_url
        os.environ["SENSORHUB_INFLUX_DB"] = db
    cfg = load_config(ROOT / "fixtures" / "sensorhub.toml", home)
    if influx_url:  # a 5000-day ``load`` batch spans ~700 weekly shards: influxd needs > 10 s
        cfg.influx.timeout_s = 120.0
    if os.environ.get("BENCH_CONNECTIONS"):  # the writer's HTTP connections ([influx])
        cfg.influx.connections = int(os.environ["BENCH_CONNECTIONS"])
    files = corpus(limit)
    if os.environ.get("BENCH_COALESCE") == "0":  # one request a batch, as before
        from sensorhub.delivery import Delivery

        Delivery.coalesce = False
    pipe = Pipeline(cfg, now=pd.Timestamp(NOW))
    t0 = time.perf_counter()
    if mode == "writer":  # ship the outbox a compute run left (InfluxDB the bound)
        waiting = pipe.journal.outbox.stats()["points"]
        cpu0 = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
        report = pipe.delivery.flush()  # InfluxWriter.flush, as ``sensorhub flush`` runs it
        secs = time.perf_counter() - t0
        return {
            "seconds": secs,
            "points": waiting,
            "sent": report.sent_points,
            "requests": report.requests,
            "cpu_s": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - cpu0,
            "errors": report.errors[-2:],
            "connections": getattr(cfg.influx, "connections", 1),
        }
    if mode in ("overlap", "serial"):  # Pipeline.ingest: ship while storing, or after
        if os.environ.get("BENCH_SEND_GZIP"):
            from sensorhub.store import InfluxWriter

            InfluxWriter.send_gzip = True
        pipe.overlap = mode == "overlap"
        last = [t0]
        report = pipe.ingest(files, progress=lambda r: last.__setitem__(0, time.perf_counter()))
        stored = last[0] - t0
        flush = report.flush
        shipped = report.shipped.points if report.shipped else 0
    else:
        report = pipe.ingest(files)
        stored = time.perf_counter() - t0
        flush = report.flush
        shipped = 0
    total = time.perf_counter() - t0
    out = {
        "files": len(files),
        "seconds": total,
        "stored_s": stored,
        "points": pipe.journal.db.execute("SELECT SUM(n_records) FROM sources").fetchone()[0],
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cpu_s": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
        "shipped_while_storing": shipped,
        "connections": getattr(cfg.influx, "connections", 1),
    }
    if flush is not None:
        out["flush_points"] = flush.sent_points
        out["left"] = flush.left_batches
        out["errors"] = flush.errors[-2:]
    row = pipe.journal.db.execute("SELECT SUM(n_points), SUM(length(body)) FROM outbox").fetchone()
    out["outbox_points"], out["outbox_bytes"] = row[0] or 0, row[1] or 0
    if dump:  # the line protocol written, for the raw post
        bodies = [b.body.encode() for b in pipe.journal.outbox.batches()]
        Path(dump).write_bytes(pickle.dumps(bodies))
    return out


def run_worker(mode: str, checkout: Path, home: str = "", **kw) -> dict:
    """Run :func:`worker` in a child process with ``checkout`` first on the import path."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    args = [sys.executable, __file__, "--worker", mode, "--home", home or tempfile.mkdtemp()]
    for k, v in kw.items():
        if v:
            args += [f"--{k}", str(v)]
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"{mode} worker ({checkout}) failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- raw posting ---------------------------------------------------------------------------
@contextmanager
def fresh_server() -> Iterator:
    """A fresh influxd (its own data dir, removed after): no run pays for another's
    compactions."""
    sys.path.insert(0, str(ROOT / "tests"))
    from influxd import InfluxServer

    root = Path(tempfile.mkdtemp(prefix="bench-influxd-"))
    server = InfluxServer(root)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def raw_post(
    bodies: list[bytes], gzipped: bool, connections: int, shards: str
) -> tuple[float, float, float]:
    """Wall seconds, influxd CPU seconds and client CPU seconds of :func:`post_all` into a
    fresh influxd."""
    with fresh_server() as server:
        cpu0, own0 = cpu_seconds(server.proc.pid), sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
        secs = post_all(server.url, "raw", bodies, gzipped, connections, shards)
        own = sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - own0
        return secs, cpu_seconds(server.proc.pid) - cpu0, own


def writer_alone(journal: Path, limit: int | None) -> tuple[dict, float]:
    """The writer worker on a copy of ``journal`` into a fresh influxd; (its result, influxd
    CPU seconds)."""
    home = tempfile.mkdtemp(prefix="bench-writer-")
    for part in ("", "-wal"):  # a journal left open has its last commits in the WAL
        if Path(f"{journal}{part}").exists():
            shutil.copy(f"{journal}{part}", Path(home) / f"journal.sqlite{part}")
    try:
        with fresh_server() as server:
            cpu0 = cpu_seconds(server.proc.pid)
            got = run_worker("writer", ROOT, home, url=server.url, db="writer", limit=limit)
            return got, cpu_seconds(server.proc.pid) - cpu0
    finally:
        shutil.rmtree(home, ignore_errors=True)


def outbox_bodies(journal: Path) -> list[bytes]:
    """The line protocol of every waiting outbox batch of ``journal``, oldest first."""
    sys.path.insert(0, str(ROOT))
    from sensorhub.store import Journal

    j = Journal(journal)
    try:
        return [b.body.encode() for b in j.outbox.batches()]
    finally:
        j.close()


def show_writer(got: dict, influx_cpu: float, n_points: int, raw: dict, label: str) -> float:
    """Print the writer's line against the raw rates; the fraction of the best raw rate."""
    rate = got["sent"] / got["seconds"]
    best = min(r[0] for r in raw.values())
    plain = rate / (n_points / raw["plain"][0])
    print(
        f"writer ({label}): {got['seconds']:.2f} s, {got['sent']:,} points in"
        f" {got['requests']} requests on {got.get('connections', 1)} connection(s),"
        f" {rate:,.0f} points/s = {plain:.0%}"
        f" of the raw plain 1-connection rate, {rate / (n_points / best):.0%} of the best raw"
        f" (goal >= 90 %); CPU: writer {got['cpu_s']:.1f} s, influxd {influx_cpu:.1f} s"
        f" (raw plain: influxd {raw['plain'][1]:.1f} s, client {raw['plain'][2]:.1f} s):"
        f" {(raw['plain'][1] + raw['plain'][2]) / (influx_cpu + got['cpu_s']):.0%} of the raw"
        f" rate per CPU second (the steadier on a shared machine); load {os.getloadavg()[0]:.1f}"
    )
    for e in filter(None, got.get("errors", [])):
        print(f"  error: {e}")
    return rate / (n_points / best)


def writer_only(journal: Path, repeat: int, limit: int | None) -> None:
    """Raw plain against the writer alone on ``journal``'s outbox, ``repeat`` times."""
    bodies = outbox_bodies(journal)
    n_points = sum(b.count(b"\n") + 1 for b in bodies)
    print(f"outbox of {journal}: {len(bodies)} batches, {n_points:,} points", flush=True)
    fractions = []
    for i in range(repeat):
        raw = {"plain": raw_post(bodies, False, 1, SHARDS)}
        print(
            f"raw post plain    {raw['plain'][0]:8.2f} s {n_points / raw['plain'][0]:>12,.0f}"
            f" points/s; CPU influxd {raw['plain'][1]:.1f} s, client {raw['plain'][2]:.1f} s"
            f" (load {os.getloadavg()[0]:.1f})",
            flush=True,
        )
        os.environ["BENCH_COALESCE"] = "0"
        got, influx_cpu = writer_alone(journal, limit)
        show_writer(got, influx_cpu, n_points, raw, f"run {i + 1}, one request a batch (before)")
        os.environ["BENCH_COALESCE"] = ""
        got, influx_cpu = writer_alone(journal, limit)
        fractions.append(show_writer(got, influx_cpu, n_points, raw, f"run {i + 1}"))
    fractions.sort()
    print(
        f"writer / raw plain over {repeat} runs: min {fractions[0]:.0%},"
        f" median {fractions[len(fractions) // 2]:.0%}, max {fractions[-1]:.0%}"
    )


def post_all(
    url: str, db: str, bodies: list[bytes], gzipped: bool, connections: int, shards: str = SHARDS
) -> float:
    """Seconds to POST every body (each ``connections``-th to one connection) into a database
    created with shard groups of ``shards`` (empty: the server's default, one week)."""
    create = f'CREATE DATABASE "{db}"' + (f" WITH SHARD DURATION {shards}" if shards else "")
    httpx.post(f"{url}/query", params={"q": create}).raise_for_status()
    if gzipped:
        bodies = [gzip.compress(b, 1) for b in bodies]
    headers = {"Content-Encoding": "gzip"} if gzipped else {}
    errors: list[str] = []

    def send(part: list[bytes]) -> None:
        with httpx.Client(timeout=120) as client:
            for body in part:
                r = client.post(
                    f"{url}/write",
                    params={"db": db, "precision": "ms"},
                    content=body,
                    headers=headers,
                )
                if r.status_code != 204:
                    errors.append(f"{r.status_code} {r.text[:200]}")

    threads = [
        threading.Thread(target=send, args=(bodies[i::connections],)) for i in range(connections)
    ]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        sys.exit(f"raw post failed: {errors[0]}")
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=Path, help="a checkout to compare the compute path with")
    ap.add_argument("--serial", action="store_true", help="also: ingest, then ship (old order)")
    ap.add_argument("--gzip", action="store_true", help="also: overlap, sending gzip bodies")
    ap.add_argument("--limit", type=int, help="only the first N files")
    ap.add_argument("--compute-only", action="store_true", help="stop after the compute path")
    ap.add_argument(
        "--writer-only",
        type=Path,
        metavar="JOURNAL",
        help="only raw plain against the writer alone, on the outbox of this journal",
    )
    ap.add_argument("--repeat", type=int, default=1, help="--writer-only: pairs to measure")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--home", help=argparse.SUPPRESS)
    ap.add_argument("--url", default="", help=argparse.SUPPRESS)
    ap.add_argument("--db", default="", help=argparse.SUPPRESS)
    ap.add_argument("--dump", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.home, args.url, args.db, args.limit, args.dump)))
        return

    sys.path.insert(0, str(ROOT / "tests"))
    from influxd import influxd_binary

    if args.writer_only:
        if not args.writer_only.is_file():
            sys.exit(f"no such journal: {args.writer_only}")
        if not influxd_binary():
            sys.exit("influxd not installed")
        writer_only(args.writer_only, max(1, args.repeat), args.limit)
        return
    files = corpus(args.limit)
    print(f"corpus: {len(files)} files", flush=True)
    dump = tempfile.mktemp(suffix=".pickle")
    home = tempfile.mkdtemp(prefix="bench-season-")
    ours = run_worker("compute", ROOT, home, limit=args.limit, dump=dump)
    show_compute("this checkout", ours)
    print(f"  its outbox: {home}/journal.sqlite (--writer-only takes it)", flush=True)
    if args.base:
        base = run_worker("compute", args.base, limit=args.limit)
        show_compute(f"base {args.base}", base)
        again = run_worker("compute", ROOT, limit=args.limit)  # a second run: load drifts
        show_compute("this checkout, again", again)
        ours = min(ours, again, key=lambda r: r["seconds"])
        speed = (ours["points"] / ours["seconds"]) / (base["points"] / base["seconds"])
        cpu = (ours["points"] / ours["cpu_s"]) / (base["points"] / base["cpu_s"])
        print(
            f"compute path: {speed:.2f}x the base's points/s (wall), {cpu:.2f}x per CPU second"
            f" (load {os.getloadavg()[0]:.1f}; the CPU ratio is the steadier on a busy machine)"
        )
    if args.compute_only:
        return
    if not influxd_binary():
        print("influxd not installed: no raw/season figures")
        return
    bodies = pickle.loads(Path(dump).read_bytes())
    os.unlink(dump)
    n_points = sum(b.count(b"\n") + 1 for b in bodies)
    raw = {}
    shapes = [
        ("plain", False, 1, SHARDS),
        ("gzip", True, 1, SHARDS),
        ("plain x2", False, 2, SHARDS),
    ]
    shapes.append(("plain, 1-week shards", False, 1, ""))  # the server's default: for scale
    for name, gz, conns, shards in shapes:
        raw[name] = raw_post(bodies, gz, conns, shards)
        secs, influx_cpu, own = raw[name]
        print(
            f"raw post {name:<9}{secs:8.2f} s {n_points / secs:>12,.0f} points/s;"
            f" CPU influxd {influx_cpu:.1f} s, client {own:.1f} s (load {os.getloadavg()[0]:.1f})",
            flush=True,
        )
    bound = min(r[0] for r in raw.values())
    runs = [("overlap", "", "season: ship while ingesting (plain text)")]
    if args.gzip:
        runs.append(("overlap", "1", "season: ship while ingesting (stored gzip as is)"))
    if args.serial:
        runs.append(("serial", "", "season: ingest, then ship (plain text)"))
    for mode, gz, label in runs:
        os.environ["BENCH_SEND_GZIP"] = gz
        with fresh_server() as server:
            influx_cpu = cpu_seconds(server.proc.pid)
            got = run_worker(mode, ROOT, url=server.url, db="season", limit=args.limit)
            influx_cpu = cpu_seconds(server.proc.pid) - influx_cpu
        print(
            f"{label}: {got['seconds']:.2f} s (stored after {got['stored_s']:.2f} s,"
            f" {got['shipped_while_storing']:,} points shipped by then),"
            f" {got['flush_points']:,} points shipped, {got['left']} batches left,"
            f" peak RSS {got['rss_mb']:.0f} MB, {got['connections']} connection(s)"
            f" (load {os.getloadavg()[0]:.1f})",
            flush=True,
        )
        for e in filter(None, got["errors"]):
            print(f"  error: {e}")
        print(f"  wall / raw post ({bound:.2f} s): {got['seconds'] / bound:.2f} (goal <= 1.25)")
        print(
            f"  CPU: ingest process {got['cpu_s']:.1f} s, influxd {influx_cpu:.1f} s (on a"
            f" shared machine the sum, not the larger, bounds the wall time)"
        )
    os.environ["BENCH_SEND_GZIP"] = ""
    season_conns = os.environ.get("BENCH_CONNECTIONS", "")
    for conns in ("1", "2"):
        os.environ["BENCH_CONNECTIONS"] = conns
        got, influx_cpu = writer_alone(Path(home) / "journal.sqlite", args.limit)
        show_writer(got, influx_cpu, n_points, raw, "InfluxWriter.flush of step 1's outbox")
    os.environ["BENCH_CONNECTIONS"] = season_conns


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def show_compute(label: str, r: dict) -> None:
    print(
        f"compute path, {label}: {r['seconds']:.2f} s, {r['points']:,} points,"
        f" {r['points'] / r['seconds']:,.0f} points/s ({r['cpu_s']:.1f} s CPU);"
        f" outbox {r['outbox_bytes'] / 1e6:.1f} MB"
        f" = {r['outbox_bytes'] / max(r['outbox_points'], 1):.0f} bytes a point;"
        f" peak RSS {r['rss_mb']:.0f} MB",
        flush=True,
    )


if __name__ == "__main__":
    main()
