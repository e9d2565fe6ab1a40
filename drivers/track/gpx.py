"""GPX 1.0/1.1 → :class:`TrackActivity`, one per ``<trk>`` with timed points (gpxpy).

gpxpy reads the document (versions 1.0 and 1.1, segments, times with any offset); this
module maps each track's points to the SI frame. Extensions are matched by local name in
any namespace, so Garmin TrackPointExtension v1 and v2 (``hr``, ``cad``, ``atemp``, v2
``speed``), Cluetrust gpxdata (``hr``, ``cadence``, ``temp``, ``distance``) and Strava's bare
``<power>`` read alike. All segments of a track are one activity (a new segment is a pause).
"""

from __future__ import annotations

import re

import gpxpy
import gpxpy.gpx

from .model import (
    TrackActivity,
    TrackError,
    build_records,
    cadence_column,
    empty_laps,
    to_float,
)
from .xml import local, one_line, parse_xml

#: GPX ``<type>`` → FIT sport. Garmin Connect writes FIT-like names (``running``,
#: ``trail_running``, ``road_biking``...); Strava writes its numeric activity type
#: (``9`` = Run, ``1`` = Ride) or a name; other apps write ``Run``/``Ride``/``Walk``.
GPX_SPORTS = {
    "running": "running",
    "run": "running",
    "trail_running": "running",
    "treadmill_running": "running",
    "street_running": "running",
    "track_running": "running",
    "virtual_run": "running",
    "9": "running",
    "cycling": "cycling",
    "ride": "cycling",
    "biking": "cycling",
    "road_biking": "cycling",
    "mountain_biking": "cycling",
    "gravel_cycling": "cycling",
    "indoor_cycling": "cycling",
    "virtual_ride": "cycling",
    "1": "cycling",
    "walking": "walking",
    "walk": "walking",
    "casual_walking": "walking",
    "speed_walking": "walking",
    "hiking": "hiking",
    "hike": "hiking",
    "swimming": "swimming",
    "swim": "swimming",
    "open_water_swimming": "swimming",
}

# Extension element local name → raw key (first one present in a point wins).
_EXT_FIELDS = {
    "hr": "hr_bpm",
    "heartrate": "hr_bpm",
    "cad": "cadence",
    "cadence": "cadence",
    "power": "power_w",
    "watts": "power_w",
    "atemp": "temperature_c",
    "temp": "temperature_c",
    "speed": "speed_mps",
    "distance": "distance_m",
}
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding=["']([A-Za-z0-9._-]+)["']""")


def read_gpx(data: bytes) -> list[TrackActivity]:
    """Every track with timed points of a GPX file, in file order.

    Raises TrackError (one line) for corrupt XML, a file that is not GPX, and a file whose
    tracks have no times ("no activity: …": routes, waypoints, or a track without times).
    """
    doc = _parse(data)
    found = [a for a in (_track(doc, trk) for trk in doc.tracks) if a is not None]
    if found:
        return found
    if doc.tracks and any(seg.points for trk in doc.tracks for seg in trk.segments):
        raise TrackError("no activity: GPX track points have no times")
    if doc.routes:
        raise TrackError("no activity: GPX holds routes only (planned, no times)")
    if doc.waypoints:
        raise TrackError("no activity: GPX holds waypoints only")
    raise TrackError("no activity: GPX has no track points")


def _parse(data: bytes) -> gpxpy.gpx.GPX:
    """gpxpy's document, after a safe pre-parse that gives clear one-line errors."""
    if _ENTITY.search(data[:65536]):
        raise TrackError("refused: XML declares entities (never needed by GPX)")
    root = parse_xml(data)  # syntax check with entities and network off
    if local(root.tag) != "gpx":
        raise TrackError(f"not a GPX file: root element is <{local(root.tag)}>")
    try:
        return gpxpy.parse(_as_text(data))
    except Exception as exc:  # gpxpy raises GPXException, ValueError, TypeError... on bad values
        raise TrackError(f"unreadable GPX: {one_line(exc)}") from None


def _as_text(data: bytes) -> str:
    """``data`` as text, honouring the declared encoding (gpxpy alone assumes UTF-8)."""
    m = _ENCODING.match(data.removeprefix(b"\xef\xbb\xbf"))
    encoding = m.group(1).decode() if m else "utf-8"
    try:
        text = data.decode("utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding)
    except (LookupError, UnicodeDecodeError) as exc:
        raise TrackError(f"corrupt XML: cannot decode as {encoding}: {one_line(exc)}") from None
    # gpxpy hands the text to lxml as UTF-8: the declaration must say so.
    return re.sub(r"""^(\s*<\?xml[^>]*encoding=["'])[^"']+""", r"\1UTF-8", text, count=1)


def _track(doc: gpxpy.gpx.GPX, trk: gpxpy.gpx.GPXTrack) -> TrackActivity | None:
    """One ``<trk>``, or None when none of its points has a time."""
    warnings: list[str] = []
    raw_type = (trk.type or "").strip()
    sport = GPX_SPORTS.get(raw_type.lower(), "generic")
    if raw_type and raw_type.lower() not in GPX_SPORTS:
        warnings.append(f"unknown GPX type {raw_type!r}: read as generic")
    points = [p for seg in trk.segments for p in seg.points]
    if not any(p.time for p in points):
        return None
    cols, has_cad = _columns(points, sport)
    records, warn = build_records([p.time for p in points], cols)
    if records.empty:
        return None
    warnings += warn
    if has_cad and sport == "generic":
        warnings.append("sport unknown: cadence kept as recorded in cadence_rpm")
    return TrackActivity(
        sport=sport,
        start=records.index[0],
        records=records,
        laps=empty_laps(),
        device=(doc.creator or "").strip() or None,
        activity_id=(trk.name or "").strip() or records.index[0].isoformat(),
        warnings=warnings,
    )


def _columns(
    points: list[gpxpy.gpx.GPXTrackPoint], sport: str
) -> tuple[dict[str, list[float | None]], bool]:
    """Per-point columns of a track, and whether any point had a cadence."""
    keys = ("lat_deg", "lon_deg", "altitude_m", "distance_m", "speed_mps", "hr_bpm")
    cols: dict[str, list[float | None]] = {
        k: [] for k in keys + ("cadence", "power_w", "temperature_c")
    }
    for p in points:
        ext = _extensions(p)
        cols["lat_deg"].append(p.latitude)
        cols["lon_deg"].append(p.longitude)
        cols["altitude_m"].append(p.elevation)
        speed = ext.get("speed_mps")
        cols["speed_mps"].append(speed if speed is not None else p.speed)
        for key in ("distance_m", "hr_bpm", "cadence", "power_w", "temperature_c"):
            cols[key].append(ext.get(key))
    cad = cols.pop("cadence")
    col, factor = cadence_column(sport)
    cols[col] = [None if c is None else c * factor for c in cad]
    return cols, any(c is not None for c in cad)


def _extensions(point: gpxpy.gpx.GPXTrackPoint) -> dict[str, float | None]:
    """Known extension values of a point, matched by local name at any depth."""
    out: dict[str, float | None] = {}
    for ext in point.extensions:
        for el in ext.iter():
            key = _EXT_FIELDS.get(local(el.tag).lower())
            if key and out.get(key) is None:
                out[key] = to_float(el.text)
    return out
