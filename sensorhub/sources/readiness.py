"""Readiness tests (hop, heel-raise, balance) as a source kind: one recording per leg, analysed
by :mod:`sensorhub.readiness`, stored as one ``readiness`` journal row and ``readiness`` points.

Not a file kind (a test is two files and a test name, given on the command line):
:func:`readiness_source` builds the :class:`IngestedSource`; the recorder stores it in one
transaction. It has no sessions (a test is not training load); its :class:`ReadinessExtra`
writes the journal row through ``journal.readiness`` and returns the points:

* measurement ``readiness``, tags ``kind`` (hop | heel-raise | balance), ``placement``
  (shank | sacrum) and ``side``:

  * ``side=L`` / ``side=R``: the leg's numeric summary (``hops``, ``flight_ms``,
    ``contact_ms``, ``height_cm``, ``rsi``…; ``reps``, ``amplitude_deg``…; ``rms_mg``,
    ``jerk``, ``path``, ``area``…, and ``fs_hz``; see docs/readiness.md);
  * ``side=lsi``: the test's ``lsi_*_pct`` fields, ``pain`` (0–10, when given) and
    ``involved_left`` (1 = L involved, 0 = R, absent = no involved leg: smaller/larger);

* all three at the test's start (the earlier of the two recordings' starts), so re-storing a
  test writes the same points.

Identity: sha256 of both files' bytes and the test kind, so the same two files stored again
(with any options) are a duplicate.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from drivers.imu import ImuFormatError, read_recording

from ..readiness import ReadinessError, ReadinessResult, analyse_test
from .base import IngestedSource, Series, SourceError
from .registry import register

MEASUREMENT = "readiness"
LEGS = {"L": "left", "R": "right"}


@register
class ReadinessSource:
    """A readiness test of both legs (not a file kind: see :func:`readiness_source`)."""

    name: ClassVar[str] = "readiness"
    suffixes: ClassVar[tuple[str, ...]] = ()


@dataclass
class ReadinessExtra:
    """The stored part of a test: one ``readiness`` row and its points (see module doc)."""

    result: ReadinessResult
    start: pd.Timestamp
    pain: float | None = None
    tz: str = "UTC"  # the athlete's time zone, for the local ``day``

    def store(self, journal: Any, athlete: str, source_id: int) -> list[Series]:
        """Write the journal row (inside the recorder's transaction) and return the points."""
        res = self.result
        day = self.start.tz_convert(self.tz).strftime("%Y-%m-%d")
        journal.readiness.add(
            athlete=athlete,
            kind=res.kind,
            placement=res.placement,
            time=self.start,
            day=day,
            legs=res.to_json()["legs"],
            lsi=dict(res.lsi),
            involved=res.involved,
            pain=self.pain,
            source_id=source_id,
        )
        return readiness_series(res, self.start, self.pain)


def readiness_series(
    res: ReadinessResult, start: pd.Timestamp, pain: float | None = None
) -> list[Series]:
    """The ``readiness`` points of a test: one per leg and one ``side=lsi`` (module doc)."""
    index = pd.DatetimeIndex([start.tz_convert("UTC")], name="time")
    tags = {"kind": res.kind, "placement": res.placement}
    out = []
    for leg in LEGS:
        fields = {k: float(v) for k, v in res.legs[leg].items() if _number(v)}
        out.append(Series(MEASUREMENT, pd.DataFrame(fields, index=index), {**tags, "side": leg}))
    lsi = {k: float(v) for k, v in res.lsi.items() if _number(v)}
    if pain is not None:
        lsi["pain"] = float(pain)
    if res.involved:
        lsi["involved_left"] = 1.0 if res.involved == "L" else 0.0
    if lsi:
        out.append(Series(MEASUREMENT, pd.DataFrame(lsi, index=index), {**tags, "side": "lsi"}))
    return out


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def readiness_identity(kind: str, left: bytes, right: bytes) -> str:
    """sha256 over the test kind and both recordings' bytes (left first)."""
    h = hashlib.sha256(f"readiness:{kind}\n".encode())
    h.update(hashlib.sha256(left).digest())
    h.update(hashlib.sha256(right).digest())
    return h.hexdigest()


def readiness_source(
    kind: str,
    left_path: str | Path | None,
    right_path: str | Path | None,
    placement: str,
    athlete: str,
    involved: str | None = None,
    start: pd.Timestamp | None = None,
    pain: float | None = None,
    tz: str = "UTC",
) -> IngestedSource:
    """Read both legs' recordings, run :func:`sensorhub.readiness.analyse_test` and return the
    test as an :class:`IngestedSource` without sessions (its ``extras`` store the result).

    ``start``: UTC start of recordings that carry no absolute time (both legs get it);
    ``pain``: pain during the test, 0–10; ``tz``: the athlete's time zone (the row's local
    ``day``). Raises :class:`SourceError` (one line naming the
    leg or file and the reason) for a missing leg, an unreadable file or a test that cannot
    be analysed (too low a rate, wrong placement, no hops or reps found).
    """
    if pain is not None and not (math.isfinite(pain) and 0 <= pain <= 10):
        raise SourceError(f"pain must be between 0 and 10, not {pain}")
    paths = {"L": left_path, "R": right_path}
    recs, data = {}, {}
    for leg, p in paths.items():
        if p is None:
            raise SourceError(f"{kind} test: the {LEGS[leg]} leg's recording is missing")
        path = Path(p)
        try:
            data[leg] = path.read_bytes()
            recs[leg] = read_recording(path, start_utc=start)
        except ImuFormatError as exc:
            raise SourceError(f"{LEGS[leg]} leg: {exc}") from None
        except OSError as exc:
            raise SourceError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        res = analyse_test(kind, recs["L"].frame, recs["R"].frame, placement, involved)
    except ReadinessError as exc:
        raise SourceError(str(exc)) from None
    t0 = min(pd.Timestamp(r.start_utc).tz_convert("UTC") for r in recs.values())
    warnings = [f"{LEGS[leg]} leg: {w}" for leg, r in recs.items() for w in r.warnings]
    warnings += res.warnings
    return IngestedSource(
        kind=f"{ReadinessSource.name}:{res.kind}",
        identity=readiness_identity(res.kind, data["L"], data["R"]),
        path=f"{paths['L']} + {paths['R']}",
        sessions=[],
        n_records=int(sum(len(r.frame) for r in recs.values())),
        athlete=athlete,
        warnings=warnings,
        label=f"{res.kind} test",
        extras=[ReadinessExtra(res, t0, pain, tz)],
    )
