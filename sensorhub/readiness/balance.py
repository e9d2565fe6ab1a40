"""Single-leg balance (30 s per leg): sway from acceleration, after Mancini et al. 2012
(ISway, *J NeuroEng Rehabil* 9:59, Table 2), plus loss-of-balance events.

Axes: the vertical is the mean acceleration (gravity); the horizontal plane is everything
orthogonal to it (``sensorhub.gait.body_rotation``). Every sway metric below uses both
horizontal components together, so it does not depend on the pod's heading: a pod strapped
at an unknown yaw cannot tell AP from ML in quiet stance, and these measures need not.
The horizontal acceleration includes the gravity component of the body's tilt, as in ISway.
It is mean-removed and low-passed (4th-order zero-lag Butterworth, 3.5 Hz; the sway band is
< 3 Hz, and noise above it would dominate jerk). Units: m/s² unless said otherwise.

* ``rms_mg``: RMS of the resultant horizontal acceleration, √mean(a_AP² + a_ML²), in mg.
* ``jerk``: ½ ∫ (da_AP/dt)² + (da_ML/dt)² dt over the trial, m²/s⁵ (Mancini's JERK). It is an
  integral, so it grows with trial length: compare trials of the same duration (30 s).
* ``path``: total length of the acceleration trajectory in the horizontal plane, Σ|Δa|, m/s².
* ``velocity_mmps``: mean norm of the horizontal "velocity" obtained by integrating the
  acceleration (frequency domain, components ≥ 0.1 Hz), mm/s.
* ``area``: area of the 95 % confidence ellipse of (a_AP, a_ML), π·χ²₂,₀.₉₅·√det(cov)
  (χ² = 5.991), (m/s²)². (Mancini's AREA is a swept area per second; we report the ellipse.)
* ``f50_hz`` / ``f95_hz``: frequencies below which 50 % / 95 % of the power of a_AP + a_ML lies
  (periodogram of the whole trial, 0.1-3.5 Hz, cumulative power interpolated linearly;
  no taper: with one 30 s trial a Hann window trades bias for a larger scatter of F50).
* ``losses``: loss-of-balance events: a touch-down of the other foot (or a hop to recover) is
  a sudden vertical impact. Quiet stance hardly moves the body vertically (< 0.01 g), so a
  vertical transient beyond ``LOSS_LEVEL_G`` = 0.25 g (vertical minus its 1 Hz low-pass) is
  counted; events closer than 1 s are one. Sway metrics are computed without the samples from
  0.5 s before to 1.5 s after each loss; integrals (jerk, path) are scaled back to the trial
  length; spectra use the longest loss-free stretch.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sensorhub.gait.orientation import body_rotation
from sensorhub.gait.signal import G0, lowpass

from .errors import ReadinessError

SWAY_FC_HZ = 3.5
BAND_HZ = (0.1, 3.5)
LOSS_LEVEL_G = 0.25
LOSS_MERGE_S = 1.0
LOSS_WINDOW_S = (0.5, 1.5)
CHI2_95_2DOF = 5.991


def horizontal(acc_g: np.ndarray, body: bool) -> tuple[np.ndarray, np.ndarray]:
    """(horizontal (n, 2) in m/s², vertical (n,) in g) from sensor or body axes."""
    acc = np.asarray(acc_g, float)
    if acc.shape[1] < 3:
        raise ReadinessError("balance test needs a 3-axis accelerometer (ap, ml and v)")
    b = acc if body else acc @ body_rotation(acc).T  # columns ap, ml, v
    return G0 * b[:, :2], b[:, 2]


def detect_losses(v_g: np.ndarray, t_s: np.ndarray, fs_hz: float) -> np.ndarray:
    """Times (s) of loss-of-balance events: vertical transients > ``LOSS_LEVEL_G``."""
    dev = np.abs(v_g - lowpass(v_g, fs_hz, 1.0))
    idx = np.flatnonzero(dev > LOSS_LEVEL_G)
    if idx.size == 0:
        return np.array([])
    starts = idx[np.concatenate(([True], np.diff(idx) > LOSS_MERGE_S * fs_hz))]
    return np.asarray(t_s)[starts]


def _keep_mask(t: np.ndarray, losses: np.ndarray) -> np.ndarray:
    keep = np.ones(t.size, bool)
    for tl in losses:
        keep &= ~((t >= tl - LOSS_WINDOW_S[0]) & (t <= tl + LOSS_WINDOW_S[1]))
    return keep


def _longest(keep: np.ndarray) -> slice:
    d = np.diff(np.concatenate(([0], keep.astype(np.int8), [0])))
    a, b = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    i = int(np.argmax(b - a))
    return slice(int(a[i]), int(b[i]))


def spectral_edges(h: np.ndarray, fs_hz: float) -> tuple[float, float]:
    """(F50, F95) in Hz of the summed AP+ML power in ``BAND_HZ`` (see module docstring)."""
    from scipy.signal import periodogram

    f, p = periodogram(h, fs=fs_hz, window="boxcar", detrend="constant", axis=0)
    p = p.sum(axis=1)
    band = (f >= BAND_HZ[0]) & (f <= BAND_HZ[1])
    f, p = f[band], p[band]
    cum = np.cumsum(p) / p.sum()
    return float(np.interp(0.5, cum, f)), float(np.interp(0.95, cum, f))


def mean_velocity_mmps(h: np.ndarray, fs_hz: float) -> np.ndarray:
    """|v(t)| (mm/s): acceleration integrated in the frequency domain (components ≥ 0.1 Hz)."""
    n = h.shape[0]
    spec = np.fft.rfft(h - h.mean(axis=0), axis=0)
    f = np.fft.rfftfreq(n, 1.0 / fs_hz)
    gain = np.zeros_like(f, dtype=complex)
    ok = f >= BAND_HZ[0]
    gain[ok] = 1.0 / (2j * np.pi * f[ok])
    v = np.fft.irfft(spec * gain[:, None], n=n, axis=0)
    return 1000.0 * np.linalg.norm(v, axis=1)


def sway_metrics(h_mps2: np.ndarray, fs_hz: float, keep: np.ndarray | None = None) -> dict:
    """ISway-style metrics of a horizontal acceleration (n, 2) in m/s² (module docstring)."""
    h = lowpass(np.asarray(h_mps2, float) - np.mean(h_mps2, axis=0), fs_hz, SWAY_FC_HZ, order=4)
    n = h.shape[0]
    keep = np.ones(n, bool) if keep is None else keep
    scale = n / max(int(keep.sum()), 1)  # integrals over kept samples → whole trial
    hk = h[keep] - h[keep].mean(axis=0)
    d = np.gradient(h, axis=0) * fs_hz
    step = np.linalg.norm(np.diff(h, axis=0), axis=1)
    pair = keep[1:] & keep[:-1]
    seg = _longest(keep)
    f50, f95 = spectral_edges(h[seg], fs_hz)
    cov = np.cov(hk.T)
    return {
        "rms_mg": float(1000.0 / G0 * np.sqrt(np.mean(np.sum(hk**2, axis=1)))),
        "jerk": float(0.5 * np.sum(np.sum(d[keep] ** 2, axis=1)) / fs_hz * scale),
        "path": float(step[pair].sum() * (n - 1) / max(int(pair.sum()), 1)),
        "velocity_mmps": float(mean_velocity_mmps(h, fs_hz)[keep].mean()),
        "area": float(np.pi * CHI2_95_2DOF * np.sqrt(max(np.linalg.det(cov), 0.0))),
        "f50_hz": f50,
        "f95_hz": f95,
    }


def analyse_balance(
    t_s: np.ndarray, acc_g: np.ndarray, fs_hz: float, body: bool, leg: str = ""
) -> tuple[dict, pd.DataFrame]:
    """Summary and loss-event table (``t_s``) of one leg's balance recording."""
    h, v = horizontal(acc_g, body)
    losses = detect_losses(v, t_s, fs_hz)
    keep = _keep_mask(np.asarray(t_s), losses)
    if keep.sum() < 5 * fs_hz:
        who = f"{leg} " if leg else ""
        raise ReadinessError(
            f"balance test: the {who}recording has < 5 s of stance without loss of balance"
        )
    out = sway_metrics(h, fs_hz, keep)
    out["losses"] = int(losses.size)
    out["duration_s"] = float(t_s[-1] - t_s[0] + 1.0 / fs_hz)
    out["analysed_s"] = float(keep.sum() / fs_hz)
    return out, pd.DataFrame({"t_s": losses})
