"""Repeated single-leg hops: flight and contact times from the free-fall phase.

Physics. An accelerometer measures specific force (acceleration minus gravity). A pod on a
body in flight is in free fall, so it reads ≈ 0 g whatever its orientation; on the ground it
reads the support force per unit mass (1 g standing, several g at a hop landing). The norm
|a| of all axes is therefore orientation-free and behaves like the vertical ground reaction
force in body weights: the analysis needs no axis alignment at all.

Levels (not tuned thresholds):

* **0.5 g** segments flight from contact: halfway between free fall (0 g) and static support
  (1 g). During hopping contacts the support force averages well above 1 g (impulse-momentum:
  mean force = g·(t_c + t_f)/t_c), and the rise from ~0 to several g takes a few ms, so the
  result hardly depends on the exact level between ~0.3 and 0.7 g.
* **Edges** are then refined to where the signal leaves the flight floor. The pod's median
  vector in that flight is its bias (free fall reads 0 g), so it is subtracted; the edge
  level is floor + max(5·σ, 0.05 g), with floor and σ the median and robust SD (MAD) of the
  bias-free |a| there (noise plus rotation effects), crossed with linear interpolation,
  and the crossing is moved down the contact-side ramp to the floor (slope of the first two
  contact samples, at most 10 ms).

Minimum sampling rate ``MIN_FS_HZ`` = 200 Hz: h = g·t²/8 gives dh/dt = g·t/4, so at 0.5 s of
flight a 10 ms error in flight time is ≈ 1.2 cm of height; at 200 Hz one sample is 5 ms.

Metrics per hop (all from flight and contact times):

* flight time t_f (ms); contact time t_c (ms) between two flights (a reactive contact);
* jump height h = g·t_f²/8 (cm), the flight-time method (Bosco et al. 1983; assumes the
  body's centre of mass lands at the height it took off from);
* ``rsi`` = reactive strength index = jump height (m) / contact time (s), in m/s (Young 1995;
  Flanagan & Comyns 2008, *Strength Cond J* 30:32-38). It pairs a contact with the flight that
  follows it. (The flight/contact ratio is a different, non-interchangeable RSI variant.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sensorhub.gait.signal import G0

from .errors import ReadinessError

MIN_FS_HZ = 200.0
FLIGHT_LEVEL_G = 0.5
MIN_FLIGHT_S = 0.05  # shorter "flights" are < 3 mm of height: not a hop
MAX_GLITCH_S = 0.008  # above-level blips this short inside a flight are spikes, not contacts
MAX_EDGE_S = 0.03  # how far an edge may move from the 0.5 g crossing when refined
MAX_EXTRAPOLATION_S = 0.01  # cap on the ramp extrapolation to the floor
MAX_CONTACT_S = 1.0  # longer contacts are pauses (standing), not reactive hops


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) index ranges of True runs."""
    d = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True))


def _below(mag: np.ndarray, fs: float, level_g: float) -> np.ndarray:
    below = mag < level_g
    glitch = max(int(round(MAX_GLITCH_S * fs)), 1)
    for a, b in _runs(~below):
        if a > 0 and b < len(mag) and b - a <= glitch:
            below[a:b] = True
    return below


def _edge(mag: np.ndarray, start: int, step: int, level: float, limit: int) -> float | None:
    """Fractional index where ``mag`` falls below ``level`` walking from ``start`` by ``step``
    (−1: backwards from a landing, +1: forwards from a take-off); None if not within ``limit``."""
    i = start
    for _ in range(limit):
        j = i + step
        if j < 0 or j >= len(mag):
            return None
        if mag[j] < level:
            a, b = mag[i], mag[j]
            return i + step * (a - level) / (a - b) if a != b else float(j)
        i = j
    return None


def _crossing(mag: np.ndarray, i: int, j: int, level: float) -> float:
    """Fractional index of the ``level`` crossing between adjacent samples i and j."""
    a, b = mag[i], mag[j]
    return i + (j - i) * (a - level) / (a - b) if a != b else float(i)


