"""Signal helpers: sampling rate, cleaning, units, sub-sample event timing.

All functions are pure (arrays in, arrays out). Times in seconds, accelerations in g.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from .errors import GaitError, SamplingRateError

#: Minimum sampling rate accepted (Hz). Below 100 Hz one sample is > 10 ms, the same
#: order as the GCT accuracy goal, and impact transients (~20-40 ms) are not resolved.
MIN_FS_HZ = 100.0
#: Gaps longer than this (s) split a recording into separately analysed segments.
MAX_GAP_S = 0.2
G0 = 9.80665
ACC_COLS = ("acc_v_g", "acc_ap_g", "acc_ml_g")


def sampling_rate(t_s: np.ndarray) -> float:
    """Median sampling rate (Hz) of a time vector in seconds."""
    dt = np.diff(np.asarray(t_s, dtype=float))
    dt = dt[np.isfinite(dt) & (dt > 0)]
    if dt.size == 0:
        raise GaitError("need at least two increasing time stamps in t_s")
    return float(1.0 / np.median(dt))


def check_rate(fs_hz: float, min_fs_hz: float = MIN_FS_HZ) -> None:
    """Raise :class:`SamplingRateError` if ``fs_hz`` < ``min_fs_hz``."""
    if fs_hz < min_fs_hz - 1e-6:
        raise SamplingRateError(
            f"sampling rate {fs_hz:.1f} Hz is below the minimum {min_fs_hz:.0f} Hz "
            "for contact detection (events would be quantised to > 10 ms)"
        )


def fix_units(frame: pd.DataFrame, warnings: list[str]) -> pd.DataFrame:
    """Convert accelerations given in m/s² or mg to g (columns named ``acc_*_g``).

    Detection uses the median norm of the acceleration: ≈1 in g, ≈9.8 in m/s²,
    ≈1000 in mg. A warning is appended when a conversion is made.
    """
    cols = [c for c in frame.columns if c.startswith("acc_") and c.endswith("_g")]
    if not cols:
        return frame
    scale = unit_scale([frame[c].to_numpy(float) for c in cols], warnings)
    if scale is None:
        return frame
    out = frame.copy()
    out[cols] = out[cols] * scale
    return out


def unit_scale(acc: list[np.ndarray], warnings: list[str]) -> float | None:
    """Factor that turns the acceleration columns ``acc`` (in g, m/s² or mg) into g; None
    when already in g. The unit is told by the median norm (see :func:`fix_units`); a
    warning is appended when a conversion is needed."""
    step = max(len(acc[0]) // 20000, 1)  # a subsample is enough for a median
    norm = np.sqrt(np.nansum(np.column_stack([a[::step] for a in acc]) ** 2, axis=1))
    med = float(np.nanmedian(norm)) if norm.size else 0.0
    if 4.0 < med < 25.0:
        scale, unit = 1.0 / G0, "m/s²"
    elif 300.0 < med < 3000.0:
        scale, unit = 1e-3, "mg"
    else:
        return None
    warnings.append(f"accelerations look like {unit} (median |a| = {med:.1f}); converted to g")
    return scale


def clipped_fraction(x: np.ndarray, limit_g: float = 7.9) -> float:
    """Fraction of samples at or beyond ``±limit_g`` (sensor saturation, e.g. a ±8 g range)."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    return float(np.mean(np.abs(x) >= limit_g)) if x.size else 0.0


def segments(t_s: np.ndarray, valid: np.ndarray, fs_hz: float) -> list[tuple[int, int]]:
    """Index ranges [start, stop) of valid samples without gaps > ``MAX_GAP_S``."""
    t = np.asarray(t_s, float)
    ok = np.asarray(valid, bool) & np.isfinite(t)
    idx = np.flatnonzero(ok)
    if idx.size < 2:
        return []
    brk = np.flatnonzero(np.diff(t[idx]) > MAX_GAP_S) + 1
    parts = np.split(idx, brk)
    return [(int(p[0]), int(p[-1]) + 1) for p in parts if p.size >= int(fs_hz)]


