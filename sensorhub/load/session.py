"""Session load: Banister TRIMP, session RPE and the duration fallback.

All loads are in arbitrary units (AU). TRIMP-AU, sRPE-AU and minutes are *different*
scales: a daily series or an ACWR must be built from one method per athlete (the athlete's
config chooses ``primary``), otherwise the ratios compare apples with oranges.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Banister weighting constants (k, b) per sex: Banister 1991; Morton, Fitz-Clarke & Banister 1990.
TRIMP_WEIGHTS: dict[str, tuple[float, float]] = {
    "male": (0.64, 1.92),
    "female": (0.86, 1.67),
}

LOAD_METHODS = ("trimp", "srpe", "duration")
_TICKS_PER_S = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}  # of a DatetimeIndex's unit


def _sample_minutes(hr: pd.Series, dt_s: float | None, max_gap_s: float) -> np.ndarray:
    """Minutes each sample stands for: the (capped) time since the previous valid sample."""
    if dt_s is not None:
        if dt_s <= 0:
            raise ValueError(f"dt_s must be > 0, got {dt_s}")
        return np.full(len(hr), min(dt_s, max_gap_s) / 60.0)
    if not isinstance(hr.index, pd.DatetimeIndex | pd.TimedeltaIndex):
        raise TypeError("hr_bpm needs a DatetimeIndex/TimedeltaIndex, or pass dt_s")
    t_s = (hr.index - hr.index[0]) / pd.Timedelta(seconds=1)
    dt = np.diff(np.asarray(t_s, dtype=float), prepend=float(t_s[0]))
    return np.clip(dt, 0.0, max_gap_s) / 60.0


def trimp_banister(
    hr_bpm: pd.Series,
    hr_rest: float,
    hr_max: float,
    sex: str,
    *,
    max_gap_s: float = 10.0,
    dt_s: float | None = None,
) -> float | None:
    """Banister training impulse (TRIMP, AU) integrated sample by sample.

    ``TRIMP = Σ dt_min · HRr · k · e^(b·HRr)`` with heart-rate reserve fraction
    ``HRr = (HR − hr_rest) / (hr_max − hr_rest)`` clipped to [0, 1];
    male k = 0.64, b = 1.92; female k = 0.86, b = 1.67
    (Banister 1991; Morton, Fitz-Clarke & Banister 1990, J Appl Physiol 69:1171).

    Per-sample, not Banister's session-average form ``minutes · HRr̄ · k · e^(b·HRr̄)``
    (:func:`trimp_mean_hr`): the weighting is convex, so whenever HR varies the
    session-average form is smaller — 15 % smaller on a steady 60-min 100 → 180 bpm ramp
    (rest 60, max 180, male: 92.1 vs 108.7 AU) — and TRIMP from a tool that uses the
    session's mean HR is not comparable with this one.

    Time base: with a DatetimeIndex (UTC) or TimedeltaIndex, NaN/None samples are dropped,
    the index is sorted, and each remaining sample stands for the time since the previous
    one (the first sample counts 0 min), capped at ``max_gap_s`` seconds so pauses and
    dropouts do not count as exercise. With ``dt_s`` every valid sample counts
    ``min(dt_s, max_gap_s)`` seconds and the index is ignored.

    Args:
        hr_bpm: heart rate in beats per minute.
        hr_rest, hr_max: the athlete's resting and maximal HR (bpm), ``hr_max > hr_rest``.
        sex: ``"male"`` or ``"female"`` (selects k and b).
        max_gap_s: longest interval (s) one sample may stand for.
        dt_s: constant sample interval (s) for a series without a time index.

    Returns:
        TRIMP in AU (≈ minutes at an effort-weighted intensity), or ``None`` when the series
        holds no usable HR value.
    """
    if sex not in TRIMP_WEIGHTS:
        raise ValueError(f"sex must be one of {sorted(TRIMP_WEIGHTS)}, got {sex!r}")
    if not hr_max > hr_rest:
        raise ValueError(f"hr_max ({hr_max}) must be greater than hr_rest ({hr_rest})")
    k, b = TRIMP_WEIGHTS[sex]
    if (  # a float series in time order (what normalise builds): the same sum without pandas
        dt_s is None
        and isinstance(hr_bpm, pd.Series)
        and hr_bpm.dtype == np.float64
        and isinstance(hr_bpm.index, pd.DatetimeIndex)
        and hr_bpm.index.is_monotonic_increasing
    ):
        v = hr_bpm.to_numpy()
        good = ~np.isnan(v)
        if not good.any():
            return None
        t = hr_bpm.index.asi8[good]
        per_s = _TICKS_PER_S[hr_bpm.index.unit]
        t_s = (t - t[0]) / per_s
        minutes = np.clip(np.diff(t_s, prepend=t_s[0]), 0.0, max_gap_s) / 60.0
        hrr = np.clip((v[good] - hr_rest) / (hr_max - hr_rest), 0.0, 1.0)
        return float(np.sum(minutes * hrr * k * np.exp(b * hrr)))
    hr = pd.to_numeric(pd.Series(hr_bpm), errors="coerce").dropna()
    if hr.empty:
        return None
    if dt_s is None:
        hr = hr.sort_index()
    hrr = np.clip((hr.to_numpy(dtype=float) - hr_rest) / (hr_max - hr_rest), 0.0, 1.0)
    minutes = _sample_minutes(hr, dt_s, max_gap_s)
    return float(np.sum(minutes * hrr * k * np.exp(b * hrr)))


def trimp_mean_hr(
    mean_hr_bpm: float, duration_min: float, hr_rest: float, hr_max: float, sex: str
) -> float:
    """Banister TRIMP (AU) in its original session-average form, from the mean HR.

    ``TRIMP = duration_min · HRr̄ · k · e^(b·HRr̄)``, ``HRr̄ = (mean HR − rest)/(max − rest)``
    clipped to [0, 1], k and b as in :func:`trimp_banister` (Banister 1991; Morton,
    Fitz-Clarke & Banister 1990). For sessions with only a mean HR (e.g. a FIT session
    summary); it is smaller than the per-sample sum whenever HR varies within the session,
    so keep one form per athlete.
    """
    if sex not in TRIMP_WEIGHTS:
        raise ValueError(f"sex must be one of {sorted(TRIMP_WEIGHTS)}, got {sex!r}")
    if not hr_max > hr_rest:
        raise ValueError(f"hr_max ({hr_max}) must be greater than hr_rest ({hr_rest})")
    if duration_min < 0:
        raise ValueError(f"duration_min must be >= 0, got {duration_min}")
    k, b = TRIMP_WEIGHTS[sex]
    hrr = min(max((mean_hr_bpm - hr_rest) / (hr_max - hr_rest), 0.0), 1.0)
    return float(duration_min * hrr * k * np.exp(b * hrr))


def srpe(rpe: float, duration_min: float) -> float:
    """Session RPE load (AU) = CR-10 rating of perceived exertion × session minutes.

    Foster et al. 2001, J Strength Cond Res 15:109 ("A new approach to monitoring
    exercise training"). ``rpe`` is on Borg's CR-10 scale (0–10), asked ~30 min after
    the session; ``duration_min`` is the session duration in minutes.
    """
    if not 0.0 <= rpe <= 10.0:
        raise ValueError(f"rpe must be on the CR-10 scale 0..10, got {rpe}")
    if duration_min < 0:
        raise ValueError(f"duration_min must be >= 0, got {duration_min}")
    return float(rpe) * float(duration_min)


def _usable(x: float | None) -> bool:
    return x is not None and not pd.isna(x)


def session_load(
    trimp: float | None = None,
    srpe: float | None = None,
    duration_min: float | None = None,
    primary: str = "trimp",
) -> tuple[float, str]:
    """Pick one session load (AU) and name the method that produced it.

    Uses ``primary`` when that value is available (not None/NaN), otherwise the first
    available of trimp → srpe → duration (the duration fallback is the session's minutes).
    The units differ — TRIMP AU (Banister), sRPE AU (Foster 2001), minutes — so they are not
    interchangeable; ``primary`` is a per-athlete config choice, and the returned method
    should be stored next to the load so mixed-method days can be spotted.

    This picks per *session*, so one athlete's sessions can end up on different scales.
    For a daily series use :func:`sensorhub.load.method.series_loads`, which picks one
    method for the athlete's whole history and flags estimated and missing sessions.

    Returns:
        ``(load, method)`` with method in ``{"trimp", "srpe", "duration"}``.

    Raises:
        ValueError: unknown ``primary``, or none of the three values is available.
    """
    if primary not in LOAD_METHODS:
        raise ValueError(f"primary must be one of {LOAD_METHODS}, got {primary!r}")
    values = {"trimp": trimp, "srpe": srpe, "duration": duration_min}
    for method in (primary, *LOAD_METHODS):
        if _usable(values[method]):
            return float(values[method]), method
    raise ValueError("no session load: trimp, srpe and duration_min are all missing")
