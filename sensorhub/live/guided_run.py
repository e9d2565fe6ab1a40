"""Run a guided readiness test live: one IMU pod (Polar PMD) through the collector, the prompts
and running counts of :mod:`sensorhub.readiness.guided`, and each leg's recording at the end.

The collector connects to the pod and streams ACC (and GYRO when the pod offers it); every
frame's arrival time (the collector clock, Unix ns) says which leg's window it belongs to and
its sensor timestamps give the samples' times. Nothing is stored here: the caller writes the
recordings and stores them through the file path (``sensorhub.cli.readiness``).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..collect import Backoff, Collector, DeviceSpec, Sample
from ..collect.transport import Transport
from ..readiness.guided import LEG_WORDS, GuidedTest, Prompt, check_rate, warm_up

POLL_S = 0.02  # real seconds between polls of the schedule


class LiveTestError(Exception):
    """A live test that cannot go on (pod not found, too slow a stream, link lost)."""


class _Tap:
    """The collector's sink: PMD frames with their arrival time, taken by the runner."""

    def __init__(self) -> None:
        self.pending: list[tuple[int, Any]] = []

    async def handle(self, sample: Sample) -> None:
        if sample.kind == "pmd":
            self.pending.append((sample.t_arrival_ns, sample.parsed))

    def take(self) -> list[tuple[int, Any]]:
        out, self.pending = self.pending, []
        return out


@dataclass
class LiveRecording:
    """What a guided test recorded: ``frames`` {"L", "R"} (``t_s``, ``acc_*_g`` [+ gyro]),
    ``starts`` {"L", "R"} (UTC of each leg's first sample, on the collector clock),
    ``fs_hz`` (the pod's ACC rate) and the :class:`GuidedTest` (final counts)."""

    guided: GuidedTest
    frames: dict[str, pd.DataFrame]
    starts: dict[str, pd.Timestamp]
    fs_hz: float


@dataclass
class _Run:
    kind: str
    pod: DeviceSpec
    guided: GuidedTest
    collector: Collector
    tap: _Tap
    speedup: float
    fs_hz: float = 0.0
    base_ns: int | None = None

    def __post_init__(self) -> None:
        self.starts: dict[str, pd.Timestamp] = {}

    def frames_in(self) -> list[Prompt]:
        """Hand the frames that arrived to the schedule; count prompts that result."""
        out: list[Prompt] = []
        for t_arr, frame in self.tap.take():
            if len(frame) == 0:
                continue
            if self.base_ns is None:  # sensor times relative to the pod's first sample
                self.base_ns = int(frame.t_ns[0])
            t_s = (np.asarray(frame.t_ns, np.int64) - self.base_ns) / 1e9
            arrival = t_arr / 1e9
            if frame.unit == "g":
                self._check_rate(frame)
                leg = self.guided.leg_at(arrival) if self.guided.started else None
                if leg and leg not in self.starts:
                    span_ns = int(frame.t_ns[-1] - frame.t_ns[0])
                    self.starts[leg] = pd.Timestamp(t_arr - span_ns, unit="ns", tz="UTC")
                if self.guided.started:
                    out += self.guided.feed_acc(arrival, t_s, frame.xyz)
            elif self.guided.started:
                self.guided.feed_gyr(arrival, t_s, frame.xyz)
        return out

    def _check_rate(self, frame: Any) -> None:
        if self.fs_hz or len(frame) < 2:
            return
        self.fs_hz = 1e9 / float(np.median(np.diff(np.asarray(frame.t_ns, np.int64))))
        try:
            check_rate(self.kind, self.fs_hz, self.pod.match)
        except ValueError as exc:
            raise LiveTestError(str(exc)) from None


async def _show(show: Callable[[Prompt], Any], prompt: Prompt) -> None:
    result = show(prompt)
    if inspect.isawaitable(result):
        await result


