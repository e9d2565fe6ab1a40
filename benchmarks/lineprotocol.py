"""Line protocol of real running frames: ``frame_to_lines`` (one take) against the column join.

``sensorhub.store.lineprotocol.frame_to_lines`` formats a frame's values in one Arrow cast and
gathers every line's texts with one ``take``; the candidate kept here is the version it
replaced (each column's ``key=value`` texts as an Arrow string array, with nulls, and the
columns joined row by row by ``binary_join_element_wise``). Both must give identical lines on
every run frame of the corpus of benchmarks/season.py (../shared/fit plus fixtures/fit); the
ratio is column-join CPU time / take CPU time (> 1: the take wins). Each frame is timed with
both, one after the other, and the least of ``--reps`` runs is kept per frame (the machine is
shared).

    .venv/bin/python benchmarks/lineprotocol.py [--reps 5] [--limit N]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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


def columnjoin_lines(measurement: str, frame: pd.DataFrame, tags: Mapping[str, str]) -> list[str]:
    """The line protocol before the one-take version: each column becomes one Arrow string
    array of ``key=value`` texts (null where missing) and Arrow joins them row by row."""
    if frame.empty:
        return []
    values = _float_columns(frame)
    ok = np.isfinite(values)
    keep = ok.any(axis=0)
    if not keep.any():
        return []
    every = bool(keep.all())
    if not every:
        values, ok = values[:, keep], ok[:, keep]
    texts = [
        _field_texts(escape_key(col) + "=", values[j], ok[j])
        for j, col in enumerate(frame.columns)
        if ok[j].any()
    ]
    fields = pc.binary_join_element_wise(*texts, ",", null_handling="skip")
    ms = to_ms(frame.index)
    stamps = pc.cast(pa.array(ms if every else ms[keep]), pa.string())
    head = series_key(measurement, tags)
    return pc.binary_join_element_wise(head, fields, stamps, " ").to_pylist()


def _field_texts(prefix: str, values: np.ndarray, ok: np.ndarray) -> pa.StringArray:
    """``prefix + repr(value)`` where ``ok``, null elsewhere: a column that repeats values has
    each distinct value formatted once (``repr``), one that hardly repeats goes through Arrow's
    cast (:func:`_arrow_reprs`)."""
    every = bool(ok.all())
    good = values if every else values[ok]
    mask = None if every else ~ok
    if len(good) > 4 * _SAMPLE and len(np.unique(good[:: len(good) // _SAMPLE])) > _SAMPLE // 2:
        return pc.binary_join_element_wise(prefix, _arrow_reprs(values, ok, mask), "")
    inv, bits = pd.factorize(good.view(np.int64))  # bit patterns: -0.0 stays apart
    texts = pa.array([prefix + repr(f) for f in bits.view(np.float64).tolist()], pa.string())
    if every:
        return texts.take(pa.array(inv))
    idx = np.zeros(len(values), np.int64)
    idx[ok] = inv
    return texts.take(pa.array(idx, mask=mask))


_SAMPLE = 256


def _arrow_reprs(values: np.ndarray, ok: np.ndarray, mask: np.ndarray | None) -> pa.StringArray:
    """``repr`` of the ``ok`` values through Arrow's cast, ``.0`` added to whole numbers and
    ``repr`` itself outside 1e-4..1e10 (null elsewhere)."""
    s = pc.cast(pa.array(values, mask=mask), pa.string())
    a = np.abs(values)
    with np.errstate(invalid="ignore"):
        whole = ok & (values == np.floor(values)) & (a < 1e10)
        odd = ok & ~((a >= 1e-4) & (a < 1e10)) & (values != 0)
    if whole.any():
        s = pc.if_else(pa.array(whole), pc.binary_join_element_wise(s, ".0", ""), s)
    if odd.any():
        fixed = pa.array([repr(v) for v in values[odd].tolist()], pa.string())
        s = pc.replace_with_mask(s, pa.array(odd), fixed)
    return s


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
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--limit", type=int, help="only the first N files")
    args = ap.parse_args()
    frames = run_frames(args.limit)
    n = sum(len(f) for f in frames)
    tags = {"athlete": "ana", "sport": "running", "source": "fit"}
    for f in frames:
        assert columnjoin_lines("run", f, tags) == frame_to_lines("run", f, tags)
    fns = {"column join": columnjoin_lines, "one take": frame_to_lines}
    best = {name: [float("inf")] * len(frames) for name in fns}
    for _ in range(args.reps):
        for i, f in enumerate(frames):
            for name, fn in fns.items():
                t = time.process_time()
                fn("run", f, tags)
                best[name][i] = min(best[name][i], time.process_time() - t)
    cpu = {name: sum(times) for name, times in best.items()}
    for name, s in cpu.items():
        print(f"{name:<12}{s:8.3f} s CPU {n / s:>12,.0f} rows/s")
    ratio = cpu["column join"] / cpu["one take"]
    print(f"{len(frames)} frames, {n:,} rows, identical lines; column join / one take: {ratio:.2f}")


if __name__ == "__main__":
    main()
