"""Contacts from a sacral (lower-back) accelerometer.

Method (threshold + braking-peak family compared by Kiernan et al. 2023, *Sensors*
review/comparison of IMU running-event methods):

* stance = the vertical acceleration is above ``level_g`` (in flight a body-worn
  accelerometer reads ≈ 0 g, free fall); each stance run bounded by flight is one step;
* IC = minimum of the antero-posterior acceleration (braking peak) near the rise of the
  vertical acceleration (Auvinet et al. 2002; Lee et al. 2010), minus ``ap_lag_s``,
  the delay of that minimum after force-plate IC; without an AP axis, the rising crossing
  of ``level_g`` minus ``rise_lag_s``;
* TO = falling crossing of ``level_g`` minus ``fall_lag_s``;
* a stance already under way at the first sample, or not over at the last, is a partial
  contact (its unseen event NaN), see :mod:`sensorhub.gait.base`; a stance under way at the
  first sample still gets its IC when its braking minimum lies inside the data.

Crossings are interpolated between samples and minima refined with a parabola, so
events are not quantised to whole samples. The lags are generic constants (one value for
all trials), measured on the alcantara2022 treadmill data (see tests/test_gait_validation.py).
Walking has no flight phase, so it yields no contacts (and a warning).
"""

from __future__ import annotations

import numpy as np

from . import signal as sg
from .base import ContactDetector, Part, no_contacts
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
        min_fs_hz: float = sg.MIN_FS_HZ,
        min_gct_s: float = 0.08,
        max_gct_s: float = 0.6,
    ) -> None:
        super().__init__(min_fs_hz=min_fs_hz, min_gct_s=min_gct_s, max_gct_s=max_gct_s)
        self.level_g = level_g
        self.lowpass_hz = lowpass_hz
        self.ap_lag_s = ap_lag_s
        self.rise_lag_s = rise_lag_s
        self.fall_lag_s = fall_lag_s
        self.min_flight_s = min_flight_s
        self.side_detector = side_detector

    def _detect_segment(self, t, sig, fs) -> Part:
        v = sg.lowpass(sig["acc_v_g"], fs, self.lowpass_hz)
        rises, falls, cut_start, cut_end = self._stance_runs(v, fs)
        if rises.size == 0:
            return no_contacts()
        ap = sig.get("acc_ap_g")
        ic_idx = np.where(cut_start, np.nan, rises - self.rise_lag_s * fs)
        if ap is not None:
            # the braking minimum dates IC, also for a stance whose rise precedes the data
            ap = sg.lowpass(ap, fs, self.lowpass_hz)
            ap_ic = np.array([self._ap_min(ap, r, fs) for r in rises]) - self.ap_lag_s * fs
            ic_idx = np.where(np.isfinite(ap_ic), ap_ic, ic_idx)
        to_idx = np.where(cut_end, np.nan, falls - self.fall_lag_s * fs)
        grid = np.arange(t.size)
        part = {
            "ic_s": np.interp(ic_idx, grid, t, left=np.nan),
            "to_s": np.interp(to_idx, grid, t, right=np.nan),
        }
        ml = sig.get("acc_ml_g")
        if ml is not None and rises.size >= 4:
            det = self.side_detector or SacrumSideDetector()
            part["side"] = det.assign(ml, rises, falls)
        return part

    def _stance_runs(
        self, v: np.ndarray, fs: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Stance runs: fractional rise/fall indices and whether the segment's start/end cuts
        them (then the rise is index 0, or the fall the last index, and that event unknown).

        A run is a stretch above ``level_g``; dips below it shorter than ``min_flight_s`` do
        not end a stance. Whole runs must last ``min_gct_s``…``max_gct_s``; a cut run's seen
        part at most ``max_gct_s`` (longer: standing or walking, not a running stance).
        """
        n = v.size
        starts = sg.crossings(v, self.level_g, rising=True)
        ends = sg.crossings(v, self.level_g, rising=False)
        # crossings of one level alternate; above the level at an edge = a run cut there
        first_cut, last_cut = v[0] >= self.level_g, v[-1] >= self.level_g
        if first_cut:
            starts = np.insert(starts, 0, 0.0)
        if last_cut:
            ends = np.append(ends, n - 1.0)
        if starts.size == 0:
            return (np.array([]),) * 4
        # merge runs separated by a dip shorter than min_flight_s into one stance
        new_run = np.flatnonzero(starts[1:] - ends[:-1] >= self.min_flight_s * fs) + 1
        first = np.insert(new_run, 0, 0)
        last = np.append(new_run - 1, starts.size - 1)
        r, f = starts[first], ends[last]
        cut_start = np.zeros(r.size, bool)
        cut_start[0] = first_cut
        # a fall within 2 samples of the end is too close to the edge to trust (filtering)
        cut_end = f >= n - 2
        dur = (f - r) / fs
        whole = ~cut_start & ~cut_end
        keep = np.where(
            whole, (dur >= self.min_gct_s) & (dur <= self.max_gct_s), dur <= self.max_gct_s
        )
        keep &= ~(cut_start & cut_end)
        return r[keep], f[keep], cut_start[keep], cut_end[keep]

    @staticmethod
    def _ap_min(ap: np.ndarray, rise: float, fs: float) -> float:
        """Braking minimum of AP in [rise − 20 ms, rise + 80 ms]; NaN when it sits where the
        data cut that window (the true minimum may lie outside the data)."""
        a, b = int(rise - 0.02 * fs), int(rise + 0.08 * fs) + 1
        lo, hi = max(a, 0), min(b, ap.size)
        k = int(np.argmin(ap[lo:hi]))
        if (k == 0 and lo > a) or (k == hi - lo - 1 and hi < b):
            return np.nan
        return lo + sg.parabolic(ap[lo:hi], k)