def _to_floor(mag: np.ndarray, i: float, step: int, level: float, floor: float, fs: float):
    """Move the ``level`` crossing at fractional index ``i`` to where the contact-side ramp,
    extended linearly, meets ``floor`` (``step`` points from the flight into the contact).

    The slope comes from the first two contact-side samples, so a slow force ramp (e.g. a
    push-off) is not reported late; a steep one (an impact) moves < 1 ms."""
    a = int(np.ceil(i)) if step > 0 else int(np.floor(i))
    b = a + step
    if b < 0 or b >= len(mag):
        return i
    slope = (mag[b] - mag[a]) * fs  # g/s, rising into the contact
    if slope <= 0:
        return i
    shift = min((level - floor) / slope, MAX_EXTRAPOLATION_S) * fs
    return i - step * shift


def detect_flights(
    t_s: np.ndarray,
    acc_g: np.ndarray,
    fs_hz: float,
    level_g: float = FLIGHT_LEVEL_G,
    min_flight_s: float = MIN_FLIGHT_S,
) -> pd.DataFrame:
    """Free-fall phases: ``takeoff_s``, ``landing_s``, ``flight_ms``, ``floor_g``.

    ``acc_g``: (n, k) accelerations in g, any axes (or (n,) for a single axis). Flights are
    where |a| < ``level_g`` for ≥ ``min_flight_s``. Free fall doubles as a calibration: what
    the pod reads in flight is its own bias (plus small rotation effects), so each flight's
    median vector is subtracted before its edges are refined. Only complete flights (contact
    on both sides, inside the recording) are returned. Rate-agnostic: the 200 Hz requirement
    is enforced by :func:`analyse_hops`.
    """
    acc = np.asarray(acc_g, float)
    acc = acc[:, None] if acc.ndim == 1 else acc
    t = np.asarray(t_s, float)
    mag = np.linalg.norm(acc, axis=1)
    limit = max(int(round(MAX_EDGE_S * fs_hz)), 2)
    rows = []
    for a, b in _runs(_below(mag, fs_hz, level_g)):
        if a == 0 or b >= len(mag) or (b - a) / fs_hz < min_flight_s:
            continue
        lo, hi = max(a - limit - 2, 0), min(b + limit + 2, len(mag))
        q = (b - a) // 4  # the middle half of the flight: clear of both force ramps
        local = np.linalg.norm(acc[lo:hi] - np.median(acc[a + q : b - q], axis=0), axis=1)
        core = local[a + q - lo : b - q - lo]
        floor = float(np.median(core))
        sigma = 1.4826 * float(np.median(np.abs(core - floor)))
        edge = min(floor + max(5.0 * sigma, 0.05), 0.5 * (floor + level_g))
        ia, ib = a - lo, b - lo
        i_to = _edge(local, ia - 1, +1, edge, limit)
        i_ld = _edge(local, ib, -1, edge, limit)
        lv_to, lv_ld = (level_g if i is None else edge for i in (i_to, i_ld))
        i_to = _crossing(local, ia - 1, ia, level_g) if i_to is None else i_to
        i_ld = _crossing(local, ib - 1, ib, level_g) if i_ld is None else i_ld
        i_to = lo + _to_floor(local, i_to, -1, lv_to, floor, fs_hz)
        i_ld = lo + _to_floor(local, i_ld, +1, lv_ld, floor, fs_hz)
        t_to = float(np.interp(i_to, np.arange(len(t)), t))
        t_ld = float(np.interp(i_ld, np.arange(len(t)), t))
        rows.append((t_to, t_ld, 1000.0 * (t_ld - t_to), floor))
    return pd.DataFrame(rows, columns=["takeoff_s", "landing_s", "flight_ms", "floor_g"])


