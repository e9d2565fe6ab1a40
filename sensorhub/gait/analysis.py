"""Public entry points: ``detect_contacts`` and ``analyse`` (what the pipeline calls)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .asymmetry import asymmetry
from .base import ContactDetector, event_time
from .errors import GaitError
from .foot import FootGyroDetector
from .metrics import drift, step_metrics, summarise, window_summary
from .orientation import to_body_axes
from .sacrum import SacrumDetector
from .shank import ShankDetector

DETECTORS: dict[str, type[ContactDetector]] = {
    "foot": FootGyroDetector,
    "shank": ShankDetector,
    "sacrum": SacrumDetector,
}


def make_detector(placement: str, **settings: Any) -> ContactDetector:
    """Detector instance for ``placement`` ('foot', 'shank' or 'sacrum') with ``settings``
    (its constructor parameters); an unknown placement or setting raises :class:`GaitError`."""
    if placement not in DETECTORS:
        raise GaitError(f"unknown placement {placement!r}; use one of {sorted(DETECTORS)}")
    cls = DETECTORS[placement]
    unknown = sorted(set(settings) - set(cls.param_names()))
    if unknown:
        raise GaitError(
            f"unknown {placement} detector setting(s) {unknown}; valid: {cls.param_names()}"
        )
    return cls(**settings)


def _run(frame: pd.DataFrame, placement: str, **settings) -> ContactDetector:
    return make_detector(placement, **settings).detect(to_body_axes(frame))


def detect_contacts(frame: pd.DataFrame, placement: str, **settings) -> pd.DataFrame:
    """One row per ground contact: ``ic_s``, ``to_s`` (s), ``gct_ms``, ``side``, ``partial``
    (a contact cut by the recording's edge: the unseen event and ``gct_ms`` are NaN).

    ``frame``: ``t_s`` plus body-axis (``acc_v_g``…) or sensor-axis (``acc_x_g``…) columns.
    """
    return _run(frame, placement, **settings).contacts_


@dataclass
class GaitAnalysis:
    """Result of :func:`analyse`: per-step table, summary, windows, drift and warnings."""

    contacts: pd.DataFrame
    summary: dict
    windows: pd.DataFrame
    drift: dict
    warnings: list[str] = field(default_factory=list)


def analyse(
    frame: pd.DataFrame,
    placement: str,
    *,
    right: pd.DataFrame | None = None,
    side: str | None = None,
    window_s: float = 10.0,
    drift_span_s: float = 600.0,
    **settings,
) -> GaitAnalysis:
    """Detect contacts and compute step metrics, asymmetry, window summaries and drift.

    * one sacral pod: both feet, sides from ML acceleration (Lee et al. 2010);
    * one shank/foot pod: one leg; ``side`` ('L'/'R') labels it if known;
    * two pods: ``frame`` is the **left** pod and ``right`` the right pod.
    """
    warnings: list[str] = []
    det = _run(frame, placement, **settings)
    contacts = det.contacts_.copy()
    warnings += det.warnings_
    per_stride = 2 if placement == "sacrum" else 1
    if right is not None:
        det_r = _run(right, placement, **settings)
        warnings += [f"right pod: {w}" for w in det_r.warnings_]
        contacts["side"] = "L"
        contacts = pd.concat([contacts, det_r.contacts_.assign(side="R")], ignore_index=True)
        per_stride = 2
    elif side is not None:
        contacts["side"] = side
    if per_stride == 1 and len(contacts):
        warnings.append("one leg only: step time and cadence assume symmetric steps")
    steps = step_metrics(contacts, per_stride)
    summary = _summary(steps, warnings)
    return GaitAnalysis(
        steps, summary, window_summary(steps, window_s), drift(steps, drift_span_s), warnings
    )


def _summary(steps: pd.DataFrame, warnings: list[str]) -> dict:
    s = summarise(steps)
    s["n_contacts"] = s["n_steps"]
    if steps.empty:
        s["duration_s"] = 0.0
    else:  # first to last event seen (partial contacts have one of the two)
        s["duration_s"] = float(steps["to_s"].fillna(steps["ic_s"]).max() - event_time(steps).min())
    asym = asymmetry(steps)
    s.update(asym)
    for key in ("gct_si_pct", "gct_sa_pct", "gct_balance_left_pct"):
        s.setdefault(key, float("nan"))
    if not asym and len(steps):
        warnings.append("no left/right asymmetry: sides unknown")
    duty = s.get("duty_factor", np.nan)
    if np.isfinite(duty) and duty > 0.5:
        warnings.append(f"duty factor {duty:.2f} > 0.5: no flight phase, walking?")
    return s