def uniform(t_s: np.ndarray, x: np.ndarray, fs_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """Resample ``x`` (n, k) onto a uniform grid at ``fs_hz`` by linear interpolation.

    NaNs inside short holes are bridged; callers split long gaps first with :func:`segments`.
    """
    t = np.asarray(t_s, float)
    x = np.atleast_2d(np.asarray(x, float).T).T
    dt = np.diff(t)
    if np.all(np.abs(dt * fs_hz - 1.0) < 0.01) and np.isfinite(x).all():
        return t, x  # already uniform and complete
    grid = np.arange(t[0], t[-1] + 0.5 / fs_hz, 1.0 / fs_hz)
    out = np.empty((grid.size, x.shape[1]))
    for j in range(x.shape[1]):
        ok = np.isfinite(x[:, j])
        out[:, j] = np.interp(grid, t[ok], x[ok, j]) if ok.sum() >= 2 else 0.0
    return grid, out


def lowpass(x: np.ndarray, fs_hz: float, fc_hz: float, order: int = 2) -> np.ndarray:
    """Zero-lag Butterworth low-pass (filtfilt); returns ``x`` unchanged if too short."""
    if fc_hz >= 0.45 * fs_hz or len(x) < 20:
        return np.asarray(x, float)
    from scipy.signal import sosfilt, sosfiltfilt  # see find_peaks: imported on first use

    sos, zi, edge = _butter(order, fc_hz / (fs_hz / 2))
    x = np.asarray(x, float)
    if x.ndim != 1 or x.size <= edge:
        return sosfiltfilt(sos, x, axis=0)
    # scipy's sosfiltfilt step by step (odd extension by 3 × taps, initial state zi scaled
    # by the first sample, forward then backward) with the design and zi made once: the
    # live path filters a 4 s window per pod every 0.2 s, where they cost as much as the
    # filtering itself
    ext = np.concatenate((2 * x[:1] - x[edge:0:-1], x, 2 * x[-1:] - x[-2 : -(edge + 2) : -1]))
    y, _ = sosfilt(sos, ext, zi=zi * ext[:1])
    y, _ = sosfilt(sos, y[::-1], zi=zi * y[-1:])
    return y[::-1][edge:-edge]


@functools.lru_cache(maxsize=64)
def _butter(order: int, wn: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Butterworth low-pass sections, their steady-state initial conditions
    (``sosfilt_zi``) and the padding ``sosfiltfilt`` uses (3 × the taps); cached."""
    from scipy.signal import butter, sosfilt_zi

    sos = butter(order, wn, output="sos")
    ntaps = 2 * len(sos) + 1 - min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
    return sos, sosfilt_zi(sos), 3 * ntaps


def find_peaks(x: np.ndarray, **settings) -> tuple[np.ndarray, dict]:
    """``scipy.signal.find_peaks``, imported on first use: scipy.signal takes most of a
    second to import, and most ``sensorhub`` commands never analyse IMU data."""
    from scipy.signal import find_peaks as scipy_find_peaks

    return scipy_find_peaks(x, **settings)


def crossings(x: np.ndarray, level: float, rising: bool) -> np.ndarray:
    """Fractional sample indices where ``x`` crosses ``level`` (linear interpolation)."""
    x = np.asarray(x, float)
    a, b = x[:-1], x[1:]
    hit = (a < level) & (b >= level) if rising else (a >= level) & (b < level)
    i = np.flatnonzero(hit)
    return i + (level - a[i]) / (b[i] - a[i])


def parabolic(x: np.ndarray, i: int) -> float:
    """Sub-sample position of an extremum at integer index ``i`` (3-point parabola)."""
    if 0 < i < len(x) - 1:
        a, b, c = x[i - 1], x[i], x[i + 1]
        den = a - 2 * b + c
        if den != 0:
            return i + float(np.clip(0.5 * (a - c) / den, -0.5, 0.5))
    return float(i)
