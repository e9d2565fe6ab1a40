"""Contacts from a shank-mounted accelerometer (one leg: one contact per stride).

Method (impact-peak family compared by Kiernan et al. 2023):

* strides = impact peaks of the acceleration norm, at least ``min_stride_s`` apart and
  above ``peak_frac`` × the median of the largest peaks (so swing bumps are ignored);
* IC = time the vertical (shank-axis) acceleration rises through 50 % of the way from its
  pre-impact minimum (≤ 80 ms before the peak) to the peak, minus ``ic_lag_s``. The 50 %
  crossing of the steep impact front is interpolated between samples, so it is stable to a
  few ms even at 143 Hz and when the peak itself is clipped (saturated ±8 g sensors);
* TO = minimum of the low-passed vertical acceleration in late stance (window
  ``to_window`` × stride time after IC), refined with a parabola, minus ``to_lag_s``.

The two lags are generic constants measured once on the bach2022 treadmill data (the
impact front follows force-plate IC by ≈ 30 ms) and are the same for every trial.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import signal as sg
from .base import ContactDetector


class ShankDetector(ContactDetector):
    """Shank accelerometer detector (requires ``acc_v_g``; uses ``acc_ap_g``/``acc_ml_g``
    for the impact norm when present). Side is not known from one pod (missing)."""

    placement = "shank"
    required = ("acc_v_g",)
    optional = ("acc_ap_g", "acc_ml_g")

    def __init__(
        self,
        min_stride_s: float = 0.45,
        peak_frac: float = 0.5,
        min_peak_g: float = 2.5,
        ic_lag_s: float = 0.030,
        to_lag_s: float = 0.030,
        to_window: tuple[float, float] = (0.2, 0.55),
        to_lowpass_hz: float = 15.0,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.min_stride_s = min_stride_s
        self.peak_frac = peak_frac
        self.min_peak_g = min_peak_g
        self.ic_lag_s = ic_lag_s
        self.to_lag_s = to_lag_s
        self.to_window = to_window
        self.to_lowpass_hz = to_lowpass_hz

    def _detect_segment(self, t, sig, fs) -> pd.DataFrame:
        v = sig["acc_v_g"]
        norm = np.sqrt(sum(sig[c] ** 2 for c in sig))
        peaks = self._impacts(norm, fs)
        if peaks.size < 2:
            return pd.DataFrame(columns=["ic_s", "to_s"])
        stride = float(np.median(np.diff(peaks)))
        ic = self._impact_front(v, self._first_peak(norm, peaks, fs), fs)
        a = (ic + self.to_window[0] * stride).astype(int)
        n = int((self.to_window[1] - self.to_window[0]) * stride) + 1
        ok = (a >= 1) & (a < v.size - 2)
        ic, a = ic[ok], a[ok]
        # pad so windows may run past the end; a minimum there is "TO not seen"
        vs = np.append(sg.lowpass(v, fs, self.to_lowpass_hz), np.full(n + 1, np.inf))
        win = vs[a[:, None] + np.arange(n)]
        k = np.argmin(win, axis=1)
        seen = a + k < v.size - 1
        ic, a, k, win = ic[seen], a[seen], k[seen], win[seen]
        to = a + k + _parabolic_rows(win, k)
        grid = np.arange(t.size)
        return pd.DataFrame(
            {
                "ic_s": np.interp(ic - self.ic_lag_s * fs, grid, t),
                "to_s": np.interp(to - self.to_lag_s * fs, grid, t),
            }
        )

    def _impacts(self, norm: np.ndarray, fs: float) -> np.ndarray:
        pk, props = sg.find_peaks(
            norm, height=self.min_peak_g, distance=max(int(self.min_stride_s * fs), 1)
        )
        if pk.size == 0:
            return pk
        h = props["peak_heights"]
        ref = np.median(np.sort(h)[h.size // 2 :])
        return pk[h >= self.peak_frac * ref]

    @staticmethod
    def _first_peak(norm: np.ndarray, p: np.ndarray, fs: float, frac: float = 0.7) -> np.ndarray:
        """Earliest local maximum ≥ ``frac`` × the impact peak within 120 ms before it."""
        w = int(0.12 * fs)
        p = p[(p - w - 1 >= 0) & (p + 2 < norm.size)]
        idx = p[:, None] + np.arange(-w, 1)
        mid, left, right = norm[idx], norm[idx - 1], norm[idx + 1]
        ok = (mid >= left) & (mid >= right) & (mid >= frac * norm[p][:, None])
        first = np.where(ok.any(axis=1), np.argmax(ok, axis=1), w)
        return p - w + first

    @staticmethod
    def _impact_front(v: np.ndarray, p: np.ndarray, fs: float) -> np.ndarray:
        """Fractional indices of the 50 % crossing of the rising impact front before ``p``."""
        w = int(0.08 * fs)
        p = p[(p - w >= 0) & (p + 2 < v.size)]
        idx = p[:, None] + np.arange(-w, 2)
        win = v[idx]
        top = np.argmax(win, axis=1)
        cols = np.arange(win.shape[1])
        before = np.where(cols[None, :] <= top[:, None], win, np.inf)
        m = np.argmin(before, axis=1)
        rows = np.arange(p.size)
        level = win[rows, m] + 0.5 * (win[rows, top] - win[rows, m])
        above = (win >= level[:, None]) & (cols[None, :] > m[:, None])
        j = np.argmax(above, axis=1)
        valid = above.any(axis=1) & (top > m)
        j = np.where(valid, j, m + 1).clip(1, win.shape[1] - 1)
        y0, y1 = win[rows, j - 1], win[rows, j]
        frac = np.where(y1 != y0, (level - y0) / np.where(y1 != y0, y1 - y0, 1.0), 0.0)
        return np.where(valid, p - w + j - 1 + frac, p.astype(float))


def _parabolic_rows(win: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Vectorised 3-point parabola offset (−0.5…0.5) around each row's index ``k``."""
    rows = np.arange(win.shape[0])
    inner = (k > 0) & (k < win.shape[1] - 1)
    kk = k.clip(1, win.shape[1] - 2)
    a, b, c = win[rows, kk - 1], win[rows, kk], win[rows, kk + 1]
    den = a - 2 * b + c
    off = np.where(den != 0, 0.5 * (a - c) / np.where(den != 0, den, 1.0), 0.0)
    return np.where(inner, off.clip(-0.5, 0.5), 0.0)