def jump_height_cm(flight_ms: np.ndarray | float) -> np.ndarray | float:
    """Jump height from flight time, h = g·t²/8 (cm); flight-time method (Bosco 1983)."""
    t = np.asarray(flight_ms, float) / 1000.0
    return 100.0 * G0 * t**2 / 8.0


def hop_table(flights: pd.DataFrame, max_contact_s: float = MAX_CONTACT_S) -> pd.DataFrame:
    """One row per flight: times, ``flight_ms``, ``height_cm``, ``contact_ms`` of the contact
    before it (NaN for the first hop and after pauses > ``max_contact_s``) and ``rsi`` (m/s)."""
    out = flights.copy()
    out["height_cm"] = jump_height_cm(out["flight_ms"].to_numpy())
    contact = np.full(len(out), np.nan)
    if len(out) > 1:
        c = out["takeoff_s"].to_numpy()[1:] - out["landing_s"].to_numpy()[:-1]
        contact[1:] = np.where(c <= max_contact_s, 1000.0 * c, np.nan)
    out["contact_ms"] = contact
    out["rsi"] = (out["height_cm"] / 100.0) / (out["contact_ms"] / 1000.0)
    return out


def _cv_pct(x: np.ndarray) -> float | None:
    """Coefficient of variation SD/mean × 100 (sample SD); None with fewer than 2 values."""
    x = x[np.isfinite(x)]
    if x.size < 2 or x.mean() == 0:
        return None
    return float(100.0 * x.std(ddof=1) / x.mean())


def _median(x: np.ndarray) -> float | None:
    x = x[np.isfinite(x)]
    return float(np.median(x)) if x.size else None


def summarise_hops(table: pd.DataFrame) -> dict:
    """Per-leg summary: ``hops`` (count), medians ``flight_ms``, ``contact_ms``, ``height_cm``,
    ``rsi`` and their variability ``*_cv_pct`` (coefficient of variation, %)."""
    out: dict = {"hops": int(len(table))}
    for col, name in (
        ("flight_ms", "flight"),
        ("contact_ms", "contact"),
        ("height_cm", "height"),
        ("rsi", "rsi"),
    ):
        x = table[col].to_numpy(float)
        out[col] = _median(x)
        out[f"{name}_cv_pct"] = _cv_pct(x)
    out["reactive_hops"] = int(np.isfinite(table["rsi"].to_numpy(float)).sum())
    return out


def check_rate(fs_hz: float, leg: str = "") -> None:
    """Raise :class:`ReadinessError` below ``MIN_FS_HZ`` (1 % tolerance for clock jitter)."""
    if fs_hz < 0.99 * MIN_FS_HZ:
        who = f"{leg} " if leg else ""
        raise ReadinessError(
            f"hop test: {who}recording is sampled at {fs_hz:.1f} Hz; at least "
            f"{MIN_FS_HZ:.0f} Hz is needed (10 ms of flight ≈ 1.2 cm of height at 0.5 s flight)"
        )


def analyse_hops(
    t_s: np.ndarray,
    acc_g: np.ndarray,
    fs_hz: float,
    leg: str = "",
    level_g: float = FLIGHT_LEVEL_G,
    min_flight_s: float = MIN_FLIGHT_S,
    max_contact_s: float = MAX_CONTACT_S,
) -> tuple[dict, pd.DataFrame]:
    """Summary and per-hop table of one leg's hop recording (``acc_g``: (n, k) any axes)."""
    check_rate(fs_hz, leg)
    flights = detect_flights(t_s, acc_g, fs_hz, level_g, min_flight_s)
    if flights.empty:
        who = f"{leg} " if leg else ""
        raise ReadinessError(
            f"hop test: no hops found in the {who}recording "
            f"(no free-fall phase |a| < {level_g:g} g lasting ≥ {1000 * min_flight_s:.0f} ms)"
        )
    table = hop_table(flights, max_contact_s)
    return summarise_hops(table), table
