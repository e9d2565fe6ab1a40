"""Check-ins: the symptom diary a return-to-run plan is gated on.

Pain and morning stiffness are rated on the 0–10 numeric rating scale (0 = none,
10 = worst imaginable), as in the pain-monitoring model (Silbernagel et al. 2007).
``when`` says which rating it is: ``during`` / ``after`` a session, ``next-morning`` after a
session day, or ``rest-day`` (a morning without a session the day before).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from .model import PlanError

WHEN = ("during", "after", "next-morning", "rest-day")
MORNING = ("next-morning", "rest-day")
SITES = ("achilles", "calf", "shin", "knee", "hip", "foot", "back", "other")
SIDES = ("L", "R", "both", "none")
CHECKIN_COLUMNS = ["day", "when", "site", "side", "pain", "stiffness", "note", "session_id"]


def _score(name: str, value: Any) -> float:
    """A 0–10 rating as float, or PlanError naming the field."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise PlanError(f"checkin {name}: {value!r} is not a number 0–10") from None
    if math.isnan(v) or not 0 <= v <= 10:
        raise PlanError(f"checkin {name}: {value!r} is not in 0–10")
    return v


@dataclass(frozen=True)
class Checkin:
    """One symptom rating. Validation on construction raises :class:`PlanError` (one line,
    naming the field and the bad value). ``day`` is the athlete's local date; it may not be
    later than tomorrow in UTC (time zones) — :func:`parse_checkin` checks against a given
    ``today`` exactly."""

    day: dt.date
    when: str
    site: str
    side: str
    pain: float
    stiffness: float = 0.0
    note: str | None = None
    session_id: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.day, dt.date) or isinstance(self.day, dt.datetime):
            raise PlanError(f"checkin day: {self.day!r} is not a date")
        if self.day > dt.date.today() + dt.timedelta(days=1):
            raise PlanError(f"checkin day: {self.day.isoformat()} is in the future")
        for name, allowed in (("when", WHEN), ("site", SITES), ("side", SIDES)):
            if getattr(self, name) not in allowed:
                raise PlanError(
                    f"checkin {name}: {getattr(self, name)!r} is not one of {', '.join(allowed)}"
                )
        object.__setattr__(self, "pain", _score("pain", self.pain))
        object.__setattr__(self, "stiffness", _score("stiffness", self.stiffness))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or str(v).strip() == ""


def parse_checkin(row: Mapping[str, Any], today: dt.date | None = None) -> Checkin:
    """A :class:`Checkin` from a loosely typed row (CSV, CLI options, JSON).

    ``day`` may be an ISO string; ``stiffness`` defaults to 0; blank ``note``/``session_id``
    become ``None``. Unknown keys are refused. With ``today``, a later day is refused.
    """
    unknown = sorted(set(row) - set(CHECKIN_COLUMNS))
    if unknown:
        raise PlanError(f"checkin {unknown[0]}: unknown field")
    for need in ("day", "when", "site", "side", "pain"):
        if _blank(row.get(need)):
            raise PlanError(f"checkin {need}: missing")
    day = row["day"]
    if isinstance(day, pd.Timestamp):
        day = day.date()
    elif isinstance(day, str):
        try:
            day = dt.date.fromisoformat(day.strip())
        except ValueError:
            raise PlanError(f"checkin day: {day!r} is not a date (YYYY-MM-DD)") from None
    if today is not None and isinstance(day, dt.date) and day > today:
        raise PlanError(f"checkin day: {day.isoformat()} is in the future")
    return Checkin(
        day=day,
        when=str(row["when"]).strip(),
        site=str(row["site"]).strip(),
        side=str(row["side"]).strip(),
        pain=row["pain"],
        stiffness=0.0 if _blank(row.get("stiffness")) else row["stiffness"],
        note=None if _blank(row.get("note")) else str(row["note"]),
        session_id=None if _blank(row.get("session_id")) else str(row["session_id"]),
    )


def checkins_frame(checkins: Iterable[Checkin]) -> pd.DataFrame:
    """The check-ins as the DataFrame the engine takes (columns :data:`CHECKIN_COLUMNS`)."""
    rows = [c.to_dict() for c in checkins]
    return pd.DataFrame(rows, columns=CHECKIN_COLUMNS)
