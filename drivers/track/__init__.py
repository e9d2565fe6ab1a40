"""TCX and GPX activity files → :class:`TrackActivity` (per-point frame in SI units, laps).

Pure drivers: bytes in, dataclasses and DataFrames out; they never import :mod:`sensorhub`.

- :func:`read_tcx` — Garmin Training Center XML (lxml; tcx.py says why not tcxreader).
- :func:`read_gpx` — GPX 1.0/1.1 with Garmin/Cluetrust extensions (gpxpy).
- :func:`read_track` — either, chosen by suffix (``.tcx``/``.gpx``) or by the root element.

Any failure is a :class:`TrackError` whose message is one line.
"""

from __future__ import annotations

from .gpx import read_gpx
from .model import TrackActivity, TrackError, haversine_m
from .tcx import read_tcx
from .xml import local, parse_xml

__all__ = ["TrackActivity", "TrackError", "haversine_m", "read_gpx", "read_tcx", "read_track"]


def read_track(data: bytes, suffix: str | None = None) -> list[TrackActivity]:
    """Read a TCX or GPX file: by ``suffix`` (".tcx", ".gpx") when given, else by its root."""
    kind = (suffix or "").lower().lstrip(".")
    if kind not in ("tcx", "gpx"):
        kind = "gpx" if local(parse_xml(data).tag) == "gpx" else "tcx"
    return read_tcx(data) if kind == "tcx" else read_gpx(data)
