"""Write small FIT running files for tests with fit-tool (an independent FIT encoder)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fit_tool.fit_file_builder import FitFileBuilder
from fit_tool.profile.messages.file_id_message import FileIdMessage
from fit_tool.profile.messages.record_message import RecordMessage
from fit_tool.profile.messages.session_message import SessionMessage
from fit_tool.profile.profile_type import FileType, Manufacturer, Sport


def write_run(
    path: Path,
    times_s: Sequence[float],
    t0_ms: int = 1_767_000_000_000,
    hr: float = 150,
    cadence: int = 85,
    balance: float = 50.0,
    serial: int = 1234567,
    with_session: bool = True,
    session_span_s: tuple[float, float] | None = None,
) -> Path:
    """A running activity with one record per entry of ``times_s`` (seconds after ``t0_ms``).

    Records carry HR, cadence 85 strides/min (170 steps/min), stance time 250 ms and the given
    GCT balance; ``times_s`` may go backwards or jump, which is the point of some tests.
    """
    b = FitFileBuilder(auto_define=True, min_string_size=0)
    fid = FileIdMessage()
    fid.type = FileType.ACTIVITY
    fid.manufacturer = Manufacturer.DEVELOPMENT.value
    fid.product = 1
    fid.serial_number = serial
    fid.time_created = t0_ms
    b.add(fid)
    for i, t in enumerate(times_s):
        r = RecordMessage()
        r.timestamp = t0_ms + int(t * 1000)
        r.heart_rate = int(hr)
        r.cadence = cadence
        r.stance_time = 250.0
        r.stance_time_balance = balance
        r.speed = 3.0
        r.distance = 3.0 * i
        b.add(r)
    if with_session:
        first, last = session_span_s or (min(times_s), max(times_s))
        s = SessionMessage()
        s.timestamp = t0_ms + int(last * 1000)
        s.start_time = t0_ms + int(first * 1000)
        s.total_elapsed_time = float(last - first)
        s.total_timer_time = float(last - first)
        s.total_distance = 3.0 * (len(times_s) - 1)
        s.sport = Sport.RUNNING
        b.add(s)
    path.write_bytes(b.build().to_bytes())
    return path
