"""Close a live session: summary, journal rows (source of kind 'ble', session), session point.

The summary is the one FIT sessions get (:func:`sensorhub.session.summarise` over the
per-second ``run`` frame: duration = first to last second, distance, HR, speed, cadence,
step length) plus the IMU gait medians and session-wide asymmetry of the emitted steps
(:func:`sensorhub.gait.summarise`, :func:`sensorhub.gait.asymmetry`). Session load follows
the configured method (Banister TRIMP when HR rest/max are known, else duration;
Foster 2001 sRPE once RPE is logged).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import load as loadlib
from ..config import Config
from ..gait import asymmetry
from ..gait import summarise as gait_summarise
from ..normalise import SessionFrame
from ..pipeline import local_day, session_id
from ..session import summarise
from ..store import Journal, point_line

_GAIT_KEYS = ("gct_ms", "flight_ms", "step_time_ms", "duty_factor")


def gait_summary(steps: pd.DataFrame) -> dict[str, float]:
    """Medians of the step metrics, step count, and GCT/flight/step-time asymmetry."""
    if steps.empty:
        return {}
    s = gait_summarise(steps)
    out: dict[str, float] = {"n_steps": float(s["n_steps"])}
    for k in _GAIT_KEYS:
        if np.isfinite(s.get(k, np.nan)):
            out[k] = s[k]
    out.update({k: v for k, v in asymmetry(steps).items() if k.endswith("_pct")})
    return out


def store_session(
    cfg: Config,
    journal: Journal,
    athlete_id: str,
    run: pd.DataFrame,
    steps: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    sport: str = "running",
    message: str | None = None,
) -> dict[str, Any]:
    """Write the source and session rows and queue the ``session`` point; returns the row.

    The source's sha256 column holds ``ble:<start>:<athlete>``, so a session is stored
    once (a second call with the same start is a no-op that returns the stored row).
    """
    sha = f"ble:{start.isoformat()}:{athlete_id}"
    sid = session_id(sha, 0)
    if journal.source_by_sha(sha):
        return dict(journal.session(sid) or {})
    athlete = cfg.athlete(athlete_id)
    sf = SessionFrame(index=0, sport=sport, sub_sport="", start=start, end=end, run=run)
    summary = summarise(sf)
    summary["duration_s"] = summary["elapsed_s"] = (end - start).total_seconds()
    for k, v in gait_summary(steps).items():
        summary.setdefault(k, v)
    trimp = None
    if athlete.hr_rest and athlete.hr_max and "hr_bpm" in run and run["hr_bpm"].notna().any():
        trimp = loadlib.trimp_banister(
            run["hr_bpm"].dropna(), athlete.hr_rest, athlete.hr_max, athlete.sex
        )
    load, method = loadlib.session_load(
        trimp=trimp, duration_min=summary["duration_s"] / 60.0, primary=cfg.load_primary
    )
    row = {
        "id": sid,
        "athlete": athlete_id,
        "sport": sport,
        "sub_sport": "",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "day": local_day(start, athlete.tz),
        "duration_s": summary["duration_s"],
        "distance_m": summary.get("distance_m"),
        "trimp": trimp,
        "load": load,
        "load_method": method,
        "partial": 0,
        "summary": summary,
    }
    fields = {
        **summary,
        "trimp": trimp,
        "load": load,
        "load_method": method,
        "session_id": sid,
        "partial": False,
    }
    line = point_line("session", {"athlete": athlete_id, "sport": sport}, fields, start)
    with journal.transaction():
        source_id = journal.add_source(
            path=f"ble://{athlete_id}",
            sha256=sha,
            fit_file_id=None,
            kind="ble",
            athlete=athlete_id,
            ingested_at=pd.Timestamp.now(tz="UTC").isoformat(),
            n_sessions=1,
            n_records=int(len(run)),
            partial=0,
            message=message,
        )
        journal.add_session({**row, "source_id": source_id})
        journal.outbox.enqueue("session", [line] if line else [], cfg.influx.batch_points)
    return row
