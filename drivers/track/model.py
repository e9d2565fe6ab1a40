"""What the TCX and GPX readers return, and the per-point frame they share.

Columns of ``TrackActivity.records`` (units in the names, DESIGN.md):

| column | unit | from |
|---|---|---|
| ``lat_deg``, ``lon_deg`` | degrees (WGS84) | TCX ``Position``, GPX ``lat``/``lon`` |
| ``altitude_m`` | m | TCX ``AltitudeMeters``, GPX ``ele`` |
| ``distance_m`` | m, cumulative | TCX ``DistanceMeters``; else haversine over the positions |
| ``speed_mps`` | m/s | TCX TPX ``Speed``, GPX TrackPointExtension v2 ``speed`` or GPX 1.0 ``speed``; else Δdistance/Δtime |
| ``hr_bpm`` | beats/min | TCX ``HeartRateBpm/Value``, GPX TrackPointExtension ``hr`` |
| ``cadence_spm`` | steps/min | running sports: 2 × strides/min (see below) |
| ``cadence_rpm`` | rev/min | other sports: cadence as recorded |
| ``power_w`` | W | TCX TPX ``Watts``, GPX ``power`` extension |
| ``temperature_c`` | °C | GPX TrackPointExtension ``atemp`` |

Cadence: TCX ``RunCadence`` (ActivityExtension v2, typed ``CadenceValue_t`` 0–254 like
bike cadence) and Garmin GPX TrackPointExtension ``cad`` carry what the watch recorded,
which for running is one foot's cadence, strides/min, as in FIT ``record.cadence`` (FIT
profile unit "rpm"; DESIGN.md). Readers of these exports double it for steps/min (e.g.
heartandsole's CadenceField: "running cadence in cycling terms of RPM", ×2), and a public
Garmin Connect running GPX sample ("Leuven Running", gpx-csv-converter's test) ramps
``cad`` 48 → 73 in its first seconds, below any plausible steps/min. So ``cadence_spm`` =
2 × value for running sports, the convention of ``sensorhub.normalise``. TCX
``RunCadence`` is running cadence whatever the sport; TCX ``<Cadence>`` and GPX ``cad`` are
taken as strides only for a running sport (running, walking, hiking) and kept as
``cadence_rpm`` (as recorded) otherwise, including an unknown sport (with a warning).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

EARTH_RADIUS_M = 6_371_008.8  # IUGG mean Earth radius (R1)

#: Sports whose cadence is counted per foot (strides/min) and doubled into steps/min.
RUNNING_SPORTS = frozenset({"running", "walking", "hiking"})

#: Column order of ``records``; columns no point has are left out.
COLUMNS = [
    "lat_deg",
    "lon_deg",
    "altitude_m",
    "distance_m",
    "speed_mps",
    "hr_bpm",
    "cadence_spm",
    "cadence_rpm",
    "power_w",
    "temperature_c",
]


class TrackError(ValueError):
    """A TCX/GPX file that holds no readable activity; the message is one line."""


@dataclass
class TrackActivity:
    """One recorded activity of a TCX or GPX file.

    Attributes:
        sport: FIT-style lower-case sport (``running``, ``cycling``, ``walking``, ``hiking``,
            ``swimming``, ``generic``).
        start: first point's time (UTC).
        records: per-point frame, ``datetime64[ns, UTC]`` index named ``time`` (model.py lists
            the columns), sorted, one row per timestamp.
        laps: one row per lap (TCX; empty for GPX): ``start`` (UTC), ``duration_s``,
            ``distance_m``, ``hr_avg_bpm``, ``hr_max_bpm``, ``speed_max_mps``, ... as present.
        device: the recording device or writer (TCX ``Creator/Name``, GPX ``creator``), or None.
        activity_id: TCX ``<Id>``; GPX track name, else the first point's time (ISO 8601).
        warnings: non-fatal findings (merged duplicate timestamps, unknown sport...).
    """

    sport: str
    start: pd.Timestamp
    records: pd.DataFrame
    laps: pd.DataFrame
    device: str | None
    activity_id: str
    warnings: list[str] = field(default_factory=list)


def haversine_m(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """Great-circle distance in metres between points in degrees (haversine formula).

    d = 2 R asin(√(sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2))), R = 6 371 008.8 m (mean radius);
    error vs the WGS84 ellipsoid is below 0.5 %, far under GPS noise.
    """
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def cumulative_distance_m(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Cumulative haversine distance (m) along the points; points without a position get NaN.

    Steps are taken between consecutive points that have a position, so a GPS dropout adds
    the straight line across the gap.
    """
    out = np.full(len(lat), np.nan)
    ok = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
    if len(ok) == 0:
        return out
    steps = haversine_m(lat[ok[:-1]], lon[ok[:-1]], lat[ok[1:]], lon[ok[1:]])
    out[ok] = np.concatenate([[0.0], np.cumsum(steps)])
    return out


