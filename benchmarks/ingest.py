"""Ingest path speed per stage on the largest running files of ../shared/fit.

Stages: decode (drivers.fit.decode plus building the frames the pipeline reads — frames are
built lazily, so without this their cost would move into normalise), normalise (sessions →
SI running frames), serialise (line protocol for `run`), write (HTTP POST to a real influxd on
loopback, when installed). The baseline measured in the same run is fitparse alone (decode
only): the ratio says how much faster our whole ingest path is than just parsing with fitparse.

    .venv/bin/python benchmarks/ingest.py [--files N] [--reps N] [--no-write]
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import drivers.fit  # noqa: E402
from drivers.fit.fitparse_backend import decode_with_fitparse  # noqa: E402
from sensorhub.normalise import sessions  # noqa: E402
from sensorhub.store.lineprotocol import frame_to_lines  # noqa: E402

SHARED = ROOT.parent / "shared" / "fit"


def largest_running(n: int) -> list[Path]:
    with open(SHARED / "MANIFEST.tsv", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    rows = [r for r in rows if "running" in r["sport"] and r["fitparse_status"] == "ok"]
    rows.sort(key=lambda r: -int(r["records"] or 0))
    return [SHARED / r["path"] for r in rows[:n]]


#: Frames the ingest path reads (sensorhub.normalise and sensorhub.pipeline).
INGEST_FRAMES = (
    "record",
    "session",
    "lap",
    "file_id",
    "device_info",
    "sport",
    "user_profile",
    "event",
)


def decode_for_ingest(path: Path) -> drivers.fit.FitMessages:
    msgs = drivers.fit.decode(path)
    for name in INGEST_FRAMES:
        msgs.frame(name)
    return msgs


def run_lines(ss: list) -> list[str]:
    return [ln for s in ss for ln in frame_to_lines("run", s.run, {"athlete": "b"})]


def timed(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t


def best(reps: int, fn, *args):
    """Result and the best time of ``reps`` calls."""
    runs = [timed(fn, *args) for _ in range(max(1, reps))]
    return runs[-1][0], min(t for _, t in runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=5)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument(
        "--reps",
        type=int,
        default=3,
        help="best of N for decode, normalise and serialise (write runs once)",
    )
    args = ap.parse_args()
    files = largest_running(args.files)
    run_lines(sessions(decode_for_ingest(files[0])))  # warm up: profile compile, imports
    server = None
    client = httpx.Client(timeout=60)  # one connection, as sensorhub.store.InfluxWriter keeps
    if not args.no_write:
        sys.path.insert(0, str(ROOT / "tests"))
        from influxd import InfluxServer, influxd_binary

        if influxd_binary():
            server = InfluxServer(Path(tempfile.mkdtemp(prefix="bench-influxd-")))
            server.start()
            httpx.post(f"{server.url}/query", params={"q": "CREATE DATABASE bench"})
    totals = dict.fromkeys(["fitparse", "decode", "normalise", "serialise", "write"], 0.0)
    n_records = 0
    try:
        for f in files:
            _, totals_fp = timed(decode_with_fitparse, f)
            totals["fitparse"] += totals_fp
            msgs, t = best(args.reps, decode_for_ingest, f)
            totals["decode"] += t
            ss, t = best(args.reps, sessions, msgs)
            totals["normalise"] += t
            lines, t = best(args.reps, run_lines, ss)
            totals["serialise"] += t
            n_records += len(msgs.frame("record"))
            if server:
                t0 = time.perf_counter()
                for i in range(0, len(lines), 5000):
                    chunk = "\n".join(lines[i : i + 5000]).encode()
                    r = client.post(
                        f"{server.url}/write",
                        params={"db": "bench", "precision": "ms"},
                        content=chunk,
                    )
                    r.raise_for_status()
                totals["write"] += time.perf_counter() - t0
            print(f"  {f.relative_to(SHARED)}: {len(msgs.frame('record'))} records", flush=True)
    finally:
        client.close()
        if server:
            server.stop()
    print(f"\n{len(files)} files, {n_records} records")
    print(f"{'stage':<12}{'seconds':>10}{'records/s':>14}")
    for stage, secs in totals.items():
        if secs:
            print(f"{stage:<12}{secs:>10.3f}{n_records / secs:>14,.0f}")
    ours = sum(v for k, v in totals.items() if k != "fitparse")
    print(f"{'ingest path':<12}{ours:>10.3f}{n_records / ours:>14,.0f}")
    print(f"\nwhole ingest path vs fitparse decode alone: {totals['fitparse'] / ours:.1f}x")
    stages = {k: v for k, v in totals.items() if k != "fitparse" and v}
    print(f"slowest stage: {max(stages, key=stages.get)}")
    season()


def season() -> None:
    """A season through the whole pipeline: the 78 demo files (2 athletes, 10 weeks) into a
    fresh journal (sessions, outbox, daily load, alerts), InfluxDB not configured."""
    from sensorhub.config import load_config
    from sensorhub.pipeline import Pipeline

    with tempfile.TemporaryDirectory() as home:
        cfg = load_config(ROOT / "fixtures" / "sensorhub.toml", home)
        pipe = Pipeline(cfg)
        t0 = time.perf_counter()
        report = pipe.ingest([ROOT / "fixtures" / "fit"])
        total = time.perf_counter() - t0
        n = sum(f.points for f in report.files)
    print(
        f"\nseason: {len(report.files)} files, {n} records through the whole pipeline in {total:.2f} s "
        f"({len(report.files) / total:.1f} files/s, {n / total:,.0f} records/s)"
    )
    # per-stage figures: benchmarks/season.py (the compute path stage by stage, and shipping)


def archive_rate() -> None:
    """Archive ingest next to plain files: the demo season's FIT files as plain files, as a
    Garmin-style zip of zips and as ``.fit.gz`` files, each into a fresh journal."""
    import gzip
    import io
    import zipfile

    from sensorhub.config import load_config
    from sensorhub.pipeline import Pipeline

    files = sorted((ROOT / "fixtures" / "fit").rglob("*.fit"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        inner = io.BytesIO()
        with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as z:
            for f in files:
                z.writestr(f.relative_to(ROOT / "fixtures").as_posix(), f.read_bytes())
        with zipfile.ZipFile(tmp / "export.zip", "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("DI_CONNECT/UploadedFiles_0-_Part1.zip", inner.getvalue())
        (tmp / "gz").mkdir()
        for f in files:
            (tmp / "gz" / (f.name + ".gz")).write_bytes(gzip.compress(f.read_bytes()))
        print(f"\narchives: {len(files)} demo FIT files, InfluxDB not configured")
        for label, inputs in (
            ("plain files", [ROOT / "fixtures" / "fit"]),
            ("zip of zips", [tmp / "export.zip"]),
            (".fit.gz", [tmp / "gz"]),
        ):
            cfg = load_config(ROOT / "fixtures" / "sensorhub.toml", tmp / label.replace(" ", "_"))
            t0 = time.perf_counter()
            report = Pipeline(cfg).ingest(inputs)
            secs = time.perf_counter() - t0
            n = sum(f.status == "ingested" for f in report.files)
            print(f"  {label:<12}{n:>4} ingested in {secs:6.2f} s ({n / secs:5.1f} files/s)")


if __name__ == "__main__":
    main()
    archive_rate()
