"""Gait engine speed: one hour of two pods at 500 Hz (generated), on one core.

Prints the processing speed as × real time (goal ≥ 2000×) for the shank pair
(`analyse(left, "shank", right=right)`) and one sacral pod, plus the ratio against a
baseline measured in the same run: one zero-lag Butterworth pass (scipy sosfiltfilt) over
the same samples, the minimum work any filtering detector does.

    .venv/bin/python benchmarks/gait.py [--minutes 60] [--fs 500]
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

from sensorhub.gait import analyse  # noqa: E402


def _generator():
    spec = importlib.util.spec_from_file_location("gen", ROOT / "fixtures/imu/generate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--fs", type=float, default=500.0)
    args = ap.parse_args()
    gen = _generator()
    dur = 60.0 * args.minutes
    left, right, truth = gen.two_pods("shank", duration_s=dur, fs=args.fs)
    sac = gen.sacrum(truth, fs=args.fs, duration_s=dur)
    sos = butter(2, 20 / (args.fs / 2), output="sos")
    cols = ["acc_v_g", "acc_ap_g", "acc_ml_g"]

    def baseline():
        for f in (left, right):
            sosfiltfilt(sos, f[cols].to_numpy(), axis=0)

    t_base = _best(baseline)
    t_pair = _best(lambda: analyse(left, "shank", right=right))
    t_sac = _best(lambda: analyse(sac, "sacrum"))
    res = analyse(left, "shank", right=right)
    print(f"signal: {args.minutes:.0f} min, {args.fs:.0f} Hz, {len(left)} samples per pod")
    print(f"steps found (two shank pods): {res.summary['n_steps']} of {len(truth)}")
    print(f"baseline filtfilt, 2 pods x 3 axes: {t_base:.3f} s = {dur / t_base:,.0f}x real time")
    print(
        f"analyse, two shank pods:           {t_pair:.3f} s = {dur / t_pair:,.0f}x real time "
        f"({t_pair / t_base:.2f}x baseline)"
    )
    print(
        f"analyse, one sacral pod:           {t_sac:.3f} s = {dur / t_sac:,.0f}x real time "
        f"({t_sac / t_base:.2f}x baseline)"
    )
    print(f"goal >= 2000x real time (two pods): {'met' if dur / t_pair >= 2000 else 'NOT met'}")


if __name__ == "__main__":
    main()
