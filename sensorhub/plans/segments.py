"""Split a session into running and walking segments, to check a walk–run prescription.

Classification, per second (after resampling the records to 1 Hz):

* **cadence decides when it is there**: running if the smoothed cadence is ≥ 140 steps/min.
  Walking cadence is typically 100–130 steps/min and even a slow jog is above ~150, so the
  gap is wide; cadence also works on a treadmill, where GPS speed is absent or wrong.
* **speed otherwise**: running if the smoothed speed is ≥ 2.2 m/s (7.9 km/h, 7:35 min/km).
  Brisk walking rarely exceeds ~1.9 m/s; a very slow jog below 2.2 m/s is counted as
  walking, which is why cadence wins when both exist.
* **smoothing**: a centred 5-s rolling median of each signal before thresholding, so a
  single noisy sample (GPS jump, a missed cadence beat) does not split a segment.
* **minimum segment length**: a run or walk segment shorter than 20 s is merged into its
  neighbours (the shortest first), e.g. a 10-s stop at a crossing inside a run interval.
* **pauses**: a gap of more than 10 s between records (timer paused, signal lost) is neither
  running nor walking. Records closer than that are held until the next one (smart
  recording writes every few seconds).

Thresholds are keyword arguments so a clinician can adapt them (e.g. to a very slow runner).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

RUN_CADENCE_SPM = 140.0
RUN_SPEED_MPS = 2.2
SMOOTH_S = 5
MIN_SEGMENT_S = 20
MAX_GAP_S = 10.0

RUN, WALK, PAUSE = 1, 0, -1
SIGNALS = ("cadence_spm", "speed_mps")  # the columns a session is segmented on
_TICKS_PER_S = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}  # DatetimeIndex units


def _seconds(run: pd.DataFrame) -> np.ndarray:
    """Sample times in seconds from the first sample: the UTC index or a ``t_s`` column."""
    if isinstance(run.index, pd.DatetimeIndex):
        index = run.index
        ticks = index.asi8 - index.asi8[0]
        per_s = _TICKS_PER_S.get(index.unit)
        if per_s is not None and not index.hasnans and not (ticks % per_s).any():
            # whole seconds (FIT): the exact same floats as pandas' total_seconds, ~20x cheaper
            return (ticks // per_s).astype(float)
        t = (index - index[0]).total_seconds()
        return np.asarray(t, dtype=float)
    if "t_s" in run:
        t = run["t_s"].to_numpy(dtype=float)
        return t - t[0]
    raise ValueError("run_walk_segments: needs a DatetimeIndex or a t_s column")


def _signals(run: pd.DataFrame) -> dict[str, Any]:
    """The columns of :data:`SIGNALS` that ``run`` has (name -> Series)."""
    return {c: run[c] for c in SIGNALS if c in run}


def _has_values(values: Any) -> bool:
    """A column (numpy array or Series) with at least one value: ``notna`` of pandas, in
    numpy for a float64 array or Series (~10x cheaper)."""
    if values is None:
        return False
    if isinstance(values, pd.Series) and values.dtype == np.float64:
        values = values.to_numpy()
    if isinstance(values, np.ndarray) and values.dtype == np.float64:
        return not np.isnan(values).all()
    return bool(values.notna().any())


def _per_second(t: np.ndarray, columns: list[Any], max_gap_s: float) -> list[np.ndarray]:
    """Sample-and-hold each of ``columns`` (values at times ``t``, s; None: no column) on a
    1-s grid; NaN inside gaps longer than ``max_gap_s`` (and throughout for None)."""
    grid = np.arange(0.0, np.floor(t[-1]) + 1.0)
    idx = np.searchsorted(t, grid, side="right") - 1
    # a sample lasts until the next one, or 1 s when the next is more than max_gap_s away
    nxt = np.append(t[1:], np.inf)
    end = np.where(nxt - t <= max_gap_s, nxt, t + 1.0)
    held = grid < end[idx]
    out = []
    for values in columns:
        if values is None:
            out.append(np.full(len(grid), np.nan))
            continue
        if not isinstance(values, np.ndarray) or values.dtype != np.float64:
            values = values.to_numpy(dtype=float)
        out.append(np.where(held, values[idx], np.nan))
    return out


_CHUNK = 1 << 13  # seconds smoothed at once: the sorting network's arrays stay in cache
_MAX_WINDOW = 15  # wider windows go to pandas (the network costs window² operations)


def _rolling_median(x: np.ndarray, window: int) -> np.ndarray:
    """``pd.Series(x).rolling(window, min_periods=1, center=True).median().to_numpy()``: the
    median of the values of each centred window that are there (pandas counts ±inf as
    missing too; NaN where none is), value for value, in numpy at ~0.4x pandas' CPU (the
    season corpus' 972k seconds of cadence and speed: 55 ms against 130 ms).

    Windows without a missing value (nearly all) are sorted at once by an odd-even
    transposition network of elementwise min/max; the few others (at both ends, beside
    gaps) are sorted row by row with the missing values last and read at their count.
    """
    n = len(x)
    if not (isinstance(window, (int, np.integer)) and 1 <= window <= _MAX_WINDOW) or n == 0:
        return pd.Series(x).rolling(window, min_periods=1, center=True).median().to_numpy()
    window = int(window)
    missing = ~np.isfinite(x)
    if missing.all():
        return np.full(n, np.nan)
    after = (window - 1) // 2  # pandas' centred window: i - before .. i + after
    before = window - 1 - after
    padded = np.concatenate([np.full(before, np.nan), x, np.full(after, np.nan)])
    padded[before : before + n][missing] = np.nan
    gaps = np.concatenate([[0], np.cumsum(np.isnan(padded), dtype=np.int32)])
    n_missing = gaps[window:] - gaps[:-window]  # missing values in each window
    partial = np.flatnonzero(n_missing)
    if len(partial):
        rows = np.sort(np.lib.stride_tricks.sliding_window_view(padded, window)[partial], axis=1)
        count = window - n_missing[partial]
        half, at = count // 2, np.arange(len(partial))
        upper = rows[at, np.minimum(half, window - 1)]
        lower = rows[at, np.maximum(half - 1, 0)]
        partial_median = np.where(count % 2 == 1, upper, (lower + upper) / 2)
    out = np.empty(n)
    for lo in range(0, n, _CHUNK):
        hi = min(n, lo + _CHUNK)
        cols = [padded[lo + j : hi + j] for j in range(window)]
        for p in range(window):
            for j in range(p % 2, window - 1, 2):
                a, b = cols[j], cols[j + 1]
                cols[j], cols[j + 1] = np.minimum(a, b), np.maximum(a, b)
        mid = window // 2
        out[lo:hi] = cols[mid] if window % 2 else (cols[mid - 1] + cols[mid]) / 2
    if len(partial):
        out[partial] = partial_median
    return out


def _runs(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run-length encoding: label, start and length arrays, one entry per segment."""
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    lengths = np.diff(np.r_[starts, len(labels)])
    return labels[starts], starts, lengths