async def _wait_connected(run: _Run, timeout_s: float) -> None:
    st = run.collector.stats[run.pod.match]
    end = time.monotonic() + timeout_s
    while not st.connected:
        if time.monotonic() > end:
            why = f" ({st.last_error})" if st.last_error else ""
            raise LiveTestError(
                f"{run.kind} test: pod {run.pod.match!r} did not connect within {timeout_s:g} s{why}"
            )
        await asyncio.sleep(POLL_S)


async def _wait_stream(run: _Run, wait_s: float) -> None:
    """Until the first ACC frame told the rate (a real pod streams once started; an emulator
    may stay silent until the cue: then the rate is checked on its first frame)."""
    end = time.monotonic() + wait_s / run.speedup
    while not run.fs_hz and time.monotonic() < end:
        run.frames_in()
        await asyncio.sleep(POLL_S)


async def _guide(run: _Run, show: Callable[[Prompt], Any]) -> None:
    st = run.collector.stats[run.pod.match]
    drops = st.disconnects
    run.guided.start()
    while not run.guided.done:
        for p in run.guided.poll():
            await _show(show, p)
        for p in run.frames_in():
            await _show(show, p)
        leg = run.guided.recording
        if leg and (st.disconnects != drops or not st.connected):
            raise LiveTestError(
                f"{run.kind} test: pod {run.pod.match!r} disconnected during the "
                f"{LEG_WORDS[leg]} leg; nothing stored"
            )
        await asyncio.sleep(POLL_S)


def _check_legs(run: _Run) -> None:
    for leg, counter in run.guided.legs.items():
        if counter.n_samples < 10:
            raise LiveTestError(
                f"{run.kind} test: no samples from pod {run.pod.match!r} during the "
                f"{LEG_WORDS[leg]} leg; nothing stored"
            )


async def run_guided(
    kind: str,
    placement: str,
    pod: DeviceSpec,
    transport: Transport,
    show: Callable[[Prompt], Any],
    *,
    seconds: float | None = None,
    rest_s: float = 10.0,
    clock_ns: Callable[[], int] = time.time_ns,
    speedup: float = 1.0,
    connect_timeout_s: float = 20.0,
    stream_wait_s: float = 2.0,
) -> LiveRecording:
    """Connect to ``pod`` over ``transport``, guide both legs (``show`` gets each
    :class:`Prompt`, sync or async) and return the :class:`LiveRecording`.

    ``clock_ns``: the collector's arrival clock (Unix ns); ``speedup``: how much faster than
    real time it runs (collecting from ``sensorhub emulate --speedup N``), so the schedule
    (countdown, windows) runs on the pod's timeline; ``connect_timeout_s`` real seconds to
    find and connect the pod; ``stream_wait_s`` (pod timeline) to wait for the first frame
    before the countdown. Raises :class:`LiveTestError` (one line) when it cannot go on.
    """
    guided = GuidedTest(kind, placement, seconds, rest_s=rest_s, clock=lambda: clock_ns() / 1e9)
    tap = _Tap()
    backoff = Backoff(initial_s=0.2, factor=2.0, max_s=2.0)
    collector = Collector(
        transport, [pod], tap, clock=clock_ns, backoff=backoff, scan_timeout_s=connect_timeout_s
    )
    run = _Run(kind, pod, guided, collector, tap, speedup)
    warm_up(kind, placement)  # before streaming: the first count must not stall the stream
    try:
        await collector.start()
    except Exception as exc:  # the OS stack or the dongle said no: bleak/bumble raise many kinds
        await collector.stop()
        raise LiveTestError(f"{kind} test: Bluetooth did not start ({exc})") from None
    try:
        await _wait_connected(run, connect_timeout_s)
        await _wait_stream(run, stream_wait_s)
        await _guide(run, show)
    finally:
        await collector.stop()
    _check_legs(run)
    return LiveRecording(guided, guided.frames(), dict(run.starts), run.fs_hz)
