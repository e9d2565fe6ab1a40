"""What a report reads besides the journal: a session's recording re-read from its source file,
and tables computed from the stored sessions (weekly volume, HR zones).

Per-record data is not kept in the journal (it went to the outbox / InfluxDB), so a session
report re-reads the file the session came from (``sources.path``) when it is still there and
still the same bytes (its sha256 matches the journal), else shows the summary only.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..store.journal import SessionRow

#: HR zones as % of the athlete's maximum HR (a common 5-zone scheme, e.g. Garmin's default)
HR_ZONES = ((50, 60), (60, 70), (70, 80), (80, 90), (90, 100))
#: days before a week whose longest run the week's longest is compared with
LONGEST_LOOKBACK_DAYS = 30


@dataclass
class Recording:
    """A session's data re-read from its source: ``run`` per record (FIT), ``laps`` (FIT),
    ``steps`` per detected step (IMU; ``side``, ``gct_ms``, ``step_time_ms``…); ``note`` says
    where it came from or why there is none."""

    kind: str
    note: str
    run: pd.DataFrame | None = None
    laps: pd.DataFrame | None = None
    steps: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)


def session_kind(src_kind: str | None) -> str:
    """``fit`` | ``imu`` | ``live`` | ``other`` from a ``sources.kind``."""
    kind = src_kind or ""
    if kind == "ble":
        return "live"
    if kind.startswith("imu"):
        return "imu"
    return "fit" if kind == "fit" else "other"


def recording(src: dict | None, row: SessionRow) -> Recording:
    """The session's recording, re-read from ``src`` (a ``sources`` row as a dict)."""
    kind = session_kind(src["kind"] if src else None)
    if kind == "live":
        return Recording(
            kind,
            "Live BLE session: its per-second and per-step points went to InfluxDB while "
            "collecting (Grafana: sensorhub · Live / Run); the journal keeps the summary below.",
        )
    path = Path(src["path"]) if src else None
    if path is None or not path.is_file():
        return Recording(kind, f"The recording {path} is no longer there: summary only.")
    try:
        if kind == "imu":
            return _imu(path, src, row)
        if kind == "fit":
            return _fit(path, row)
    except (ValueError, OSError) as exc:  # FitError, ImuFormatError, GaitError are ValueErrors
        return Recording(kind, f"{path.name} could not be read again ({exc}): summary only.")
    return Recording(kind, f"No plots for a {src['kind']} source: summary only.")


def _fit(path: Path, row: SessionRow) -> Recording:
    import drivers.fit

    from ..normalise import sessions as split_sessions

    msgs = drivers.fit.decode(path)
    for sf in split_sessions(msgs):
        if abs((sf.start - row.start).total_seconds()) < 1:
            laps = _laps(msgs.get("lap"), sf.start, sf.end)
            return Recording("fit", f"Records re-decoded from {path.name}.", sf.run, laps)
    return Recording("fit", f"Session not found again in {path.name}: summary only.")


