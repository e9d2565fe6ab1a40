"""Contacts from a foot-mounted gyroscope (Falbriard et al. 2018).

Falbriard, Meyer, Mariani, Millet & Aminian (2018), *Front. Physiol.* 9:610,
"Accurate estimation of running temporal parameters using foot-worn inertial sensors":
events come from the pitch (medio-lateral axis) angular velocity ``gyr_ml_dps``.

* each stride shows a large positive swing peak (foot rotating forward in mid-swing);
* IC = the first pronounced local minimum after the swing peak (the foot stops rotating
  at landing), within ``ic_window_s``;
* TO = the minimum of the angular velocity in late stance, just before the next swing
  peak (fastest plantar-flexion of push-off), searched in the last 60 % of the stride
  before it (and at least ``min_gct_s`` after IC);
* partial contacts (see :mod:`sensorhub.gait.base`): the stance before the first swing peak
  (when the swing before it lies before the data) keeps its TO with IC NaN; the stance after
  the last swing peak keeps its IC with TO NaN.

Sign convention: positive ``gyr_ml_dps`` = toe moving down/forward in swing. Minima are
refined with a parabola (sub-sample). The paper reports a bias below 12 ms for IC and TC
after its systematic corrections; ``ic_lag_s``/``to_lag_s`` hold such constants (0 by
default, no foot force-plate data here to calibrate them).
"""

from __future__ import annotations

import numpy as np

from . import signal as sg
from .base import ContactDetector, Part, no_contacts


class FootGyroDetector(ContactDetector):
    """Foot gyroscope detector (requires ``gyr_ml_dps``); one contact per stride."""

    placement = "foot"
    required = ("gyr_ml_dps",)

    def __init__(
        self,
        min_swing_dps: float = 200.0,
        min_stride_s: float = 0.45,
        ic_window_s: float = 0.25,
        lowpass_hz: float = 30.0,
        ic_lag_s: float = 0.0,
        to_lag_s: float = 0.0,
        min_fs_hz: float = sg.MIN_FS_HZ,
        min_gct_s: float = 0.08,
        max_gct_s: float = 0.6,
    ) -> None:
        super().__init__(min_fs_hz=min_fs_hz, min_gct_s=min_gct_s, max_gct_s=max_gct_s)
        self.min_swing_dps = min_swing_dps
        self.min_stride_s = min_stride_s
        self.ic_window_s = ic_window_s
        self.lowpass_hz = lowpass_hz
        self.ic_lag_s = ic_lag_s
        self.to_lag_s = to_lag_s

    def _detect_segment(self, t, sig, fs) -> Part:
        w = sg.lowpass(sig["gyr_ml_dps"], fs, self.lowpass_hz)
        sw, _ = sg.find_peaks(w, height=self.min_swing_dps, distance=int(self.min_stride_s * fs))
        if sw.size == 0:
            return no_contacts()
        stride = int(np.median(np.diff(sw))) if sw.size > 1 else 0
        ics, tos = [], []
        # the stance before the first swing peak started before the data: its TO only
        if stride and sw[0] - stride < 0:
            to = self._to_min(w, 0, sw[0] - stride, sw[0])
            if np.isfinite(to):
                ics.append(np.nan)
                tos.append(to)
        # every swing peak starts a stance; after the last one the TO is not seen
        nxt = np.append(sw[1:], -1)
        for p, q in zip(sw, nxt, strict=True):
            ic = self._ic_min(w, p, q if q >= 0 else w.size, fs)
            if not np.isfinite(ic):
                continue
            earliest = int(ic) + int(self.min_gct_s * fs)
            to = self._to_min(w, earliest, p, q) if q >= 0 else np.nan
            if q >= 0 and not np.isfinite(to):
                continue
            ics.append(ic)
            tos.append(to)
        grid = np.arange(t.size)
        ic_i, to_i = np.array(ics, float), np.array(tos, float)
        return {
            "ic_s": np.interp(ic_i - self.ic_lag_s * fs, grid, t, left=np.nan),
            "to_s": np.interp(to_i - self.to_lag_s * fs, grid, t, right=np.nan),
        }

    def _ic_min(self, w: np.ndarray, p: int, q: int, fs: float) -> float:
        """First pronounced minimum after swing peak ``p`` (within ``ic_window_s``), or NaN."""
        a, b = p, min(p + int(self.ic_window_s * fs), q)
        if b - a < 3:
            return np.nan
        mins, _ = sg.find_peaks(-w[a:b], prominence=0.1 * w[p])
        return a + sg.parabolic(w[a:b], int(mins[0])) if mins.size else np.nan

    @staticmethod
    def _to_min(w: np.ndarray, earliest: int, p: int, q: int) -> float:
        """Push-off minimum in the last 60 % of the stride ``p``→``q``, not before
        ``earliest`` (IC + ``min_gct_s``), or NaN."""
        lo = max(earliest, q - int(0.6 * (q - p)), 0)
        if q - lo < 3:
            return np.nan
        k = int(np.argmin(w[lo:q]))
        if k == 0 and lo == 0:
            return np.nan  # the minimum may lie before the data
        return lo + sg.parabolic(w[lo:q], k)