def _merge_short(
    labels: np.ndarray, starts: np.ndarray, lengths: np.ndarray, min_s: int
) -> list[tuple[int, int, int]]:
    """Segments ``(label, start, length)`` after relabelling each run/walk segment shorter
    than ``min_s`` as its run/walk neighbours, shortest first, the earliest of equal lengths
    (so a short stop inside a run joins the run, not the other way round).

    Run and walk alternate between pauses, so a short segment always takes the other
    label and becomes one segment with its run/walk neighbours. A heap of the short ones
    and a linked list of segments do this in O(k log k) for k segments, where relabelling
    the seconds and encoding them again after each merge cost O(k x seconds). A short
    segment between pauses (or the ends) keeps its label: pauses never change.
    """
    lab, start, length = labels.tolist(), starts.tolist(), lengths.tolist()
    k = len(lab)
    prev = list(range(-1, k - 1))
    nxt = [*range(1, k), -1]
    alive = [True] * k
    heap = [(length[i], start[i], i) for i in range(k) if lab[i] != PAUSE and length[i] < min_s]
    heapq.heapify(heap)
    while heap:
        n, _, i = heapq.heappop(heap)
        if not alive[i] or length[i] != n:
            continue  # merged since it was pushed (a merged segment only grows)
        left, right = prev[i], nxt[i]
        take_left = left >= 0 and lab[left] != PAUSE
        take_right = right >= 0 and lab[right] != PAUSE
        if not (take_left or take_right):
            continue  # between pauses: stays short for good
        parts = [j for j, take in ((left, take_left), (i, True), (right, take_right)) if take]
        first = parts[0]  # the merged segment keeps the leftmost one's slot and start
        lab[first] = lab[left] if take_left else lab[right]
        length[first] = sum(length[j] for j in parts)
        for j in parts[1:]:
            alive[j] = False
        nxt[first] = nxt[parts[-1]]
        if nxt[first] >= 0:
            prev[nxt[first]] = first
        if length[first] < min_s:
            heapq.heappush(heap, (length[first], start[first], first))
    out = []
    i = 0
    while i >= 0:
        out.append((lab[i], start[i], length[i]))
        i = nxt[i]
    return out


