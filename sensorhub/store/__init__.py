"""Storage: the local journal (SQLite) with its outbox, and the InfluxDB writer."""

from .influx import FlushReport, InfluxWriter
from .journal import Journal, SessionRow, StoreError
from .lineprotocol import frame_to_lines, point_line

__all__ = [
    "FlushReport",
    "InfluxWriter",
    "Journal",
    "SessionRow",
    "StoreError",
    "frame_to_lines",
    "point_line",
]
