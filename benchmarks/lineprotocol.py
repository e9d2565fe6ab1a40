"""Line protocol of real running frames: ``frame_to_lines`` (pyarrow) against the hand-written one.

``sensorhub.store.lineprotocol.frame_to_lines`` builds each column's ``key=value`` texts as an
Arrow string array and joins them row by row in C++; the candidate kept here is the
hand-written version it replaced (each distinct value formatted once, rows of the same field
pattern joined in Python). Both must give identical lines on every run frame of the corpus of
benchmarks/season.py (../shared/fit plus fixtures/fit); the ratio is hand-written time /
pyarrow time (> 1: pyarrow wins).

    .venv/bin/python benchmarks/lineprotocol.py [--reps 3] [--limit N]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from season import NOW, corpus  # noqa: E402

import drivers.fit  # noqa: E402
from sensorhub.normalise import sessions  # noqa: E402
from sensorhub.store.lineprotocol import (  # noqa: E402
    _float_columns,
    escape_key,
    frame_to_lines,
    series_key,
    to_ms,
)


def handwritten_lines(measurement: str, frame: pd.DataFrame, tags: Mapping[str, str]) -> list[str]:
    """The hand-written line protocol (sensorhub before pyarrow): each distinct value of a
    column is formatted once, and rows that have the same fields are joined in Python."""
    if frame.empty:
        return []
    values = _float_columns(frame)
    n = values.shape[1]
    ok = np.isfinite(values)
    texts = [
        _hand_texts(escape_key(col) + "=", values[j], ok[j]) for j, col in enumerate(frame.columns)
    ]
    stamps = np.array(list(map(" %d".__mod__, to_ms(frame.index).tolist())), dtype=object)
    head = series_key(measurement, tags) + " "
    out = np.empty(n, dtype=object)
    keep = np.zeros(n, dtype=bool)
    for cols, rows in _hand_patterns(ok):
        if not cols:
            continue
        fields = map(",".join, zip(*[texts[j][rows].tolist() for j in cols], strict=True))
        out[rows] = list(map(str.__add__, map(head.__add__, fields), stamps[rows].tolist()))
        keep[rows] = True
    return out[keep].tolist()


def _hand_texts(prefix: str, values: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """``prefix + repr(value)`` where ``ok`` (None elsewhere).

    A column that repeats values (heart rate, cadence...) has each distinct value formatted
    once; one that hardly repeats (distance, coordinates) is formatted directly, unsorted."""
    out = np.empty(len(values), dtype=object)
    good = values[ok]
    if len(good) == 0:
        return out
    if len(good) > 4 * _SAMPLE and len(np.unique(good[:: len(good) // _SAMPLE])) > _SAMPLE // 2:
        out[ok] = np.array(list(map(prefix.__add__, map(repr, good.tolist()))), dtype=object)
        return out
    bits, inv = np.unique(good.view(np.int64), return_inverse=True)  # bits: -0.0 stays apart
    floats = bits.view(np.float64).tolist()
    out[ok] = np.array(list(map(prefix.__add__, map(repr, floats))), dtype=object)[inv.ravel()]
    return out


_SAMPLE = 256  # values looked at to decide whether a column repeats


def _hand_patterns(ok: np.ndarray) -> list[tuple[list[int], np.ndarray]]:
    """Rows grouped by which fields they have: ``(field indices, row indices)``, rows ascending."""
    n = ok.shape[1]
    packed = np.packbits(ok, axis=0, bitorder="little")  # (ceil(k/8), n)
    if packed.shape[0] <= 8:  # up to 64 fields: one integer key per row
        keys = np.zeros((8, n), np.uint8)
        keys[: packed.shape[0]] = packed
        inv = np.unique(np.ascontiguousarray(keys.T).view(np.uint64).ravel(), return_inverse=True)[
            1
        ]
    else:
        inv = np.unique(packed.T, axis=0, return_inverse=True)[1]
    inv = inv.ravel()
    order = np.argsort(inv, kind="stable")
    bounds = np.cumsum(np.bincount(inv))
    out = []
    for p in range(len(bounds)):
        rows = order[bounds[p - 1] if p else 0 : bounds[p]]
        cols = np.flatnonzero(ok[:, rows[0]]).tolist()
        out.append((cols, rows))
    return out


def run_frames(limit: int | None) -> list[pd.DataFrame]:
    """The normalised run frames of the corpus (files that do not decode are skipped)."""
    out = []
    for f in corpus(limit):
        try:
            msgs = drivers.fit.decode(f.read_bytes())
        except drivers.fit.FitError:
            continue
        out += [s.run for s in sessions(msgs, now=pd.Timestamp(NOW))]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--limit", type=int, help="only the first N files")
    args = ap.parse_args()
    frames = run_frames(args.limit)
    n = sum(len(f) for f in frames)
    tags = {"athlete": "ana", "sport": "running", "source": "fit"}
    for f in frames:
        assert handwritten_lines("run", f, tags) == frame_to_lines("run", f, tags)
    best = {}
    for name, fn in (("hand-written", handwritten_lines), ("pyarrow", frame_to_lines)):
        runs = []
        for _ in range(args.reps):
            t = time.process_time()
            for f in frames:
                fn("run", f, tags)
            runs.append(time.process_time() - t)
        best[name] = min(runs)
        print(f"{name:<13}{best[name]:8.3f} s CPU {n / best[name]:>12,.0f} rows/s")
    ratio = best["hand-written"] / best["pyarrow"]
    print(f"{len(frames)} frames, {n:,} rows, identical lines; hand-written / pyarrow: {ratio:.2f}")


if __name__ == "__main__":
    main()