def _laps(lap: pd.DataFrame | None, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """FIT ``lap`` messages of one session: start, duration, distance, pace, HR, cadence."""
    if lap is None or lap.empty or "start_time" not in lap:
        return pd.DataFrame()
    t = pd.to_datetime(lap["start_time"], utc=True, errors="coerce")
    lap = lap[(t >= start - pd.Timedelta(seconds=1)) & (t <= end)]
    col = lambda name: pd.to_numeric(lap.get(name), errors="coerce") if name in lap else np.nan  # noqa: E731
    speed = col("enhanced_avg_speed") if "enhanced_avg_speed" in lap else col("avg_speed")
    cad = col("avg_running_cadence")
    frac = col("avg_fractional_cadence") if "avg_fractional_cadence" in lap else 0.0
    out = pd.DataFrame(
        {
            "start": pd.to_datetime(lap["start_time"], utc=True, errors="coerce"),
            "duration_s": col("total_timer_time"),
            "distance_m": col("total_distance"),
            "pace_s_per_km": 1000.0 / pd.Series(speed).where(pd.Series(speed) > 0.3),
            "hr_avg_bpm": col("avg_heart_rate"),
            "hr_max_bpm": col("max_heart_rate"),
            "cadence_spm": 2 * (cad + (frac if isinstance(frac, pd.Series) else 0.0)),
            "gct_balance_left_pct": col("avg_stance_time_balance"),
        }
    )
    return out.reset_index(drop=True)


def _imu(path: Path, src: dict, row: SessionRow) -> Recording:
    """Re-run the IMU gait engine on the recording (and its right pod when it was a pair)."""
    from ..sources.imu import ImuSource

    placement = src["kind"].partition(":")[2] or row.sub_sport or None
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    right = None
    if sha != src["sha256"]:
        right = _right_pod(path, sha, src["sha256"])
        if right is None:
            return Recording(
                "imu", f"{path.name} is not the recording that was ingested: summary only."
            )
    side = row.summary.get("side") if isinstance(row.summary.get("side"), str) else None
    ing = ImuSource(placement=placement, side=side, right=right).read(path, data, src["sha256"])
    frames = []
    for s in ing.sessions[0].series:
        if s.measurement == "stride" and not s.frame.empty:
            frames.append(s.frame.assign(side=s.tags.get("side", "")))
    steps = pd.concat(frames).sort_index() if frames else pd.DataFrame()
    names = path.name + (f" + {right.name}" if right else "")
    return Recording("imu", f"Steps detected again from {names}.", steps=steps)


def _right_pod(left: Path, left_sha: str, pair_sha: str) -> Path | None:
    """The right pod's file of a two-pod session: the left file's name with left → right, when
    both files' bytes give the identity the journal stored."""
    from ..sources.imu import pair_identity

    for a, b in (("left", "right"), ("Left", "Right"), ("LEFT", "RIGHT"), ("_L", "_R")):
        if a in left.name:
            cand = left.with_name(left.name.replace(a, b))
            if cand.is_file():
                right_sha = hashlib.sha256(cand.read_bytes()).hexdigest()
                if pair_identity(left_sha, right_sha) == pair_sha:
                    return cand
    return None


# -- tables from stored sessions ---------------------------------------------------------------
def hr_zones(hr: pd.Series, hr_max: float) -> pd.DataFrame:
    """Time (s) per HR zone (:data:`HR_ZONES`, % of ``hr_max``) from a per-record HR series
    (UTC index); each record counts the seconds to the next one (capped at 30 s for gaps).

    Zones are half-open: each holds its lower bound and not its upper one (60 % of max is Z2,
    not Z1), and the top zone is open-ended (above max HR counts there). The labels say so:
    ``pct_of_max`` "60 to <70 %" / "≥ 90 %", ``bpm`` the whole beats/min inside the zone
    ("114–132"), so no value sits in two rows."""
    hr = pd.to_numeric(hr, errors="coerce").dropna()
    rows = []
    if len(hr) > 1:
        # in ns whatever the index's unit (pandas 3 makes µs indexes: asi8 would be µs)
        dt = np.diff(pd.DatetimeIndex(hr.index).as_unit("ns").asi8) / 1e9
        dt = np.clip(np.append(dt, np.median(dt)), 0, 30)
    else:
        dt = np.ones(len(hr))
    pct = hr.to_numpy() / hr_max * 100
    total = float(dt.sum()) or 1.0
    for i, (lo, hi) in enumerate(HR_ZONES, start=1):
        upper = np.inf if i == len(HR_ZONES) else hi
        inside = (pct >= lo) & (pct < upper)
        secs = float(dt[inside].sum())
        first = math.ceil(lo * hr_max / 100)  # the lowest whole bpm with bpm/max >= lo %
        last = math.ceil(hi * hr_max / 100) - 1  # the highest whole bpm below hi %
        top = upper == np.inf
        rows.append(
            {
                "zone": f"Z{i}",
                "pct_of_max": f"≥ {lo} %" if top else f"{lo} to <{hi} %",
                "bpm": f"≥ {first}" if top else f"{first}–{last}",
                "time_s": secs,
                "share_pct": secs / total * 100,
            }
        )
    below = float(dt[pct < HR_ZONES[0][0]].sum())
    frame = pd.DataFrame(rows)
    frame.attrs["below_s"] = below
    return frame


def weekly(table: pd.DataFrame, tz: str) -> pd.DataFrame:
    """Per calendar week (Monday start, the athlete's zone ``tz``) from a
    :meth:`Journal.session_table`: runs, distance (m), hours and longest run (m) of running
    sessions, the load of all sessions, the longest run of the :data:`LONGEST_LOOKBACK_DAYS`
    days before the week (m), mean and max pain, and the pain trend against the previous week
    with pain. Metres at full precision: the display unit is chosen by the caller."""
    cols = ["week", "runs", "distance_m", "hours", "load", "longest_m", "prev30_longest_m"]
    cols += ["longest_vs_prev30_pct", "pain_mean", "pain_max", "pain_trend"]
    if table.empty:
        return pd.DataFrame(columns=cols)
    t = table.copy()
    local = t["start"].dt.tz_convert(tz).dt.tz_localize(None)
    t["week"] = (local.dt.normalize() - pd.to_timedelta(local.dt.day_of_week, unit="D")).dt.date
    t["local"] = local
    run = t["sport"] == "running"
    t["run_m"] = pd.to_numeric(t["distance_m"], errors="coerce").where(run)
    t["hours"] = pd.to_numeric(t["duration_s"], errors="coerce").where(run) / 3600
    t["is_run"] = run.astype(int)
    weeks = pd.date_range(min(t["week"]), max(t["week"]), freq="7D").date
    g = t.groupby("week")
    out = pd.DataFrame(index=pd.Index(weeks, name="week"))
    out["runs"] = g["is_run"].sum()
    out["distance_m"] = g["run_m"].sum(min_count=1)
    out["hours"] = g["hours"].sum(min_count=1)
    out["load"] = g["load"].sum(min_count=1)
    out["longest_m"] = g["run_m"].max()
    out["prev30_longest_m"] = [_longest_before(t, w) for w in out.index]
    out["longest_vs_prev30_pct"] = out["longest_m"] / out["prev30_longest_m"] * 100
    out["pain_mean"] = g["pain"].mean() if "pain" in t else np.nan
    out["pain_max"] = g["pain"].max() if "pain" in t else np.nan
    out["runs"] = out["runs"].fillna(0).astype(int)
    out["pain_trend"] = _trend(out["pain_mean"])
    out = out.reset_index()
    out["week"] = out["week"].astype(str)
    return out[cols]


def _longest_before(t: pd.DataFrame, week) -> float:
    start = pd.Timestamp(week)
    prior = t[
        (t["local"] < start) & (t["local"] >= start - pd.Timedelta(days=LONGEST_LOOKBACK_DAYS))
    ]
    v = prior["run_m"].max()
    return float(v) if pd.notna(v) else np.nan


def _trend(pain: pd.Series, tol: float = 0.5) -> list[str]:
    """ "up" / "down" / "same" against the previous week with logged pain; "" without pain."""
    out, prev = [], None
    for v in pd.to_numeric(pain, errors="coerce"):
        if pd.isna(v):
            out.append("")
            continue
        out.append(
            "" if prev is None else "up" if v > prev + tol else "down" if v < prev - tol else "same"
        )
        prev = v
    return out
