"""Garmin Training Center XML (TCX) → :class:`TrackActivity`, one per ``<Activity>``.

Read with lxml directly rather than tcxreader or python-tcxparser. Measured with
benchmarks/track.py (best of 7, same process; two runs on a loaded shared 2-core machine, so
ranges): on GPSBabel's gtrnctr-lap_s.tcx (636 kB, 940 points), history.tcx (667 kB, 1 205
points) and a synthetic 3 h run (4.3 MB, 10 800 points), tcxreader takes 1.5–3.7× the time
of :func:`read_tcx` (ElementTree + up to four ``strptime`` tries per point; 3.2–3.7× on the
3 h file), and python-tcxparser 0.5–1.5× (it only builds HR, time and position lists, not a
frame). Speed is not why tcxparser loses; what it and tcxreader cannot do is:

- bytes in (both take a path or file), several activities per file (tcxreader keeps the
  last ``Sport`` for all; tcxparser reads the first activity's laps only);
- values aligned per trackpoint (tcxparser returns each field as its own list, so a point
  without HR shifts every later value);
- namespace-agnostic: elements are matched by local name, so ``TrainingCenterDatabase/v2``,
  ``ActivityExtension/v2`` under any prefix (``ns3:TPX``, a default ``xmlns`` on ``TPX``)
  and writers that put the extension in another namespace all read the same;
- no silent drops: tcxreader drops points without a position by default and skips laps
  without points; here a point without a time is the only one left out (and counted).

TCX reference: Garmin's TrainingCenterDatabasev2.xsd and ActivityExtensionv2.xsd
(``TPX``: ``Speed`` m/s, ``RunCadence`` strides/min, ``Watts``; ``LX``: ``AvgSpeed``,
``AvgRunCadence``, ``MaxRunCadence``, ``Steps``, ``AvgWatts``, ``MaxWatts``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from lxml import etree

from .model import (
    RUNNING_SPORTS,
    TrackActivity,
    TrackError,
    build_records,
    cadence_column,
    drop_sentinels,
    empty_laps,
    to_float,
)
from .xml import local, parse_xml

#: TCX ``Sport`` (Running|Biking|Other in the schema; other writers use more) → FIT sport.
TCX_SPORTS = {
    "running": "running",
    "run": "running",
    "biking": "cycling",
    "cycling": "cycling",
    "bike": "cycling",
    "walking": "walking",
    "hiking": "hiking",
    "swimming": "swimming",
    "other": "generic",
}


def read_tcx(data: bytes) -> list[TrackActivity]:
    """Every recorded activity of a TCX file, in file order.

    Raises TrackError (one line) for corrupt XML, a file that is not TCX, and a file with
    no activity that has timed trackpoints ("no activity: …", e.g. a course file).
    """
    root = parse_xml(data)
    if local(root.tag) != "TrainingCenterDatabase":
        raise TrackError(f"not a TCX file: root element is <{local(root.tag)}>")
    nodes = list(root.iter("{*}Activity"))
    found = [a for a in (_activity(n) for n in nodes) if a is not None]
    if not found:
        if next(root.iter("{*}Course"), None) is not None:
            raise TrackError("no activity: TCX holds courses only (planned routes, not recordings)")
        if nodes:
            raise TrackError("no activity: no <Activity> has a trackpoint with a time")
        raise TrackError("no activity: TCX has no <Activity>")
    if len(found) < len(nodes):
        for act in found:
            act.warnings.append(
                f"{len(nodes) - len(found)} activities without timed points skipped"
            )
    return found


def _activity(node: etree._Element) -> TrackActivity | None:
    """One ``<Activity>``, or None when it has no trackpoint with a time."""
    warnings: list[str] = []
    raw_sport = node.get("Sport") or ""
    sport = TCX_SPORTS.get(raw_sport.strip().lower())
    if sport is None:
        sport = "generic"
        warnings.append(f"unknown TCX Sport {raw_sport!r}: read as generic")
    points = _Points(sport)
    laps = []
    for lap in node.iterchildren("{*}Lap"):
        laps.append(_lap(lap, sport))
        for track in lap.iterchildren("{*}Track"):
            points.add_track(track)
    times, cols = points.frame()
    if not times.notna().any():
        return None
    records, warn = build_records(times, cols)
    if records.empty:
        return None
    warnings += warn
    if sport == "generic" and "cadence_rpm" in records:
        warnings.append("sport unknown: <Cadence> kept as recorded in cadence_rpm")
    return TrackActivity(
        sport=sport,
        start=records.index[0],
        records=records,
        laps=_lap_frame(laps, warnings),
        device=_text(node, "Creator", "Name")
        or _text(node.getroottree().getroot(), "Author", "Name"),
        activity_id=_text(node, "Id") or records.index[0].isoformat(),
        warnings=warnings,
    )


# Trackpoint descendant (local name) → raw key. Inside a Trackpoint the only <Value> is the
# heart rate's (HeartRateBpm/Value); Speed, RunCadence and Watts are the TPX extension's.
_POINT_KEYS = {
    "Time": "time",
    "LatitudeDegrees": "lat_deg",
    "LongitudeDegrees": "lon_deg",
    "AltitudeMeters": "altitude_m",
    "DistanceMeters": "distance_m",
    "Value": "hr_bpm",
    "Cadence": "cadence",
    "Speed": "speed_mps",
    "RunCadence": "runcad",
    "Watts": "power_w",
}
_KEYS = list(_POINT_KEYS.values())


class _Points:
    """Raw text of each trackpoint's fields; numbers are converted once per column."""

    _TAGS = ["{*}Trackpoint"] + [f"{{*}}{name}" for name in _POINT_KEYS]

    def __init__(self, sport: str) -> None:
        self.running = sport in RUNNING_SPORTS
        self.rows: list[dict[str, str | None]] = []
        self._keys: dict[object, str] = {}  # full tag → raw key ("" = Trackpoint), per file

    def add_track(self, track: etree._Element) -> None:
        """Every trackpoint of a ``<Track>``, in one C-level walk over the wanted tags only.

        This loop is most of the reader's time: lxml makes an element object only for the
        tags asked for, and the tag → key cache keeps the Python work per element to one
        dict lookup and one store.
        """
        keys, rows = self._keys, self.rows
        row: dict[str, str | None] | None = None
        for el in track.iter(*self._TAGS):
            key = keys.get(el.tag)
            if key is None:
                key = keys[el.tag] = _POINT_KEYS.get(local(el.tag), "")
            if not key:
                row = {}
                rows.append(row)
            elif row is not None:
                row[key] = el.text

    def frame(self) -> tuple[pd.Series, dict[str, np.ndarray]]:
        """(time text, output columns); RunCadence (strides/min) wins for steps/min."""
        num = {k: _numbers([r.get(k) for r in self.rows]) for k in _KEYS[1:]}
        out = {k: v for k, v in num.items() if k not in ("cadence", "runcad")}
        runcad, cad = num["runcad"], num["cadence"]
        per_foot = np.where(np.isfinite(runcad), runcad, cad if self.running else np.nan)
        out["cadence_spm"] = 2.0 * per_foot
        out["cadence_rpm"] = np.full(len(cad), np.nan) if self.running else cad
        times = pd.Series([r.get("time") for r in self.rows], dtype="string").str.strip()
        return times, out


