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

from typing import Any

import numpy as np
import pandas as pd

RUN_CADENCE_SPM = 140.0
RUN_SPEED_MPS = 2.2
SMOOTH_S = 5
MIN_SEGMENT_S = 20
MAX_GAP_S = 10.0

RUN, WALK, PAUSE = 1, 0, -1


def _seconds(run: pd.DataFrame) -> np.ndarray:
    """Sample times in seconds from the first sample: the UTC index or a ``t_s`` column."""
    if isinstance(run.index, pd.DatetimeIndex):
        t = (run.index - run.index[0]).total_seconds()
        return np.asarray(t, dtype=float)
    if "t_s" in run:
        t = run["t_s"].to_numpy(dtype=float)
        return t - t[0]
    raise ValueError("run_walk_segments: needs a DatetimeIndex or a t_s column")


def _per_second(run: pd.DataFrame, t: np.ndarray, col: str, max_gap_s: float) -> np.ndarray:
    """Sample-and-hold ``col`` on a 1-s grid; NaN inside gaps longer than ``max_gap_s``."""
    grid = np.arange(0.0, np.floor(t[-1]) + 1.0)
    idx = np.searchsorted(t, grid, side="right") - 1
    vals = run[col].to_numpy(dtype=float)[idx] if col in run else np.full(len(grid), np.nan)
    # a sample lasts until the next one, or 1 s when the next is more than max_gap_s away
    nxt = np.append(t[1:], np.inf)
    end = np.where(nxt - t <= max_gap_s, nxt, t + 1.0)
    return np.where(grid < end[idx], vals, np.nan)


def _runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """Run-length encoding: (label, start, length) per segment."""
    edges = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate([[0], edges])
    lengths = np.diff(np.concatenate([starts, [len(labels)]]))
    return [(int(labels[s]), int(s), int(n)) for s, n in zip(starts, lengths, strict=True)]


def _merge_short(labels: np.ndarray, min_s: int) -> np.ndarray:
    """Relabel run/walk segments shorter than ``min_s`` as their longer run/walk neighbour,
    shortest first (so a short stop inside a run joins the run, not the other way round)."""
    labels = labels.copy()
    while True:
        segs = _runs(labels)
        order = sorted((n, i) for i, (lab, _, n) in enumerate(segs) if lab != PAUSE and n < min_s)
        for _, i in order:
            nbrs = [segs[j] for j in (i - 1, i + 1) if 0 <= j < len(segs) and segs[j][0] != PAUSE]
            if nbrs:
                _, start, n = segs[i]
                labels[start : start + n] = max(nbrs, key=lambda seg: seg[2])[0]
                break
        else:
            return labels


def run_walk_segments(
    run: pd.DataFrame,
    *,
    cadence_spm: float = RUN_CADENCE_SPM,
    speed_mps: float = RUN_SPEED_MPS,
    smooth_s: int = SMOOTH_S,
    min_segment_s: int = MIN_SEGMENT_S,
    max_gap_s: float = MAX_GAP_S,
) -> dict[str, Any]:
    """Running vs walking time of one session from its records (``speed_mps``, ``cadence_spm``).

    Returns ``run_time_s`` and ``walk_time_s`` (s, pauses excluded), ``run_intervals`` (number
    of running segments), ``longest_run_s`` (s), ``intervals`` (list of
    ``{"kind": "run"|"walk", "start_s", "duration_s"}``, start relative to the first record)
    and ``method`` (``"cadence"``, ``"speed"`` or ``"cadence+speed"``: which signal decided).
    See the module docstring for the thresholds. Raises ``ValueError`` without either column.
    """
    has_cad = "cadence_spm" in run and run["cadence_spm"].notna().any()
    has_speed = "speed_mps" in run and run["speed_mps"].notna().any()
    if not (has_cad or has_speed):
        raise ValueError("run_walk_segments: needs a speed_mps or cadence_spm column with values")
    empty = {"run_time_s": 0.0, "walk_time_s": 0.0, "run_intervals": 0, "longest_run_s": 0.0}
    if len(run) < 2:
        return {**empty, "intervals": [], "method": None}
    run = run.sort_index() if isinstance(run.index, pd.DatetimeIndex) else run.sort_values("t_s")
    t = _seconds(run)
    cad = _per_second(run, t, "cadence_spm", max_gap_s)
    spd = _per_second(run, t, "speed_mps", max_gap_s)
    present = ~(np.isnan(cad) & np.isnan(spd))
    smooth = {"min_periods": 1, "center": True}
    cad_s = pd.Series(cad).rolling(smooth_s, **smooth).median().to_numpy()
    spd_s = pd.Series(spd).rolling(smooth_s, **smooth).median().to_numpy()
    use_cad = ~np.isnan(cad_s)
    running = np.where(use_cad, cad_s >= cadence_spm, np.nan_to_num(spd_s) >= speed_mps)
    labels = np.where(present, np.where(running, RUN, WALK), PAUSE).astype(int)
    labels = _merge_short(labels, min_segment_s)
    segs = [s for s in _runs(labels) if s[0] != PAUSE]
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
