"""Public entry points: :func:`analyse_leg` and :func:`analyse_test` → :class:`ReadinessResult`."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .balance import analyse_balance
from .errors import ReadinessError
from .frames import recording
from .heel_raise import analyse_heel_raises
from .hop import analyse_hops
from .lsi import LEGS, limb_symmetry_index

#: Placements each test accepts ("l5" is an alias of "sacrum").
PLACEMENTS: dict[str, tuple[str, ...]] = {
    "hop": ("shank", "sacrum"),
    "heel-raise": ("shank",),
    "balance": ("sacrum", "shank"),
}
KINDS = tuple(PLACEMENTS)
#: Metric → JSON LSI field, and whether more is better (see ``lsi`` module for orientation).
LSI_FIELDS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "hop": (("height_cm", "lsi_height_pct", True), ("rsi", "lsi_rsi_pct", True)),
    "heel-raise": (("reps", "lsi_reps_pct", True),),
    "balance": (
        ("rms_mg", "lsi_rms_pct", False),
        ("jerk", "lsi_jerk_pct", False),
        ("path", "lsi_path_pct", False),
        ("area", "lsi_area_pct", False),
    ),
}
#: Minimum sampling rate (Hz) for heel raises and balance: both live below 5 Hz.
MIN_FS_SLOW_HZ = 50.0
LEG_NAMES = {"L": "left-leg", "R": "right-leg"}


@dataclass
class ReadinessResult:
    """One test of both legs.

    ``legs``: {"L": summary, "R": summary} (the per-leg dicts of :func:`analyse_leg`);
    ``lsi``: {"lsi_…_pct": value or None}; ``events``: per-leg tables (hops, reps or losses);
    ``involved``: "L", "R" or None (then LSI = smaller / larger × 100).
    """

    kind: str
    placement: str
    involved: str | None
    legs: dict[str, dict]
    lsi: dict[str, float | None]
    events: dict[str, pd.DataFrame] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """JSON-ready dict: ``kind``, ``placement``, ``involved``, ``lsi_basis``
        ("involved/uninvolved" or "smaller/larger"), ``legs`` {"L": {...}, "R": {...}},
        the ``lsi_*_pct`` fields at top level, and ``warnings``."""
        out = {
            "kind": self.kind,
            "placement": self.placement,
            "involved": self.involved,
            "lsi_basis": "involved/uninvolved" if self.involved else "smaller/larger",
            "legs": {leg: dict(self.legs[leg]) for leg in LEGS},
        }
        out.update({k: (None if v is None else round(v, 2)) for k, v in self.lsi.items()})
        out["warnings"] = list(self.warnings)
        return out


def _check(kind: str, placement: str) -> str:
    if kind not in PLACEMENTS:
        raise ReadinessError(f"unknown test {kind!r}; use one of {', '.join(KINDS)}")
    placement = "sacrum" if placement == "l5" else placement
    if placement not in PLACEMENTS[kind]:
        raise ReadinessError(
            f"{kind} test needs a pod on the {' or '.join(PLACEMENTS[kind])}, not {placement!r}"
        )
    return placement


def _leg(kind: str, frame: pd.DataFrame, leg: str, **params) -> tuple[dict, pd.DataFrame, list]:
    rec = recording(frame, LEG_NAMES.get(leg, leg))
    who = LEG_NAMES.get(leg, "")
    if kind == "hop":
        summary, table = analyse_hops(rec.t, rec.acc, rec.fs, who, **params)
    else:
        if rec.fs < 0.99 * MIN_FS_SLOW_HZ:
            raise ReadinessError(
                f"{kind} test: {who} recording is sampled at {rec.fs:.1f} Hz; "
                f"at least {MIN_FS_SLOW_HZ:.0f} Hz is needed"
            )
        if kind == "heel-raise":
            summary, table = analyse_heel_raises(rec.t, rec.acc, rec.gyr, rec.fs, who, **params)
        else:
            summary, table = analyse_balance(rec.t, rec.acc, rec.fs, rec.body, who, **params)
    summary["fs_hz"] = round(rec.fs, 3)
    return summary, table, rec.warnings


def analyse_leg(kind: str, frame: pd.DataFrame, placement: str, **params) -> dict:
    """Summary of one leg's recording for test ``kind`` ('hop', 'heel-raise', 'balance').

    ``params`` go to the test's analysis (e.g. ``fatigue_fraction`` for heel raises,
    ``max_contact_s`` for hops). Raises :class:`ReadinessError`.
    """
    _check(kind, placement)
    return _leg(kind, frame, "", **params)[0]


def analyse_test(
    kind: str,
    left: pd.DataFrame | None,
    right: pd.DataFrame | None,
    placement: str,
    involved: str | None = None,
    **params,
) -> ReadinessResult:
    """Both legs of one readiness test, with limb symmetry indices.

    ``left``/``right``: recordings (``t_s`` + ``acc_*_g`` [+ ``gyr_*_dps``]);
    ``involved``: "L" or "R" (the injured leg) → LSI = involved/uninvolved × 100 (inverted
    for lower-is-better metrics); None → smaller/larger × 100.
    """
    placement = _check(kind, placement)
    if involved not in (None, "L", "R"):
        raise ReadinessError(f"involved must be 'L', 'R' or None, not {involved!r}")
    legs, events, warnings = {}, {}, []
    for leg, frame in (("L", left), ("R", right)):
        legs[leg], events[leg], w = _leg(kind, frame, leg, **params)
        warnings += [f"{leg}: {x}" for x in w]
    lsi = {
        name: limb_symmetry_index(legs["L"][metric], legs["R"][metric], involved, higher)
        for metric, name, higher in LSI_FIELDS[kind]
    }
    if kind == "balance" and abs(legs["L"]["duration_s"] - legs["R"]["duration_s"]) > 3.0:
        warnings.append("legs were recorded for different durations: jerk and path differ by that")
    return ReadinessResult(kind, placement, involved, legs, lsi, events, warnings)
