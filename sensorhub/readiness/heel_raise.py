"""Single-leg heel raises to fatigue, from a shank pod.

Signal: the shank's pitch, i.e. its rotation about the medio-lateral axis while the heel rises
and falls. With a gyroscope, pitch = the integral of the angular rate about the gyro's
principal axis (PCA: heel raises rotate the shank about one axis; this makes the pod's
mounting angle irrelevant), high-passed at 0.05 Hz against gyro-bias drift. Without a gyro,
pitch = the tilt of the low-passed (2 Hz) acceleration vector from its mean direction, along
its principal direction. That apparent tilt also contains the shank's own linear
acceleration, so its degrees differ from the gyro's (≈ 40 % larger on the generator); counts,
rhythm and the fatigue rep are relative and unaffected.

Reps: peaks of pitch away from the resting position (the first second of the recording,
standing still), at least 0.6 s apart, with a prominence (peak minus surrounding troughs,
``amplitude_deg``) of at least ``REP_FRACTION`` (20 %) of the reference amplitude and 3°
(quiet single-leg stance tilts the shank by 1-2°, which must not count).

Reference amplitude: the median amplitude of the first ``REF_REPS`` = 3 reps (the first reps are
the full-height ones before fatigue; three make it robust to one odd rep).
Fatigue rep: the first rep whose amplitude is below ``FATIGUE_FRACTION`` = 50 % of the
reference. ``reps`` counts the full reps before it (the clinical count stops when the heel
can no longer be raised as high; clinical tests judge this by eye, e.g. Hébert-Losier et al.
2017, *Physiotherapy*, so 50 % is our explicit, documented choice); ``reps_total`` counts all.
Rhythm: ``rhythm_rpm`` = 60 / median time between reps; ``rhythm_cv_pct`` = its CV
(the usual protocols pace 30 reps/min with a metronome).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sensorhub.gait.signal import find_peaks, lowpass

from .errors import ReadinessError

REF_REPS = 3
FATIGUE_FRACTION = 0.5
REP_FRACTION = 0.2  # smaller wiggles are sway, not a heel raise
MIN_AMP_DEG = 3.0  # single-leg stance sway tilts the shank by ~1-2°: not a rep
MIN_REP_S = 0.6  # faster than 100 reps/min is not a controlled heel raise
REST_S = 1.0


def _principal(x: np.ndarray) -> np.ndarray:
    x = x - x.mean(axis=0)
    return np.linalg.svd(x, full_matrices=False)[2][0]


def pitch_from_gyro(gyr_dps: np.ndarray, fs_hz: float) -> np.ndarray:
    """Pitch angle (deg, arbitrary offset) integrated from the principal gyro axis."""
    g = np.asarray(gyr_dps, float)
    w = (g - g.mean(axis=0)) @ _principal(g)
    angle = np.cumsum(w) / fs_hz
    from scipy.signal import butter, sosfiltfilt

    sos = butter(2, 0.05 / (fs_hz / 2), btype="highpass", output="sos")
    return lowpass(sosfiltfilt(sos, angle), fs_hz, 3.0)


def pitch_from_acc(acc_g: np.ndarray, fs_hz: float) -> np.ndarray:
    """Apparent tilt (deg) of the low-passed acceleration from its mean direction."""
    a = lowpass(np.asarray(acc_g, float), fs_hz, 2.0, order=2)
    u = a / np.linalg.norm(a, axis=1, keepdims=True)
    m = u.mean(axis=0)
    m /= np.linalg.norm(m)
    d = u - np.outer(u @ m, m)
    return np.degrees(np.arcsin(np.clip(d @ _principal(d), -1.0, 1.0)))


def _oriented(pitch: np.ndarray, fs_hz: float) -> np.ndarray:
    """Sign the pitch so reps are positive excursions from the rest at the start."""
    rest = pitch[: max(int(REST_S * fs_hz), 1)]
    quiet = np.ptp(rest) < 0.25 * np.ptp(pitch)
    if quiet:
        sign = np.sign(np.median(pitch) - np.median(rest))
    else:  # started mid-rep: reps are the skewed side (rest dwells at one end)
        z = pitch - pitch.mean()
        sign = np.sign(np.mean(z**3))
    return pitch * (sign if sign != 0 else 1.0)


def _peaks(p: np.ndarray, fs_hz: float, min_prom: float) -> tuple[np.ndarray, np.ndarray]:
    idx, props = find_peaks(p, prominence=min_prom, distance=max(int(MIN_REP_S * fs_hz), 1))
    return idx, props["prominences"]


def detect_reps(
    t_s: np.ndarray,
    pitch_deg: np.ndarray,
    fs_hz: float,
    fatigue_fraction: float = FATIGUE_FRACTION,
    ref_reps: int = REF_REPS,
) -> tuple[pd.DataFrame, float]:
    """Rep table (``peak_s``, ``amplitude_deg``, ``full``) and the reference amplitude (deg)."""
    p = _oriented(np.asarray(pitch_deg, float), fs_hz)
    idx, prom = _peaks(p, fs_hz, MIN_AMP_DEG)
    if idx.size == 0:
        return pd.DataFrame(columns=["peak_s", "amplitude_deg", "full"]), float("nan")
    big = prom >= 0.3 * np.percentile(prom, 90)
    ref = float(np.median(prom[big][:ref_reps]))
    keep = prom >= max(MIN_AMP_DEG, REP_FRACTION * ref)
    idx, prom = idx[keep], prom[keep]
    below = np.flatnonzero(prom < fatigue_fraction * ref)
    full = np.arange(idx.size) < (below[0] if below.size else idx.size)
    table = pd.DataFrame({"peak_s": np.asarray(t_s)[idx], "amplitude_deg": prom, "full": full})
    return table, ref


def summarise_reps(table: pd.DataFrame, ref_deg: float) -> dict:
    """``reps`` (full reps before fatigue), ``reps_total``, ``amplitude_deg`` (reference),
    ``amplitude_last_deg`` (last full rep), ``rhythm_rpm``, ``rhythm_cv_pct``, ``fatigue_rep``
    (1-based index of the first rep below the fatigue fraction; None if none)."""
    full = table["full"].to_numpy(bool)
    n_full = int(full.sum())
    dt = np.diff(table["peak_s"].to_numpy(float))
    rpm = float(60.0 / np.median(dt)) if dt.size else None
    cv = float(100.0 * dt.std(ddof=1) / dt.mean()) if dt.size > 1 else None
    return {
        "reps": n_full,
        "reps_total": int(len(table)),
        "amplitude_deg": ref_deg,
        "amplitude_last_deg": float(table["amplitude_deg"].to_numpy()[n_full - 1])
        if n_full
        else None,
        "rhythm_rpm": rpm,
        "rhythm_cv_pct": cv,
        "fatigue_rep": n_full + 1 if n_full < len(table) else None,
    }


def analyse_heel_raises(
    t_s: np.ndarray,
    acc_g: np.ndarray,
    gyr_dps: np.ndarray | None,
    fs_hz: float,
    leg: str = "",
    fatigue_fraction: float = FATIGUE_FRACTION,
    ref_reps: int = REF_REPS,
) -> tuple[dict, pd.DataFrame]:
    """Summary and rep table of one leg's heel-raise recording."""
    if gyr_dps is not None:
        pitch, source = pitch_from_gyro(gyr_dps, fs_hz), "gyro"
    else:
        pitch, source = pitch_from_acc(acc_g, fs_hz), "accelerometer"
    table, ref = detect_reps(t_s, pitch, fs_hz, fatigue_fraction, ref_reps)
    if table.empty:
        who = f"{leg} " if leg else ""
        raise ReadinessError(
            f"heel-raise test: no reps found in the {who}recording "
            f"(no shank pitch excursion ≥ {MIN_AMP_DEG:g}°)"
        )
    out = summarise_reps(table, ref)
    out["pitch_source"] = source
    return out, table
