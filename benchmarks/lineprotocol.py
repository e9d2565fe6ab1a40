"""Line protocol of real running frames: the hand-written ``frame_to_lines`` against pyarrow.

The pyarrow candidate formats floats with Arrow's cast to string (shortest round-trip, as
``repr``), fixes the two places where its text differs from ``repr`` (``150`` -> ``150.0``;
exponent forms outside 1e-4..1e10 fall back to ``repr``) and joins columns element-wise in
C++. Both must give identical lines; the ratio is hand-written time / pyarrow time (>1: pyarrow
wins). Needs ``pip install pyarrow`` (not a sensorhub dependency).

    .venv/bin/python benchmarks/lineprotocol.py [--reps 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import drivers.fit  # noqa: E402
from sensorhub.normalise import sessions  # noqa: E402
from sensorhub.store.lineprotocol import escape_key, frame_to_lines, series_key, to_ms  # noqa: E402

FILES = (
    ROOT / "fixtures" / "fit" / "ana" / "2026-09-08-0722.fit",
    ROOT.parent / "shared" / "fit" / "3schweinehunde__fit_parser" / "with_stryd.fit",
    ROOT.parent / "shared" / "fit" / "GoldenCheetah__GoldenCheetah" / "Fr955v19.28andStryd.fit",
)


def arrow_lines(measurement: str, frame: pd.DataFrame, tags: dict) -> list[str]:
    """The pyarrow candidate (same contract as ``frame_to_lines``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if frame.empty:
        return []
    values = np.array([pd.to_numeric(frame[c], errors="coerce").to_numpy(float) for c in frame])
    ok = np.isfinite(values)
    keep = ok.any(axis=0)
    values, ok = values[:, keep], ok[:, keep]
    cols = []
    for j, col in enumerate(frame.columns):
        if ok[j].any():
            text = _arrow_floats(values[j], ok[j])
            cols.append(pc.binary_join_element_wise(escape_key(col) + "=", text, ",", ""))
    fields = pc.binary_join_element_wise(*cols, "", null_handling="replace", null_replacement="")
    fields = pc.utf8_rtrim(fields, ",")
    stamps = pc.cast(pa.array(to_ms(frame.index)[keep]), pa.string())
    head = series_key(measurement, tags) + " "
    return pc.binary_join_element_wise(head, fields, " ", stamps, "").to_pylist()


def _arrow_floats(values: np.ndarray, ok: np.ndarray):
    import pyarrow as pa
    import pyarrow.compute as pc

    s = pc.cast(pa.array(values, mask=~ok), pa.string())
    a = np.abs(values)
    with np.errstate(invalid="ignore"):
        whole = ok & (values == np.floor(values)) & (a < 1e10)
        odd = ok & ~((a == 0) | ((a >= 1e-4) & (a < 1e10)))
    if whole.any():
        s = pc.if_else(pa.array(whole), pc.binary_join_element_wise(s, ".0", ""), s)
    if odd.any():
        fixed = pa.array([repr(v) for v in values[odd].tolist()], pa.string())
        s = pc.replace_with_mask(s, pa.array(odd), fixed)
    return s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    frames = [s.run for f in FILES if f.exists() for s in sessions(drivers.fit.decode(f))]
    n = sum(len(f) for f in frames)
    tags = {"athlete": "ana", "sport": "running"}
    for f in frames:
        assert arrow_lines("run", f, tags) == frame_to_lines("run", f, tags)
    best = {}
    for name, fn in (("hand-written", frame_to_lines), ("pyarrow", arrow_lines)):
        runs = []
        for _ in range(args.reps):
            t = time.perf_counter()
            for f in frames:
                fn("run", f, tags)
            runs.append(time.perf_counter() - t)
        best[name] = min(runs)
        print(f"{name:<13}{best[name]:8.3f} s {n / best[name]:>12,.0f} rows/s")
    print(f"identical lines; hand-written / pyarrow: {best['hand-written'] / best['pyarrow']:.2f}")


if __name__ == "__main__":
    main()
