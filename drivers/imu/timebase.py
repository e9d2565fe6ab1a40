"""Time order and start time of an IMU recording.

Rules for sample times (``t`` in seconds, one per data row; rows count from 1 after the header):

* rows without a time are dropped (warning); fewer than :data:`MIN_SAMPLES` left: error;
* **shuffled rows** (more than 2 and more than :data:`SHUFFLED_FRAC` of the steps from one
  row to the next go back in time: a file written out of order, e.g. merged from buffers) are
  sorted, with the warning "rows were out of time order: sorted";
* in an otherwise **ordered** file, a step back by more than :data:`MAX_BACK_SAMPLES` sample
  periods is an error ("time goes back by 30.0 s at row 1234: clock reset?"): sorting would
  interleave two stretches of running. Smaller steps back (late rows) are sorted, with the
  warning;
* **duplicated times** (after sorting): up to :data:`MAX_DUP_FRAC` of the rows are dropped,
  keeping the first row of each time (warning); more is an error, as the clock is not usable.

Start time: the file's own absolute time wins; else ``start_utc`` given by the caller; else the
file's modification time, taken as the **end** of the recording (a logger writes its file until
it stops), with a warning that says so and asks for ``--start``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .recording import ImuFormatError

MIN_SAMPLES = 2
SHUFFLED_FRAC = 0.01
MAX_BACK_SAMPLES = 5
MAX_DUP_FRAC = 0.01


def order_rows(t: np.ndarray, warnings: list[str]) -> np.ndarray:
    """Positions of the rows to keep, in time order (rules in the module docstring)."""
    t = np.asarray(t, float)
    pos = np.flatnonzero(np.isfinite(t))
    if pos.size < MIN_SAMPLES:
        raise ImuFormatError(
            "no samples" if t.size == 0 else f"only {pos.size} sample(s) with a time"
        )
    if pos.size < t.size:
        warnings.append(f"{t.size - pos.size} rows without a time: dropped")
    tt = t[pos]
    dt = np.diff(tt)
    back = np.flatnonzero(dt < 0)
    if back.size:
        if back.size <= max(2, SHUFFLED_FRAC * dt.size):
            _refuse_reset(tt, dt, back, pos)
        order = np.argsort(tt, kind="stable")
        pos, tt = pos[order], tt[order]
        warnings.append(f"rows were out of time order: sorted ({back.size} steps back)")
    dup = np.flatnonzero(np.diff(tt) == 0) + 1
    if dup.size:
        if dup.size > MAX_DUP_FRAC * tt.size:
            raise ImuFormatError(
                f"{dup.size} rows ({dup.size / tt.size:.1%}) repeat an earlier time stamp "
                f"(first at row {pos[dup[0]] + 1}): the clock is not usable"
            )
        keep = np.ones(tt.size, bool)
        keep[dup] = False
        pos = pos[keep]
        warnings.append(f"{dup.size} rows repeated an earlier time stamp: dropped")
    if pos.size < MIN_SAMPLES:
        raise ImuFormatError(f"only {pos.size} sample(s) with distinct times")
    return pos


def _refuse_reset(tt: np.ndarray, dt: np.ndarray, back: np.ndarray, pos: np.ndarray) -> None:
    steps = np.diff(np.unique(tt))
    period = float(np.median(steps)) if steps.size else 0.0
    worst = int(back[np.argmin(dt[back])])
    if -dt[worst] > MAX_BACK_SAMPLES * period:
        raise ImuFormatError(
            f"time goes back by {-dt[worst]:.1f} s at row {pos[worst + 1] + 1}: clock reset? "
            "(split the file where the clock restarted)"
        )


def as_utc(value: str | pd.Timestamp | None) -> pd.Timestamp | None:
    """``value`` as a tz-aware UTC timestamp (zone-less = UTC); ``None``/NaT stay ``None``."""
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as e:
        raise ImuFormatError(f"start time {value!r} is not an ISO-8601 time ({e})") from None
    if pd.isna(ts):
        return None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def resolve_start(
    file_start: pd.Timestamp | None,
    given: pd.Timestamp | None,
    path: Path,
    duration_s: float,
    warnings: list[str],
) -> pd.Timestamp:
    """UTC time of the first sample (rule in the module docstring)."""
    if file_start is not None:
        if given is not None and given != file_start:
            warnings.append(
                f"the file has its own start time {_iso(file_start)}: "
                f"the given start {_iso(given)} is not used"
            )
        return file_start
    if given is not None:
        return given
    mtime = pd.Timestamp(path.stat().st_mtime, unit="s", tz="UTC").floor("s")
    start = mtime - pd.Timedelta(seconds=duration_s)
    warnings.append(
        f"no start time in the file: using its modification time {_iso(mtime)} as the end "
        f"of the recording (start {_iso(start)}); pass --start"
    )
    return start


def _iso(ts: pd.Timestamp) -> str:
    return ts.isoformat().replace("+00:00", "Z")
