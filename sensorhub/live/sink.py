"""The live session sink: collector samples -> ``run`` and ``stride`` points, live asymmetry,
and a clean session close (journal rows, ``session`` point, daily load, flush).

Typical use (what ``sensorhub collect`` does)::

    sink = LiveSink(cfg, devices)
    await sink.start()
    await Collector(transport, devices, sink).run(duration_s)
    report = await sink.close()
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..alerts import AlertEngine
from ..collect import DeviceSpec, Sample
from ..config import Config
from ..recompute import Recompute
from ..recorder import Recorder, session_id
from ..sources.live import live_source
from ..store.lineprotocol import epoch_ms, line_at, series_key
from .gait import NS, PodStream, Step, StepStream, parse_placement
from .runseries import RunSeries
from .writer import OutboxWriter

log = logging.getLogger(__name__)

WindowCallback = Callable[[str, dict[str, float]], Any]


@dataclass
class AthleteSession:
    """What one athlete's live session has gathered so far."""

    athlete: str
    run: RunSeries
    steps: StepStream
    first_ns: int | None = None
    last_ns: int | None = None
    samples: dict[str, int] = field(default_factory=dict)

    def seen(self, kind: str, t_ns: int) -> None:
        self.first_ns = t_ns if self.first_ns is None else min(self.first_ns, t_ns)
        self.last_ns = t_ns if self.last_ns is None else max(self.last_ns, t_ns)
        self.samples[kind] = self.samples.get(kind, 0) + 1


@dataclass
class SessionReport:
    athlete: str
    session: dict[str, Any]
    samples: dict[str, int]
    run_points: int
    steps: int


