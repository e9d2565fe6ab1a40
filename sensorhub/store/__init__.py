"""Storage: the local journal (SQLite) with its outbox, and the InfluxDB writer."""

from .influx import FlushReport, InfluxWriter
from .journal import Journal
from .lineprotocol import frame_to_lines, point_line

__all__ = ["Journal", "InfluxWriter", "FlushReport", "frame_to_lines", "point_line"]