def _numbers(texts: list[str | None]) -> np.ndarray:
    """Floats from XML texts; missing or unreadable → NaN."""
    try:
        return np.array(texts, dtype=float)  # C fast path: every point has the field
    except (TypeError, ValueError):
        return pd.to_numeric(pd.Series(texts, dtype=object), errors="coerce").to_numpy(float)


def _lap(lap: etree._Element, sport: str) -> dict[str, object]:
    """One ``<Lap>`` as a row: schema fields and the LX extension, SI-named."""
    cad_col, factor = cadence_column(sport)
    row: dict[str, object] = {"start": lap.get("StartTime")}
    simple = {
        "TotalTimeSeconds": ("duration_s", 1.0),
        "DistanceMeters": ("distance_m", 1.0),
        "MaximumSpeed": ("speed_max_mps", 1.0),
        "Calories": ("energy_kcal", 1.0),
        "Cadence": (cad_col.replace("cadence_", "cadence_avg_"), factor),
    }
    lx = {
        "AvgSpeed": ("speed_avg_mps", 1.0),
        "AvgRunCadence": ("cadence_avg_spm", 2.0),
        "MaxRunCadence": ("cadence_max_spm", 2.0),
        "Steps": ("steps", 1.0),
        "AvgWatts": ("power_avg_w", 1.0),
        "MaxWatts": ("power_max_w", 1.0),
    }
    for child in lap:
        name = local(child.tag)
        if name in simple:
            col, f = simple[name]
            value = to_float(child.text)
            row[col] = None if value is None else value * f
        elif name == "AverageHeartRateBpm":
            row["hr_avg_bpm"] = _value(child)
        elif name == "MaximumHeartRateBpm":
            row["hr_max_bpm"] = _value(child)
        elif name in ("Intensity", "TriggerMethod"):
            row[name.lower().replace("method", "")] = (child.text or "").strip() or None
        elif name == "Extensions":
            for ext in child.iter():
                if local(ext.tag) in lx:
                    col, f = lx[local(ext.tag)]
                    value = to_float(ext.text)
                    row[col] = None if value is None else value * f
    return row


def _lap_frame(rows: list[dict[str, object]], warnings: list[str]) -> pd.DataFrame:
    if not rows:
        return empty_laps()
    laps = pd.DataFrame(rows)
    warnings += [f"laps: {w}" for w in drop_sentinels(laps)]
    laps["start"] = pd.to_datetime(laps["start"], utc=True, errors="coerce", format="ISO8601")
    laps["start"] = laps["start"].dt.as_unit("ns")
    return laps.dropna(axis=1, how="all")


def _value(node: etree._Element) -> float | None:
    """``<X><Value>n</Value></X>`` (TCX v2), or the element's own text."""
    for child in node:
        if local(child.tag) == "Value":
            return to_float(child.text)
    return to_float(node.text)


def _text(node: etree._Element, *path: str) -> str | None:
    """Stripped text of the first child chain ``path`` (local names), or None."""
    for name in path:
        node = next(node.iterchildren(f"{{*}}{name}"), None)
        if node is None:
            return None
    return (node.text or "").strip() or None