class LiveSink:
    """Receives :class:`~sensorhub.collect.Sample` s (``await handle(sample)``).

    Args:
        cfg: configuration (journal in ``cfg.home``; InfluxDB when configured).
        devices: the collector's devices (IMU pods are registered per athlete up front).
        flush_interval_s: outbox tick (journal + InfluxDB), seconds.
        on_window: called ``(athlete, rolling_asymmetry)`` after each batch of new steps.
        alerts_every_s: how often the live alert rules of :mod:`sensorhub.alerts`
            (``AlertEngine.evaluate_live``, GCT balance over the rolling window) run per
            athlete, on the writer thread; 0 turns them off.
        gait: settings for :class:`PodStream` (``window_s``, ``hop_s``, ``settle_s``...).
    """

    def __init__(
        self,
        cfg: Config,
        devices: Iterable[DeviceSpec] = (),
        flush_interval_s: float = 0.5,
        on_window: WindowCallback | None = None,
        sport: str = "running",
        alerts_every_s: float = 5.0,
        **gait: Any,
    ) -> None:
        self.cfg = cfg
        self.sport = sport
        self.writer = OutboxWriter(cfg, flush_interval_s)
        self.on_window = on_window
        self.alerts_every_s = alerts_every_s
        self._alerts_at: dict[str, float] = {}
        self._alert_engine: Any = None
        self._alert_tasks: set[asyncio.Task] = set()
        self.alerts: list[Any] = []
        self.gait_settings = gait
        self.athletes: dict[str, AthleteSession] = {}
        self.pods: dict[str, PodStream] = {}
        self.stride_points = 0
        for d in devices:
            if d.kind == "pmd":
                self._pod(d)

    # -- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        if self.pods:
            # the detectors import scipy.signal on first use (~1 s, longer on a busy machine):
            # here, before any notification arrives, not in the first detection, which would
            # hold up every notification of every device for that long
            await asyncio.get_running_loop().run_in_executor(None, _warm_up)
        await self.writer.start()

    async def handle(self, sample: Sample) -> None:
        a = self._athlete(sample.device.athlete)
        a.seen(sample.kind, sample.t_arrival_ns)
        if sample.kind == "rsc":
            key, line = a.run.add_rsc(sample.t_arrival_ns, sample.parsed, sample.device.match)
            self.writer.put(key, "run", line, sample.t_arrival_ns, "run")
        elif sample.kind == "hr":
            key, line = a.run.add_hr(sample.t_arrival_ns, sample.parsed)
            self.writer.put(key, "run", line, sample.t_arrival_ns, "run")
        elif sample.kind == "pmd" and sample.parsed.unit == "g":
            pod = self._pod(sample.device)
            if pod is not None:
                contacts = pod.add(sample.parsed.t_ns, sample.parsed.xyz, sample.t_arrival_ns)
                steps = a.steps.add(pod, contacts, sample.t_arrival_ns / NS)
                self._write_steps(a, steps)

    async def close(self) -> list[SessionReport]:
        """End the session: last steps, journal rows, session points, daily load, flush."""
        # steps completed only now (the contacts of the last seconds) count their latency
        # apart: it is the time the session took to stop, not the live path's
        for pod in self.pods.values():
            a = self._athlete(pod.athlete)
            self._write_steps(a, a.steps.add(pod, pod.finish(), time.time()), "stride_end")
        for a in self.athletes.values():
            self._write_steps(a, a.steps.finish(), "stride_end")
        if self._alert_tasks:
            await asyncio.gather(*self._alert_tasks, return_exceptions=True)
        await self.writer.stop()
        reports = await self.writer.call(self._store_sessions)
        await self.writer.tick()
        await self.writer.close()
        return reports

    # -- live values -------------------------------------------------------------------
    def asymmetry(self, athlete: str) -> dict[str, float]:
        """Rolling (last 60 s by default) GCT/flight/step-time SI, SA and balance."""
        a = self.athletes.get(athlete)
        return a.steps.rolling_asymmetry() if a else {}

    # -- internals ---------------------------------------------------------------------
    def _athlete(self, athlete: str) -> AthleteSession:
        a = self.athletes.get(athlete)
        if a is None:
            a = self.athletes[athlete] = AthleteSession(
                athlete, RunSeries(athlete, self.sport), StepStream()
            )
        return a

    def _pod(self, spec: DeviceSpec) -> PodStream | None:
        if spec.match in self.pods:
            return self.pods[spec.match]
        location, side = parse_placement(spec.placement)
        if location is None:
            return None
        pod = PodStream(spec.match, location, side, **self.gait_settings)
        pod.athlete = spec.athlete
        self.pods[spec.match] = pod
        self._athlete(spec.athlete).steps.register(pod)
        return pod

    def _write_steps(self, a: AthleteSession, steps: list[Step], kind: str = "stride") -> None:
        for s in steps:
            c = s.contact
            tags = {"athlete": a.athlete, "side": c.side or "", "placement": c.location}
            ms = epoch_ms(c.ic_s)
            key = series_key("stride", tags)
            line = line_at(key, s.fields(), ms)
            if line is None:
                continue
            self.writer.put(
                ("stride", key, ms), "stride", line, int(s.end_s * NS), kind, urgent=True
            )
            self.stride_points += 1
        if steps and self.on_window is not None:
            try:
                self.on_window(a.athlete, a.steps.rolling_asymmetry())
            except Exception:  # noqa: BLE001 - an alert rule must not stop collection
                log.exception("live window callback failed")
        if steps and self.alerts_every_s > 0:
            self._schedule_alerts(a, steps[-1].contact.ic_s)

    def _schedule_alerts(self, a: AthleteSession, t_s: float) -> None:
        if t_s - self._alerts_at.get(a.athlete, -np.inf) < self.alerts_every_s:
            return
        self._alerts_at[a.athlete] = t_s
        window = a.steps.frame(list(a.steps.recent))
        window = pd.DataFrame(
            {"side": window["side"].to_numpy(), "gct_ms": window["gct_ms"].to_numpy()},
            index=pd.to_datetime(window["ic_s"], unit="s", utc=True),
        )
        task = asyncio.create_task(
            self.writer.call(lambda journal: self._evaluate_alerts(journal, a.athlete, window))
        )
        self._alert_tasks.add(task)
        task.add_done_callback(self._alert_tasks.discard)

    def _evaluate_alerts(self, journal, athlete: str, window: pd.DataFrame) -> None:
        """Writer thread: the live rules of sensorhub.alerts over the rolling window."""
        try:
            if self._alert_engine is None:
                self._alert_engine = AlertEngine(self.cfg, journal)
            self.alerts += self._alert_engine.evaluate_live(athlete, window)
        except Exception:  # noqa: BLE001 - an alert rule must not stop collection
            log.exception("live alert rules failed")

    def _store_sessions(self, journal) -> list[SessionReport]:
        """Writer thread: each athlete's session through the recorder, then daily load."""
        recorder, recompute = Recorder(self.cfg, journal), Recompute(self.cfg, journal)
        reports = []
        for a in self.athletes.values():
            if a.first_ns is None:
                continue
            start = pd.Timestamp(a.first_ns, unit="ns", tz="UTC").floor("s")
            end = pd.Timestamp(a.last_ns, unit="ns", tz="UTC")
            src = live_source(
                a.athlete, a.run.frame(), a.steps.frame(), start, end, self.sport, _describe(a)
            )
            done = recorder.record(src)
            row = (
                done.sessions[0] if done.sessions else journal.session(session_id(src.identity, 0))
            )
            recompute.pending()
            reports.append(
                SessionReport(
                    a.athlete,
                    asdict(row) if row else {},
                    dict(a.samples),
                    len(a.run.seconds),
                    len(a.steps.steps),
                )
            )
        return reports


def _warm_up() -> None:
    """Import what the contact detectors import lazily (see :meth:`LiveSink.start`)."""
    import scipy.signal  # noqa: F401


def _describe(a: AthleteSession) -> str:
    return "live BLE: " + ", ".join(f"{n} {k}" for k, n in sorted(a.samples.items()))
