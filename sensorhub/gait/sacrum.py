"""Contacts from a sacral (lower-back) accelerometer.

Method (threshold + braking-peak family compared by Kiernan et al. 2023, *Sensors*
review/comparison of IMU running-event methods):

* stance = the vertical acceleration is above ``level_g`` (in flight a body-worn
  accelerometer reads ≈ 0 g, free fall); each stance run bounded by flight is one step;
* IC = minimum of the antero-posterior acceleration (braking peak) near the rise of the
  vertical acceleration (Auvinet et al. 2002; Lee et al. 2010), minus ``ap_lag_s``,
  the delay of that minimum after force-plate IC; without an AP axis, the rising crossing
  of ``level_g`` minus ``rise_lag_s``;
* TO = falling crossing of ``level_g`` minus ``fall_lag_s``.

Crossings are interpolated between samples and minima refined with a parabola, so
events are not quantised to whole samples. The lags are generic constants (one value for
all trials), measured on the alcantara2022 treadmill data (see tests/test_gait_validation.py).
Walking has no flight phase, so it yields no contacts (and a warning).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import signal as sg
from .base import ContactDetector
from .side import SacrumSideDetector


class SacrumDetector(ContactDetector):
    """Sacral accelerometer contact detector (requires ``acc_v_g``; uses ``acc_ap_g``,
    ``acc_ml_g`` when present; ML gives left/right after Lee et al. 2010)."""

    placement = "sacrum"
    required = ("acc_v_g",)
    optional = ("acc_ap_g", "acc_ml_g")

    def __init__(
        self,
        level_g: float = 0.2,
        lowpass_hz: float = 20.0,
        ap_lag_s: float = 0.025,
        rise_lag_s: float = 0.0,
        fall_lag_s: float = 0.010,
        min_flight_s: float = 0.02,
        side_detector: SacrumSideDetector | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.level_g = level_g
        self.lowpass_hz = lowpass_hz
        self.ap_lag_s = ap_lag_s
        self.rise_lag_s = rise_lag_s
        self.fall_lag_s = fall_lag_s
        self.min_flight_s = min_flight_s
        self.side_detector = side_detector

    def _detect_segment(self, t, sig, fs) -> pd.DataFrame:
        v = sg.lowpass(sig["acc_v_g"], fs, self.lowpass_hz)
        rises, falls = self._stance_runs(v, fs)
        if rises.size == 0:
            return pd.DataFrame(columns=["ic_s", "to_s"])
        ap = sig.get("acc_ap_g")
        ic_idx = rises - self.rise_lag_s * fs
        if ap is not None:
            ap = sg.lowpass(ap, fs, self.lowpass_hz)
            ic_idx = np.array([self._ap_min(ap, r, fs) for r in rises]) - self.ap_lag_s * fs
        to_idx = falls - self.fall_lag_s * fs
        df = pd.DataFrame(
            {
                "ic_s": np.interp(ic_idx, np.arange(t.size), t),
                "to_s": np.interp(to_idx, np.arange(t.size), t),
            }
        )
        ml = sig.get("acc_ml_g")
        if ml is not None and len(df) >= 4:
            det = self.side_detector or SacrumSideDetector()
            df["side"] = det.assign(ml, rises, falls)
        return df

    def _stance_runs(self, v: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
        """Fractional indices of rises/falls of stance runs bounded by flight on both sides."""
        up = sg.crossings(v, self.level_g, rising=True)
        dn = sg.crossings(v, self.level_g, rising=False)
        if up.size == 0 or dn.size == 0:
            return np.array([]), np.array([])
        # merge short dips below the level (< min_flight_s) into one stance
        dn = dn[dn > up[0]]
        rises, falls = [], []
        i = 0
        while i < up.size:
            j = np.searchsorted(dn, up[i])
            if j >= dn.size:
                break
            fall = dn[j]
            nxt = np.searchsorted(up, fall)
            while nxt < up.size and up[nxt] - fall < self.min_flight_s * fs:
                j = np.searchsorted(dn, up[nxt])
                if j >= dn.size:
                    break
                fall = dn[j]
                nxt = np.searchsorted(up, fall)
            rises.append(up[i])
            falls.append(fall)
            i = nxt
        r, f = np.array(rises), np.array(falls)
        dur = (f - r) / fs
        keep = (dur >= self.min_gct_s) & (dur <= self.max_gct_s) & (f < v.size - 2)
        return r[keep], f[keep]

    @staticmethod
    def _ap_min(ap: np.ndarray, rise: float, fs: float) -> float:
        a = max(int(rise - 0.02 * fs), 0)
        b = min(int(rise + 0.08 * fs) + 1, ap.size)
        return a + sg.parabolic(ap[a:b], int(np.argmin(ap[a:b])))
