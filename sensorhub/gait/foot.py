"""Contacts from a foot-mounted gyroscope (Falbriard et al. 2018).

Falbriard, Meyer, Mariani, Millet & Aminian (2018), *Front. Physiol.* 9:610,
"Accurate estimation of running temporal parameters using foot-worn inertial sensors":
events come from the pitch (medio-lateral axis) angular velocity ``gyr_ml_dps``.

* each stride shows a large positive swing peak (foot rotating forward in mid-swing);
* IC = the first pronounced local minimum after the swing peak (the foot stops rotating
  at landing), within ``ic_window_s``;
* TO = the minimum of the angular velocity in late stance, just before the next swing
  peak (fastest plantar-flexion of push-off), searched in ``to_window`` × stride before it.

Sign convention: positive ``gyr_ml_dps`` = toe moving down/forward in swing. Minima are
refined with a parabola (sub-sample). The paper reports a bias below 12 ms for IC and TC
after its systematic corrections; ``ic_lag_s``/``to_lag_s`` hold such constants (0 by
default, no foot force-plate data here to calibrate them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import signal as sg
from .base import ContactDetector


class FootGyroDetector(ContactDetector):
    """Foot gyroscope detector (requires ``gyr_ml_dps``); one contact per stride."""

    placement = "foot"
    required = ("gyr_ml_dps",)

    def __init__(
        self,
        min_swing_dps: float = 200.0,
        min_stride_s: float = 0.45,
        ic_window_s: float = 0.25,
        to_window: tuple[float, float] = (0.15, 0.0),
        lowpass_hz: float = 30.0,
        ic_lag_s: float = 0.0,
        to_lag_s: float = 0.0,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.min_swing_dps = min_swing_dps
        self.min_stride_s = min_stride_s
        self.ic_window_s = ic_window_s
        self.to_window = to_window
        self.lowpass_hz = lowpass_hz
        self.ic_lag_s = ic_lag_s
        self.to_lag_s = to_lag_s

    def _detect_segment(self, t, sig, fs) -> pd.DataFrame:
        w = sg.lowpass(sig["gyr_ml_dps"], fs, self.lowpass_hz)
        sw, _ = sg.find_peaks(w, height=self.min_swing_dps, distance=int(self.min_stride_s * fs))
        ics, tos = [], []
        for p, q in zip(sw[:-1], sw[1:], strict=True):
            a, b = p, min(p + int(self.ic_window_s * fs), q)
            mins, _ = sg.find_peaks(-w[a:b], prominence=0.1 * w[p])
            if mins.size == 0:
                continue
            ic = a + sg.parabolic(w[a:b], int(mins[0]))
            lo = max(int(ic) + int(self.min_gct_s * fs), q - int(0.6 * (q - p)))
            if q - lo < 3:
                continue
            to = lo + sg.parabolic(w[lo:q], int(np.argmin(w[lo:q])))
            ics.append(ic - self.ic_lag_s * fs)
            tos.append(to - self.to_lag_s * fs)
        grid = np.arange(t.size)
        return pd.DataFrame({"ic_s": np.interp(ics, grid, t), "to_s": np.interp(tos, grid, t)})
