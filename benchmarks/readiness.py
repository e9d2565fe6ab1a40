"""Readiness analysis speed: × real time per test kind (generated recordings, one core).

For each kind, one leg's generated recording is analysed with ``analyse_leg`` and the speed
printed as seconds of recording per second of compute (× real time), plus the ratio against
a baseline measured in the same run on the same samples: one zero-lag Butterworth pass
(scipy sosfiltfilt) over the accelerations, the least work any filtering analysis does.

    .venv/bin/python benchmarks/readiness.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scipy.signal import butter, sosfiltfilt  # noqa: E402

from sensorhub.readiness import analyse_leg  # noqa: E402


def _generator():
    spec = importlib.util.spec_from_file_location("rgen", ROOT / "fixtures/readiness/generate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    gen = _generator()
    cases = {
        "hop": (gen.hops(n_hops=20, fs=500, seed=1)[0], "shank", 500),
        "heel-raise": (gen.heel_raises(full_reps=30, fs=200, seed=1)[0], "shank", 200),
        "balance": (gen.balance(duration_s=30, fs=200, seed=1)[0], "sacrum", 200),
    }
    print(
        f"{'kind':<11} {'fs Hz':>6} {'rec s':>6} {'analysis ms':>12} {'× real time':>12} "
        f"{'× baseline':>11}"
    )
    for kind, (frame, placement, fs) in cases.items():
        analyse_leg(kind, frame, placement)  # warm-up: imports, caches
        dur = float(frame.t_s.iloc[-1] - frame.t_s.iloc[0])
        acc = frame[[c for c in frame if c.startswith("acc_")]].to_numpy()
        sos = butter(2, 20 / (fs / 2), output="sos")
        base = _best(lambda acc=acc, sos=sos: sosfiltfilt(sos, acc, axis=0), args.repeat)
        run = _best(lambda f=frame, k=kind, p=placement: analyse_leg(k, f, p), args.repeat)
        print(
            f"{kind:<11} {fs:>6} {dur:>6.1f} {1000 * run:>12.2f} {dur / run:>12.0f} "
            f"{run / base:>11.1f}"
        )


if __name__ == "__main__":
    main()
