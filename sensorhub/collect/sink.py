"""Where collected samples go: a small interface the pipeline implements."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sensorhub.collect.config import DeviceSpec


@dataclass(frozen=True, slots=True)
class Sample:
    """One parsed notification.

    ``t_arrival_ns``: the collector clock (Unix ns by default) when the notification
    arrived; ``parsed``: the parser result (``RscMeasurement``, ``HeartRateMeasurement``
    or ``PmdFrame``); ``kind``: ``rsc``/``hr``/``pmd``.
    """

    device: DeviceSpec
    kind: str
    t_arrival_ns: int
    parsed: Any


class Sink(Protocol):
    """Receives samples in arrival order per device."""

    async def handle(self, sample: Sample) -> None: ...


class CallbackSink:
    """Adapts a callback ``fn(device, kind, t_arrival_ns, parsed)`` (sync or async)."""

    def __init__(self, fn: Callable[[DeviceSpec, str, int, Any], Awaitable[None] | None]) -> None:
        self.fn = fn

    async def handle(self, sample: Sample) -> None:
        result = self.fn(sample.device, sample.kind, sample.t_arrival_ns, sample.parsed)
        if inspect.isawaitable(result):
            await result


class MemorySink:
    """Keeps every sample in a list (tests, demos)."""

    def __init__(self) -> None:
        self.samples: list[Sample] = []

    async def handle(self, sample: Sample) -> None:
        self.samples.append(sample)

    def of(self, kind: str) -> list[Sample]:
        return [s for s in self.samples if s.kind == kind]


class TeeSink:
    """Hands every sample to several sinks in turn (e.g. the live sink and a recorder)."""

    def __init__(self, *sinks: Sink) -> None:
        self.sinks = sinks

    async def handle(self, sample: Sample) -> None:
        for sink in self.sinks:
            await sink.handle(sample)
