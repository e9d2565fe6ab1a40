"""Check-ins (the symptom diary) as a source kind: one rating becomes one ``symptom`` point.

A check-in has no session: its :class:`IngestedSource` carries a :class:`CheckinExtra`,
which the recorder stores in its one transaction — the ``checkins`` row (through
``journal.diary``), the ``symptom`` point (tags ``when``, ``site``, ``side``; fields ``pain``,
``stiffness`` on the 0–10 scale, ``checkin_id``, ``note``) and a recompute mark for the day,
so the athlete's plan decisions are computed again.

The point's time is the session's start when the check-in names a session, else noon of the
athlete's local day: one point per diary slot (day, when, site, side, session), the same slot
the journal keeps one row for.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd

from ..plans import Checkin
from .base import IngestedSource, Series
from .registry import register

NOON_H = 12  # local hour of a check-in point without a session


@register
class CheckinSource:
    """A symptom check-in entered on the command line or imported from a diary CSV."""

    name: ClassVar[str] = "checkin"
    suffixes: ClassVar[tuple[str, ...]] = ()


def checkin_values(checkin: Checkin) -> dict[str, Any]:
    """The check-in as the journal stores it (``day`` an ISO date)."""
    d = checkin.to_dict()
    d["day"] = checkin.day.isoformat()
    return d


def checkin_time(
    checkin: Checkin, tz: str, session_start: pd.Timestamp | None = None
) -> pd.Timestamp:
    """UTC time of the check-in's point: the session's start, else local noon of its day."""
    if session_start is not None:
        return pd.Timestamp(session_start).tz_convert("UTC")
    noon = pd.Timestamp(checkin.day) + pd.Timedelta(hours=NOON_H)
    return noon.tz_localize(tz).tz_convert("UTC")


def symptom_series(checkin: Checkin, time: pd.Timestamp, checkin_id: int | None = None) -> Series:
    """The ``symptom`` point of a check-in (tags other than ``athlete``)."""
    fields: dict[str, Any] = {"pain": checkin.pain, "stiffness": checkin.stiffness, "deleted": 0.0}
    if checkin_id is not None:
        fields["checkin_id"] = float(checkin_id)
    fields["note"] = checkin.note or ""
    frame = pd.DataFrame([fields], index=pd.DatetimeIndex([time]))
    tags = {"when": checkin.when, "site": checkin.site, "side": checkin.side}
    return Series("symptom", frame, tags)


@dataclass
class CheckinExtra:
    """Stores one check-in in the recorder's transaction; ``checkin_id``/``replaced`` say what
    it did (a rating of the same slot is replaced)."""

    checkin: Checkin
    time: pd.Timestamp
    recorded_at: str
    checkin_id: int | None = field(default=None, init=False)
    replaced: bool = field(default=False, init=False)

    def store(self, journal: Any, athlete: str, source_id: int) -> list[Series]:
        values = checkin_values(self.checkin)
        self.checkin_id, self.replaced = journal.diary.add_checkin(
            athlete, values, self.recorded_at, source_id
        )
        journal.mark_dirty(athlete, values["day"])
        return [symptom_series(self.checkin, self.time, self.checkin_id)]


def checkin_source(
    athlete: str,
    checkin: Checkin,
    tz: str = "UTC",
    session_start: pd.Timestamp | None = None,
    recorded_at: pd.Timestamp | None = None,
    origin: str | None = None,
) -> IngestedSource:
    """One check-in as a source for ``Recorder.record``.

    Identity: ``checkin:<athlete>:<day>:<when>:<site>:<side>:<recorded_at>`` for a check-in
    entered now; with ``origin`` (e.g. an imported file's row), a hash of the origin and the
    values instead, so importing the same diary twice stores it once.
    """
    rec = (recorded_at or pd.Timestamp.now(tz="UTC")).isoformat()
    slot = f"{athlete}:{checkin.day.isoformat()}:{checkin.when}:{checkin.site}:{checkin.side}"
    if origin is None:
        identity = f"checkin:{slot}:{rec}"
    else:
        body = f"{athlete}|{origin}|{sorted(checkin_values(checkin).items())}"
        identity = f"checkin:{slot}:{hashlib.sha256(body.encode()).hexdigest()[:16]}"
    extra = CheckinExtra(checkin, checkin_time(checkin, tz, session_start), rec)
    return IngestedSource(
        kind=CheckinSource.name,
        identity=identity,
        path=origin or f"checkin://{athlete}",
        sessions=[],
        n_records=1,
        athlete=athlete,
        label="check-in",
        extras=[extra],
    )