def run_walk_segments(
    run: pd.DataFrame,
    *,
    cadence_spm: float = RUN_CADENCE_SPM,
    speed_mps: float = RUN_SPEED_MPS,
    smooth_s: int = SMOOTH_S,
    min_segment_s: int = MIN_SEGMENT_S,
    max_gap_s: float = MAX_GAP_S,
    columns: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Running vs walking time of one session from its records (``speed_mps``, ``cadence_spm``).

    Returns ``run_time_s`` and ``walk_time_s`` (s, pauses excluded), ``run_intervals`` (number
    of running segments), ``longest_run_s`` (s), ``intervals`` (list of
    ``{"kind": "run"|"walk", "start_s", "duration_s"}``, start relative to the first record)
    and ``method`` (``"cadence"``, ``"speed"`` or ``"cadence+speed"``: which signal decided).
    See the module docstring for the thresholds. Raises ``ValueError`` without either column.

    ``columns``: ``run``'s ``cadence_spm``/``speed_mps`` columns that a caller has read
    already (name -> numpy array or Series, each one that ``run`` has), so that they are
    not read again (``run[c]`` costs ~50 us, a good part of a short session's segmentation).
    """
    cols = _signals(run) if columns is None else columns
    has_cad = _has_values(cols.get("cadence_spm"))
    has_speed = _has_values(cols.get("speed_mps"))
    if not (has_cad or has_speed):
        raise ValueError("run_walk_segments: needs a speed_mps or cadence_spm column with values")
    empty = {"run_time_s": 0.0, "walk_time_s": 0.0, "run_intervals": 0, "longest_run_s": 0.0}
    if len(run) < 2:
        return {**empty, "intervals": [], "method": None}
    if not isinstance(run.index, pd.DatetimeIndex):
        run = run.sort_values("t_s")
        cols = _signals(run)
    elif not run.index.is_monotonic_increasing:  # sorted already: sort_index keeps the order
        run = run.sort_index()
        cols = _signals(run)
    t = _seconds(run)
    cad, spd = _per_second(t, [cols.get(c) for c in SIGNALS], max_gap_s)
    present = ~(np.isnan(cad) & np.isnan(spd))
    cad_s = _rolling_median(cad, smooth_s)
    spd_s = _rolling_median(spd, smooth_s)
    use_cad = ~np.isnan(cad_s)
    running = np.where(use_cad, cad_s >= cadence_spm, np.nan_to_num(spd_s) >= speed_mps)
    labels = np.where(present, np.where(running, RUN, WALK), PAUSE).astype(int)
    segs = [s for s in _merge_short(*_runs(labels), min_segment_s) if s[0] != PAUSE]
    runs = [n for lab, _, n in segs if lab == RUN]
    decided = {"cadence": use_cad[present].any(), "speed": (~use_cad[present]).any()}
    return {
        "run_time_s": float(sum(runs)),
        "walk_time_s": float(sum(n for lab, _, n in segs if lab == WALK)),
        "run_intervals": len(runs),
        "longest_run_s": float(max(runs, default=0)),
        "intervals": [
            {"kind": "run" if lab == RUN else "walk", "start_s": float(s), "duration_s": float(n)}
            for lab, s, n in segs
        ],
        "method": "+".join(m for m, used in decided.items() if used),
    }
