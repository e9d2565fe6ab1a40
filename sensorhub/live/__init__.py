"""Live Bluetooth LE sessions: collector samples -> run/stride points -> outbox -> InfluxDB.

- :class:`LiveSink` — the collector's sink: per-second ``run`` series from RSC/HR,
  streaming gait from PMD ACC, rolling asymmetry, session close.
- :class:`OutboxWriter` — journal outbox + periodic InfluxDB flush on a background thread.
- :class:`RunSeries`, :class:`PodStream`, :class:`StepStream` — the building blocks.
"""

from .gait import Contact, PodStream, SensorClock, Step, StepStream, parse_placement
from .runseries import RunSeries
from .sink import LiveSink, SessionReport
from .writer import OutboxWriter, WriterStats

__all__ = [
    "Contact",
    "LiveSink",
    "OutboxWriter",
    "PodStream",
    "RunSeries",
    "SensorClock",
    "SessionReport",
    "Step",
    "StepStream",
    "WriterStats",
    "parse_placement",
]
