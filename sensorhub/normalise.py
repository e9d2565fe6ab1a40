"""FIT messages → the running frame of DESIGN.md: SI units in column names, UTC time index.

One :class:`SessionFrame` per FIT ``session`` message (multisport files give several). The
per-record frame ``run`` has a ``datetime64[ns, UTC]`` index named ``time`` and columns
such as ``speed_mps``, ``hr_bpm``, ``cadence_spm``, ``gct_ms``... (docs/schema.md lists them).
Unknown and unmapped FIT fields are kept in ``FitMessages``; only mapped ones reach ``run``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from drivers.fit import FitMessages

from .gait import balance, symmetry_index

SEMICIRCLE_DEG = 180.0 / 2**31
RUNNING_SPORTS = {"running", "walking", "hiking", "training", "generic"}
# Timestamps outside this range are device clock faults, not data (FIT epoch is 1989-12-31).
PLAUSIBLE_FROM = pd.Timestamp("1995-01-01", tz="UTC")

# (FIT record field, our column, factor) — first present source wins for a column.
NATIVE_FIELDS: list[tuple[str, str, float]] = [
    ("enhanced_speed", "speed_mps", 1.0),
    ("speed", "speed_mps", 1.0),
    ("distance", "distance_m", 1.0),
    ("enhanced_altitude", "altitude_m", 1.0),
    ("altitude", "altitude_m", 1.0),
    ("heart_rate", "hr_bpm", 1.0),
    ("stance_time", "gct_ms", 1.0),
    ("stance_time_balance", "gct_balance_left_pct", 1.0),
    ("stance_time_percent", "gct_pct", 1.0),
    ("vertical_oscillation", "vo_mm", 1.0),
    ("vertical_ratio", "vertical_ratio_pct", 1.0),
    ("step_length", "step_length_mm", 1.0),
    ("power", "power_w", 1.0),
    ("temperature", "temperature_c", 1.0),
    ("grade", "grade_pct", 1.0),
    ("position_lat", "lat_deg", SEMICIRCLE_DEG),
    ("position_long", "lon_deg", SEMICIRCLE_DEG),
]

# Developer fields that carry running dynamics, by field_description name.
# Stryd (footpod data field), RunScribe ("GCT_L" style names from Scribe Labs' MIT Connect IQ
# field, and the averaged "currContactTime" style). (name, column, factor); a native column wins.
DEVELOPER_FIELDS: list[tuple[str, str, float]] = [
    ("Power", "power_w", 1.0),
    ("Form Power", "form_power_w", 1.0),
    ("Air Power", "air_power_w", 1.0),
    ("Leg Spring Stiffness", "lss_kn_m", 1.0),
    ("Ground Time", "gct_ms", 1.0),
    ("Vertical Oscillation", "vo_mm", 10.0),  # Stryd writes centimetres
    ("GCT_L", "gct_left_ms", 1.0),
    ("GCT_R", "gct_right_ms", 1.0),
    ("IG_L", "impact_left_g", 1.0),
    ("IG_R", "impact_right_g", 1.0),
    ("BG_L", "braking_left_g", 1.0),
    ("BG_R", "braking_right_g", 1.0),
    ("P_L", "pronation_left_deg", 1.0),
    ("P_R", "pronation_right_deg", 1.0),
    ("FR_L", "flight_ratio_left_pct", 1.0),
    ("FR_R", "flight_ratio_right_pct", 1.0),
    ("FS_L", "footstrike_left", 1.0),
    ("FS_R", "footstrike_right", 1.0),
    ("currContactTime", "gct_ms", 1.0),
    ("currImpactGs", "impact_g", 1.0),
    ("currBrakingGs", "braking_g", 1.0),
    ("currPronation", "pronation_deg", 1.0),
    ("currPower", "power_w", 1.0),
]

# Left/right column pairs whose asymmetry is summarised per session.
LR_PAIRS = {
    "gct": ("gct_left_ms", "gct_right_ms"),
    "impact": ("impact_left_g", "impact_right_g"),
    "braking": ("braking_left_g", "braking_right_g"),
    "pronation": ("pronation_left_deg", "pronation_right_deg"),
    "flight_ratio": ("flight_ratio_left_pct", "flight_ratio_right_pct"),
}


@dataclass
class SessionFrame:
    """One session of a file: its per-record frame and what the FIT session message says."""

    index: int
    sport: str
    sub_sport: str
    start: pd.Timestamp
    end: pd.Timestamp
    run: pd.DataFrame
    fit_summary: dict = field(default_factory=dict)
    duplicates_merged: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def is_running(self) -> bool:
        return self.sport in RUNNING_SPORTS


def running_frame(record: pd.DataFrame, running: bool = True) -> pd.DataFrame:
    """Map FIT ``record`` columns to SI-named columns, indexed by UTC ``time``.

    Cadence: FIT running cadence is strides/min per leg, so steps/min =
    2 × (cadence + fractional_cadence) (FIT profile, ``record.cadence`` in "rpm"); for
    other sports ``cadence_rpm`` is kept as recorded.
    """
    if record.empty or "timestamp" not in record:
        return pd.DataFrame(index=pd.DatetimeIndex([], tz="UTC", name="time"))
    times = pd.to_datetime(record["timestamp"], utc=True, errors="coerce")
    out = pd.DataFrame(index=pd.DatetimeIndex(times, name="time").as_unit("ns"))
    for src, col, factor in NATIVE_FIELDS + DEVELOPER_FIELDS:
        if src in record and col not in out:
            values = pd.to_numeric(record[src], errors="coerce").to_numpy(dtype=float)
            if np.isfinite(values).any():
                out[col] = values * factor
    if "cadence" in record:
        cad = pd.to_numeric(record["cadence"], errors="coerce").to_numpy(dtype=float)
        frac = record.get("fractional_cadence")
        if frac is not None:
            cad = cad + np.nan_to_num(pd.to_numeric(frac, errors="coerce").to_numpy(dtype=float))
        if running:
            out["cadence_spm"] = 2.0 * cad
        else:
            out["cadence_rpm"] = cad
    return out


def clean_times(
    run: pd.DataFrame, now: pd.Timestamp | None = None
) -> tuple[pd.DataFrame, int, int]:
    """Drop rows without a plausible timestamp, sort, and merge duplicate timestamps.

    Two records with one timestamp would overwrite each other in InfluxDB, so they are
    merged on purpose: per column the last non-missing value wins (a later record completes
    or corrects an earlier one). Returns (frame, n_merged, n_implausible).
    """
    now = now or pd.Timestamp.now(tz="UTC")
    idx = run.index
    ok = idx.notna() & (idx >= PLAUSIBLE_FROM) & (idx <= now + pd.Timedelta(days=1))
    n_bad = int((~ok).sum())
    run = run[ok]
    if not run.index.is_monotonic_increasing:
        run = run.sort_index(kind="stable")
    dup = run.index.duplicated()
    n_dup = int(dup.sum())
    if n_dup:
        run = run.groupby(level=0, sort=False).last()
        run.index.name = "time"
    return run, n_dup, n_bad


def sessions(msgs: FitMessages, now: pd.Timestamp | None = None) -> list[SessionFrame]:
    """Split a decoded file into sessions with normalised per-record frames."""
    record = msgs.frame("record")
    sess = msgs.frame("session")
    if sess.empty:
        if record.empty or "timestamp" not in record:
            return []
        sess = pd.DataFrame([{"sport": _file_sport(msgs)}])
    out: list[SessionFrame] = []
    times = (
        record["timestamp"] if "timestamp" in record else pd.Series([], dtype="datetime64[ns, UTC]")
    )
    bounds = _session_bounds(sess, times)
    for i, (row, (start, end)) in enumerate(zip(sess.to_dict("records"), bounds, strict=True)):
        sport = str(row.get("sport") or "generic")
        sub = str(row.get("sub_sport") or "generic")
        part = record if len(bounds) == 1 else record[(times >= start) & (times <= end)]
        run = running_frame(part, running=sport in RUNNING_SPORTS)
        run, n_dup, n_bad = clean_times(run, now)
        sf = SessionFrame(i, sport, sub, start, end, run, row, n_dup)
        if n_bad:
            sf.warnings.append(f"{n_bad} records without a plausible timestamp left out")
        if not run.empty:
            sf.start, sf.end = min(sf.start, run.index[0]), max(sf.end, run.index[-1])
        out.append(sf)
    return [s for s in out if pd.notna(s.start)]


def _session_bounds(
    sess: pd.DataFrame, times: pd.Series
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """[start, end] per session: FIT start_time + elapsed time, else the plausible record span."""
    ok = times[times >= PLAUSIBLE_FROM] if len(times) else times
    first = ok.min() if len(ok) else pd.NaT
    last = ok.max() if len(ok) else pd.NaT
    bounds = []
    for row in sess.to_dict("records"):
        start = _time(row.get("start_time"))
        elapsed = row.get("total_elapsed_time")
        if pd.notna(start) and isinstance(elapsed, int | float) and np.isfinite(elapsed):
            end = start + pd.Timedelta(seconds=float(elapsed))
        elif pd.notna(start):
            end = _time(row.get("timestamp"))
            end = end if pd.notna(end) and end >= start else start
        else:
            start, end = first, last
        bounds.append((start, end))
    return bounds


def _time(v: object) -> pd.Timestamp:
    """A plausible UTC timestamp or NaT."""
    t = pd.to_datetime(v, utc=True, errors="coerce") if v is not None else pd.NaT
    return t if pd.notna(t) and t >= PLAUSIBLE_FROM else pd.NaT


def _file_sport(msgs: FitMessages) -> str:
    sport = msgs.frame("sport")
    if not sport.empty and "sport" in sport:
        return str(sport["sport"].iloc[0])
    return "generic"


def asymmetry(run: pd.DataFrame) -> dict[str, float]:
    """Session asymmetry from GCT balance and from any left/right field pairs.

    GCT balance B = L/(L+R) × 100 (% left) gives SI = 4 (B − 50) (DESIGN.md, science notes);
    pairs such as RunScribe's ``GCT_L``/``GCT_R`` give SI from their session means.
    Positive SI: the left value is larger.
    """
    out: dict[str, float] = {}
    if "gct_balance_left_pct" in run:
        b = run["gct_balance_left_pct"]
        b = b[(b > 0) & (b < 100)]
        if len(b):
            out["gct_balance_left_pct"] = float(b.mean())
            out["gct_si_pct"] = 4.0 * (out["gct_balance_left_pct"] - 50.0)
    for name, (lcol, rcol) in LR_PAIRS.items():
        if lcol in run and rcol in run:
            both = run[[lcol, rcol]].dropna()
            both = both[(both[lcol] != 0) & (both[rcol] != 0)]
            if len(both):
                left, right = float(both[lcol].mean()), float(both[rcol].mean())
                out[f"{name}_si_pct"] = symmetry_index(left, right)
                if name == "gct" and "gct_si_pct" not in out:
                    out["gct_si_pct"] = symmetry_index(left, right)
                    out["gct_balance_left_pct"] = balance(left, right)
    return out
