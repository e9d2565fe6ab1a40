"""Live BLE sessions: what the live sink gathered, as one session of kind ``ble``.

The per-second ``run`` points and per-step ``stride`` points were already written while
collecting (:mod:`sensorhub.live`); this kind turns the session's frames into the summary
and session row every other kind gets, so the recorder computes load the same way.
"""

from __future__ import annotations

from typing import ClassVar

import pandas as pd

from ..summary import gait_summary, run_summary
from .base import IngestedSource, SessionRecord
from .registry import register


@register
class LiveSource:
    """A live session closed by the live sink (not a file kind)."""

    name: ClassVar[str] = "ble"
    suffixes: ClassVar[tuple[str, ...]] = ()


def live_source(
    athlete: str,
    run: pd.DataFrame,
    steps: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    sport: str = "running",
    message: str | None = None,
) -> IngestedSource:
    """The session from a live sink: ``run`` per second (UTC index), ``steps`` per step.

    Its identity is ``ble:<start>:<athlete>``, so closing the same session twice stores it once.
    """
    summary = run_summary(run, start, end, running=True)
    summary["duration_s"] = summary["elapsed_s"] = (end - start).total_seconds()
    for k, v in gait_summary(steps).items():
        summary.setdefault(k, v)
    if run.empty:  # a pod-only session: its records are its steps, as for an IMU file
        summary["records"] = int(len(steps))
    hr = run["hr_bpm"].dropna() if "hr_bpm" in run else None
    session = SessionRecord(0, sport, start, end, summary, hr_bpm=hr)
    return IngestedSource(
        kind=LiveSource.name,
        identity=f"ble:{start.isoformat()}:{athlete}",
        path=f"ble://{athlete}",
        sessions=[session],
        n_records=int(len(run)),
        athlete=athlete,
        warnings=[message] if message else [],
        label="live BLE",
    )