def build_records(
    times: Sequence[object] | pd.Series, columns: Mapping[str, Sequence[float | None] | np.ndarray]
) -> tuple[pd.DataFrame, list[str]]:
    """Per-point frame from parallel lists: UTC index, sorted, duplicates merged, derived columns.

    Duplicate timestamps are merged, per column the last non-missing value wins (two points
    with one time would overwrite each other downstream, DESIGN.md "Storage"). ``distance_m``
    is computed from positions when no point has one, ``speed_mps`` from distance/time
    when no point has one. Returns (frame, warnings).
    """
    warnings: list[str] = []
    idx = pd.DatetimeIndex(pd.to_datetime(times, utc=True, errors="coerce", format="ISO8601"))
    frame = pd.DataFrame(
        {k: np.asarray(v, dtype=float) for k, v in columns.items()},
        index=idx.as_unit("ns").rename("time"),
    )
    bad = frame.index.isna()
    if bad.any():
        warnings.append(f"{int(bad.sum())} points without a readable time left out")
        frame = frame[~bad]
    if not frame.index.is_monotonic_increasing:
        warnings.append("points were out of time order: sorted")
        frame = frame.sort_index(kind="stable")
    n_dup = int(frame.index.duplicated().sum())
    if n_dup:
        frame = frame.groupby(level=0, sort=False).last()
        frame.index.name = "time"
        warnings.append(f"{n_dup} points with a repeated timestamp merged (last non-missing wins)")
    warnings += drop_sentinels(frame)
    frame = frame.dropna(axis=1, how="all")
    _derive(frame)
    return frame[
        [c for c in COLUMNS if c in frame] + [c for c in frame if c not in COLUMNS]
    ], warnings


def drop_sentinels(frame: pd.DataFrame) -> list[str]:
    """Blank "no reading" values in place; one warning per column touched.

    HR 0 (strap off) and ≥ 255 (0xFF, FIT's invalid uint8 that converters copy into TCX),
    cadence ≥ 254 per foot (the TCX schema's CadenceValue_t ends at 254; converters write
    254/255 when no sensor was paired) are not measurements. Applies to ``records`` and
    ``laps`` columns by name prefix (``hr_``, ``cadence_``).
    """
    warnings = []
    for col in frame.columns:
        if col.startswith("hr_"):
            bad = (frame[col] <= 0) | (frame[col] >= 255)
        elif col.startswith("cadence_"):
            bad = frame[col] >= (508 if col.endswith("_spm") else 254)
        else:
            continue
        n = int(bad.sum())
        if n:
            frame.loc[bad, col] = np.nan
            warnings.append(f"{n} {col} values left out as no-reading sentinels (0, 254, 255)")
    return warnings


def _derive(frame: pd.DataFrame) -> None:
    """Fill ``distance_m`` from positions and ``speed_mps`` from distance/time when absent."""
    if "distance_m" not in frame and {"lat_deg", "lon_deg"} <= set(frame):
        dist = cumulative_distance_m(frame["lat_deg"].to_numpy(), frame["lon_deg"].to_numpy())
        if np.isfinite(dist).any():
            frame["distance_m"] = dist
    if "speed_mps" not in frame and "distance_m" in frame and len(frame) > 1:
        dist = frame["distance_m"].interpolate(limit_area="inside").to_numpy()
        t_s = (frame.index - frame.index[0]).total_seconds().to_numpy()
        speed = np.full(len(frame), np.nan)
        speed[1:] = np.diff(dist) / np.diff(t_s)  # each interval's mean speed, at its end point
        frame["speed_mps"] = speed


def empty_laps() -> pd.DataFrame:
    """A lap frame with no rows (GPX has no laps)."""
    return pd.DataFrame(
        {
            "start": pd.Series([], dtype="datetime64[ns, UTC]"),
            "duration_s": pd.Series([], dtype=float),
            "distance_m": pd.Series([], dtype=float),
        }
    )


def cadence_column(sport: str) -> tuple[str, float]:
    """(column, factor) for a per-foot cadence value (TCX ``Cadence``, GPX ``cad``) of ``sport``."""
    return ("cadence_spm", 2.0) if sport in RUNNING_SPORTS else ("cadence_rpm", 1.0)


def to_float(text: str | None) -> float | None:
    """A number from XML text, None when empty or not a finite number."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if np.isfinite(value) else None
