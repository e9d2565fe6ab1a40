"""FIT decoding speed: the vectorised decoder vs fitparse vs the Garmin FIT SDK, same run.

Usage: ``.venv/bin/python benchmarks/fit_decode.py [--reps N] [--fitparse-reps N] [files...]``
(files relative to ../shared/fit). Records/s = ``record`` messages per second of wall time.

``decode()`` builds message frames lazily, so the fast decoder is timed two ways:

* **full**: decode, then build the frame of every message in the file (what fitparse and the
  Garmin SDK always do; the ratios against them use this number);
* **ingest**: decode, then build only the frames the ingest pipeline reads
  (:data:`INGEST_FRAMES`), the cost of ingesting a file in ``sensorhub``.

The fast decoder is timed as the best of ``--reps`` runs after ``--warmup`` untimed ones (the
first runs of a process pay for fresh memory pages; a sync service decodes file after file).
Goals (issue 3): ≥ 50× fitparse on every file, ≥ 1 M records/s on MultiSport-2019-11-24.fit;
the summary says which of the two timings meets each goal.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from drivers.fit.fast import decode_fast  # noqa: E402
from drivers.fit.fitparse_backend import decode_with_fitparse  # noqa: E402

FIT_DIR = ROOT.parent / "shared" / "fit"
FILES = [
    "GoldenCheetah__GoldenCheetah/MultiSport-2019-11-24.fit",
    "jimmykane__sports-lib/20181013_kona_ironman.fit",
    "sports-alliance__sports-lib/6914448270.fit",
    "jimmykane__sports-lib/garmin.fit",
]
GOAL_FILE = FILES[0]
GOAL_RECORDS_S = 1_000_000
GOAL_VS_FITPARSE = 50.0
#: Frames the ingest path reads (sensorhub.normalise and sensorhub.pipeline, plus lap/event).
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


def fast_full(path: Path) -> None:
    decode_fast(path).materialise()


def fast_ingest(path: Path) -> None:
    msgs = decode_fast(path)
    for name in INGEST_FRAMES:
        msgs.frame(name)


def _garmin(path: Path) -> int:
    from garmin_fit_sdk import Decoder, Stream

    msgs, _errors = Decoder(Stream.from_file(str(path))).read()
    return len(msgs.get("record_mesgs", []))


def _best(fn, path: Path, reps: int, warmup: int = 0) -> float:
    """Best wall time of ``reps`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn(path)
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn(path)
        best = min(best, time.perf_counter() - t0)
    return best


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", default=FILES)
    ap.add_argument("--reps", type=int, default=15, help="repetitions for the fast decoder (best)")
    ap.add_argument(
        "--warmup",
        type=int,
        default=3,
        help="untimed runs first (steady state of a service that ingests many files)",
    )
    ap.add_argument("--fitparse-reps", type=int, default=1)
    ap.add_argument("--garmin-reps", type=int, default=1)
    args = ap.parse_args()
    fast_full(FIT_DIR / args.files[0])  # warm up: profile compile, numpy tables
    head = (
        f"{'file':<44} {'records':>8} {'full rec/s':>12} {'ingest rec/s':>13} "
        f"{'fitparse rec/s':>15} {'garmin rec/s':>13} {'full/fitparse':>14} "
        f"{'full/garmin':>12}"
    )
    print(head)
    print("-" * len(head))
    results = {}
    for rel in args.files:
        path = FIT_DIR / rel
        n = len(decode_fast(path).frame("record"))
        t_full = _best(fast_full, path, args.reps, args.warmup)
        t_ing = _best(fast_ingest, path, args.reps, args.warmup)
        t_fp = _best(decode_with_fitparse, path, args.fitparse_reps)
        t_g = _best(_garmin, path, args.garmin_reps)
        results[rel] = (n / t_full, n / t_ing, t_fp / t_full)
        print(
            f"{rel[-44:]:<44} {n:>8} {n / t_full:>12,.0f} {n / t_ing:>13,.0f} "
            f"{n / t_fp:>15,.0f} {n / t_g:>13,.0f} {t_fp / t_full:>13.1f}x "
            f"{t_g / t_full:>11.1f}x",
            flush=True,
        )
    print()
    if GOAL_FILE in results:
        full, ingest, _ = results[GOAL_FILE]
        print(
            f"goal ≥ {GOAL_RECORDS_S:,} records/s on {Path(GOAL_FILE).name}: "
            f"full {full:,.0f} ({_verdict(full >= GOAL_RECORDS_S)}), "
            f"ingest {ingest:,.0f} ({_verdict(ingest >= GOAL_RECORDS_S)})"
        )
    worst = min(r[2] for r in results.values())
    print(
        f"goal ≥ {GOAL_VS_FITPARSE:.0f}x fitparse on every file (full decode): "
        f"worst {worst:.1f}x ({_verdict(worst >= GOAL_VS_FITPARSE)})"
    )


if __name__ == "__main__":
    main()
