"""Self-contained HTML reports (inline SVG, no JavaScript, no CDN): ``sensorhub report``."""

from .build import range_report, session_report
from .svg import Chart

__all__ = ["Chart", "range_report", "session_report"]
