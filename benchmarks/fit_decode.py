"""FIT decoding speed: the vectorised decoder vs fitparse vs the Garmin FIT SDK, same run.

Usage: ``.venv/bin/python benchmarks/fit_decode.py [--reps N] [--fitparse-reps N] [files...]``
(files relative to ../shared/fit). Prints records/s for each decoder and the ratio vs fitparse.
Goals (issue 3): ≥ 50× fitparse on every file, ≥ 1 M records/s on MultiSport-2019-11-24.fit.
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


def _garmin(path: Path) -> int:
    from garmin_fit_sdk import Decoder, Stream

    msgs, _errors = Decoder(Stream.from_file(str(path))).read()
    return len(msgs.get("record_mesgs", []))


def _best(fn, path: Path, reps: int) -> float:
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn(path)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("files", nargs="*", default=FILES)
    ap.add_argument("--reps", type=int, default=7, help="repetitions for the fast decoder")
    ap.add_argument("--fitparse-reps", type=int, default=1)
    ap.add_argument("--garmin-reps", type=int, default=1)
    args = ap.parse_args()
    decode_fast(FIT_DIR / args.files[0])  # warm up: profile compile, numpy tables
    head = (f"{'file':<52} {'records':>8} {'fast rec/s':>12} {'fitparse rec/s':>15} "
            f"{'garmin rec/s':>13} {'fast/fitparse':>14} {'fast/garmin':>12}")
    print(head)
    print("-" * len(head))
    for rel in args.files:
        path = FIT_DIR / rel
        n = len(decode_fast(path).frame("record"))
        t_fast = _best(decode_fast, path, args.reps)
        t_fp = _best(decode_with_fitparse, path, args.fitparse_reps)
        t_g = _best(_garmin, path, args.garmin_reps)
        print(f"{rel[-52:]:<52} {n:>8} {n / t_fast:>12,.0f} {n / t_fp:>15,.0f} "
              f"{n / t_g:>13,.0f} {t_fp / t_fast:>13.1f}x {t_g / t_fast:>11.1f}x", flush=True)


if __name__ == "__main__":
    main()
