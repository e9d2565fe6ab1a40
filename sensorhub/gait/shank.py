"""Contacts from a shank-mounted accelerometer (one leg: one contact per stride).

Method (impact-peak family compared by Kiernan et al. 2023):

* strides = impact peaks of the acceleration norm, at least ``min_stride_s`` apart and
  above ``peak_frac`` × the median of the largest peaks (so swing bumps are ignored);
* IC = time the vertical (shank-axis) acceleration rises through 50 % of the way from its
  pre-impact minimum (≤ 80 ms before the peak) to the peak, minus ``ic_lag_s``. The 50 %
  crossing of the steep impact front is interpolated between samples, so it is stable to a
  few ms even at 143 Hz and when the peak itself is clipped (saturated ±8 g sensors);
* TO = minimum of the low-passed vertical acceleration in late stance (window
  ``to_window`` × stride time after IC), refined with a parabola, minus ``to_lag_s``;
* partial contacts (see :mod:`sensorhub.gait.base`): an impact whose rising front starts
  before the segment keeps its TO with IC NaN; a contact whose TO minimum is not inside the
  segment keeps its IC with TO NaN. A stance whose impact precedes the first
  sample has no impact to anchor on and is not seen at all.

The two lags are generic constants measured once on the bach2022 treadmill data (the
impact front follows force-plate IC by ≈ 30 ms) and are the same for every trial.
"""

from __future__ import annotations

import numpy as np

from . import signal as sg
from .base import ContactDetector, Part, no_contacts


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
        min_fs_hz: float = sg.MIN_FS_HZ,
        min_gct_s: float = 0.08,
        max_gct_s: float = 0.6,
    ) -> None:
        super().__init__(min_fs_hz=min_fs_hz, min_gct_s=min_gct_s, max_gct_s=max_gct_s)
        self.min_stride_s = min_stride_s
        self.peak_frac = peak_frac
        self.min_peak_g = min_peak_g
        self.ic_lag_s = ic_lag_s
        self.to_lag_s = to_lag_s
        self.to_window = to_window
        self.to_lowpass_hz = to_lowpass_hz

    def _detect_segment(self, t, sig, fs) -> Part:
        v = sig["acc_v_g"]
        norm = np.sqrt(sum(sig[c] ** 2 for c in sig))
        peaks = self._impacts(norm, fs)
        if peaks.size < 2:
            return no_contacts()
        stride = float(np.median(np.diff(peaks)))
        ic = self._initial_contacts(norm, v, peaks, fs)
        # a front cut by the start: IC unknown; its TO window starts from the usual IC lead
        cut = np.isnan(ic)
        lead = float(np.median(peaks[~cut] - ic[~cut])) if (~cut).any() else 0.0
        to = self._toe_off(v, np.where(cut, peaks - lead, ic), stride, fs)
        keep = ~(cut & np.isnan(to))
        grid = np.arange(t.size)
        return {
            "ic_s": np.interp(ic[keep] - self.ic_lag_s * fs, grid, t, left=np.nan),
            "to_s": np.interp(to[keep] - self.to_lag_s * fs, grid, t, right=np.nan),
        }

    def _initial_contacts(
        self, norm: np.ndarray, v: np.ndarray, peaks: np.ndarray, fs: float
    ) -> np.ndarray:
        """Fractional IC index per impact peak; NaN where the impact front starts before the
        segment. The signals are padded so windows near the start are cut, not dropped."""
        pad = int(0.12 * fs) + int(0.08 * fs) + 2
        norm_p = np.concatenate([np.full(pad, -np.inf), norm])
        v_p = np.concatenate([np.full(pad, np.nan), v])
        return self._impact_front(v_p, self._first_peak(norm_p, peaks + pad, fs), fs) - pad

    def _toe_off(self, v: np.ndarray, ic: np.ndarray, stride: float, fs: float) -> np.ndarray:
        """Fractional TO index per IC: minimum of the low-passed ``v`` in the ``to_window``;
        NaN where that minimum is not inside the segment (TO not seen)."""
        a = np.maximum((ic + self.to_window[0] * stride).astype(int), 1)
        n = int((self.to_window[1] - self.to_window[0]) * stride) + 1
        # pad so windows may run past the end; a minimum there is "TO not seen"
        vs = np.append(sg.lowpass(v, fs, self.to_lowpass_hz), np.full(n + 1, np.inf))
        a = np.minimum(a, v.size)
        win = vs[a[:, None] + np.arange(n)]
        k = np.argmin(win, axis=1)
        seen = a + k < v.size - 1
        to = np.full(ic.size, np.nan)
        to[seen] = a[seen] + k[seen] + _parabolic_rows(win[seen], k[seen])
        return to

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
        """Earliest local maximum ≥ ``frac`` × the impact peak within 120 ms before it
        (``p`` ≥ 120 ms + 1 sample from the start; ``find_peaks`` keeps p < n − 1)."""
        w = int(0.12 * fs)
        idx = p[:, None] + np.arange(-w, 1)
        mid, left, right = norm[idx], norm[idx - 1], norm[idx + 1]
        ok = (mid >= left) & (mid >= right) & (mid >= frac * norm[p][:, None])
        first = np.where(ok.any(axis=1), np.argmax(ok, axis=1), w)
        return p - w + first

    @staticmethod
    def _impact_front(v: np.ndarray, p: np.ndarray, fs: float) -> np.ndarray:
        """Fractional indices of the 50 % crossing of the rising impact front before ``p``
        (``p`` ≥ 80 ms from the start and < n − 1). NaN samples are outside the data: a
        front that starts before the data (no sample seen below its 50 % level) gives NaN."""
        w = int(0.08 * fs)
        idx = p[:, None] + np.arange(-w, 2)
        win = v[idx]
        top = np.nanargmax(win, axis=1)
        cols = np.arange(win.shape[1])
        before = np.where(cols[None, :] <= top[:, None], win, np.inf)
        m = np.nanargmin(before, axis=1)
        rows = np.arange(p.size)
        level = win[rows, m] + 0.5 * (win[rows, top] - win[rows, m])
        above = (win >= level[:, None]) & (cols[None, :] > m[:, None])
        j = np.argmax(above, axis=1)
        valid = above.any(axis=1) & (top > m)
        j = np.where(valid, j, m + 1).clip(1, win.shape[1] - 1)
        y0, y1 = win[rows, j - 1], win[rows, j]
        frac = np.where(y1 != y0, (level - y0) / np.where(y1 != y0, y1 - y0, 1.0), 0.0)
        ic = np.where(valid, p - w + j - 1 + frac, p.astype(float))
        # data starting on the front itself: the 50 % level depends on the unseen foot
        first_seen = (m > 0) & np.isnan(win[rows, (m - 1).clip(0)])
        cut = first_seen & (~valid | (j - 1 == m))
        return np.where(cut, np.nan, ic)


def _parabolic_rows(win: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Vectorised 3-point parabola offset (−0.5…0.5) around each row's index ``k``."""
    rows = np.arange(win.shape[0])
    inner = (k > 0) & (k < win.shape[1] - 1)
    kk = k.clip(1, win.shape[1] - 2)
    a, b, c = win[rows, kk - 1], win[rows, kk], win[rows, kk + 1]
    den = a - 2 * b + c
    with np.errstate(invalid="ignore"):  # NaN samples (gaps) give NaN, not a printed warning
        off = np.where(den != 0, 0.5 * (a - c) / np.where(den != 0, den, 1.0), 0.0)
    return np.where(inner, off.clip(-0.5, 0.5), 0.0)
