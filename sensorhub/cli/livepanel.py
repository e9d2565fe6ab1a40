"""The live panel of ``sensorhub collect``: what each device and athlete is doing now."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from rich.table import Table

from ..collect import Collector
from ..live import LiveSink

WINDOW_S = 30.0  # the figures shown are over the last 30 s


def replay_clock(speedup: float) -> Callable[[], int]:
    """Arrival clock (Unix ns) running ``speedup`` times faster than real time, for collecting
    from an emulator that replays faster than real time (its timeline, not the wall's)."""
    if speedup == 1.0:
        return time.time_ns
    t0, m0 = time.time_ns(), time.monotonic_ns()
    return lambda: t0 + int((time.monotonic_ns() - m0) * speedup)


def pace(speed_mps: float) -> str:
    """min:ss per km, or - when standing."""
    if not np.isfinite(speed_mps) or speed_mps < 0.5:
        return "-"
    s = 1000.0 / speed_mps
    return f"{int(s // 60)}:{int(s % 60):02d}/km"


class LivePanel:
    """Renders a table from the collector's counters and the sink's running figures."""

    def __init__(self, collector: Collector, sink: LiveSink) -> None:
        self.collector, self.sink = collector, sink
        self._last: dict[str, tuple[float, int]] = {}

    def devices(self) -> Table:
        t = Table(title="devices", expand=False)
        for c in ("device", "kind", "athlete", "state", "samples/s", "malformed", "connects"):
            t.add_column(
                c, justify="left" if c in ("device", "kind", "athlete", "state") else "right"
            )
        now = time.monotonic()
        for d in self.collector.devices:
            st = self.collector.stats[d.match]
            t0, n0 = self._last.get(d.match, (now, st.samples))
            rate = (st.samples - n0) / (now - t0) if now > t0 else 0.0
            self._last[d.match] = (now, st.samples)
            state = "connected" if st.connected else ("searching" if not st.connects else "lost")
            t.add_row(
                d.match,
                d.kind,
                d.athlete,
                state,
                f"{rate:.0f}",
                str(st.parse_errors),
                str(st.connects),
            )
        return t

    def athletes(self) -> Table:
        t = Table(title=f"athletes (last {WINDOW_S:.0f} s)", expand=False)
        for c in ("athlete", "HR", "pace", "cadence", "GCT L", "GCT R", "balance L", "steps"):
            t.add_column(c, justify="left" if c == "athlete" else "right")
        for name, a in self.sink.athletes.items():
            run = a.run.frame()
            recent = (
                run[run.index >= run.index.max() - pd.Timedelta(seconds=WINDOW_S)]
                if len(run)
                else run
            )
            asym = a.steps.rolling_asymmetry()
            t.add_row(
                name,
                _num(recent, "hr_bpm", "{:.0f}"),
                pace(recent["speed_mps"].mean()) if "speed_mps" in recent else "-",
                _num(recent, "cadence_spm", "{:.0f}"),
                _fmt(asym.get("gct_ms_left"), "{:.0f} ms"),
                _fmt(asym.get("gct_ms_right"), "{:.0f} ms"),
                _fmt(asym.get("gct_balance_left_pct"), "{:.1f} %"),
                str(len(a.steps.steps)),
            )
        return t

    def render(self) -> Table:
        grid = Table.grid(padding=(0, 2))
        grid.add_row(self.devices())
        grid.add_row(self.athletes())
        return grid


def _num(frame, col: str, fmt: str) -> str:
    if col not in frame or frame[col].dropna().empty:
        return "-"
    return fmt.format(frame[col].mean())


def _fmt(v: float | None, fmt: str) -> str:
    return fmt.format(v) if v is not None and np.isfinite(v) else "-"
