"""Live BLE collector: one asyncio task per configured device.

Each task finds its device (scan by service UUID, match by address or name), connects,
subscribes, timestamps every notification on arrival with an injectable clock, parses
it, and queues the sample for the sink. Parse errors are counted and logged, never fatal.
When the link drops the task reconnects with exponential backoff (:class:`Backoff`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from drivers.ble import ParseError
from sensorhub.collect.backoff import Backoff
from sensorhub.collect.config import DeviceSpec
from sensorhub.collect.handlers import HANDLERS, KindHandler
from sensorhub.collect.sink import Sample, Sink
from sensorhub.collect.transport import Link, Transport

log = logging.getLogger(__name__)


@dataclass
class DeviceStats:
    """Counters for one device (read them while running or after stop)."""

    notifications: int = 0
    samples: int = 0
    parse_errors: int = 0
    connects: int = 0
    disconnects: int = 0
    failed_attempts: int = 0
    connected: bool = False
    last_error: str = ""
    delays_s: list[float] = field(default_factory=list)


class Collector:
    """Collect from ``devices`` over ``transport`` into ``sink``.

    ``clock`` returns the arrival time in ns (default :func:`time.time_ns`, Unix);
    ``scan_timeout_s`` bounds one search for a device before backing off.
    ``stats[device.match]`` holds the :class:`DeviceStats`.
    """

    def __init__(
        self,
        transport: Transport,
        devices: Iterable[DeviceSpec],
        sink: Sink,
        clock: Callable[[], int] = time.time_ns,
        backoff: Backoff | None = None,
        scan_timeout_s: float = 10.0,
        connect_timeout_s: float = 10.0,
    ) -> None:
        self.transport = transport
        self.devices = list(devices)
        self.sink = sink
        self.clock = clock
        self.backoff = backoff or Backoff()
        self.scan_timeout_s = scan_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.stats = {d.match: DeviceStats() for d in self.devices}
        self._queue: asyncio.Queue[Sample | None] = asyncio.Queue()
        self._tasks: list[asyncio.Task] = []
        self._links: dict[str, Link] = {}
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        """Start the transport, one task per device, and the sink consumer."""
        await self.transport.start()
        self._tasks = [
            asyncio.create_task(self._device_loop(d), name=f"ble:{d.match}") for d in self.devices
        ]
        self._tasks.append(asyncio.create_task(self._drain(), name="ble:sink"))

    async def stop(self) -> None:
        """Disconnect everything, deliver queued samples, stop the transport."""
        self._stopping.set()
        for link in list(self._links.values()):
            await link.disconnect()
        device_tasks, drain = self._tasks[:-1], self._tasks[-1:]
        for task in device_tasks:
            task.cancel()
        await asyncio.gather(*device_tasks, return_exceptions=True)
        self._queue.put_nowait(None)
        await asyncio.gather(*drain, return_exceptions=True)
        await self.transport.stop()

    async def run(self, duration_s: float | None = None) -> None:
        """Start, run for ``duration_s`` (forever if None), stop."""
        await self.start()
        try:
            if duration_s is None:
                await self._stopping.wait()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), duration_s)
        finally:
            await self.stop()

    async def _drain(self) -> None:
        while (sample := await self._queue.get()) is not None:
            try:
                await self.sink.handle(sample)
            except Exception:
                log.exception("sink failed on a sample from %s", sample.device.match)

    def _on_notify(self, spec: DeviceSpec, handler: KindHandler, data: bytes) -> None:
        t = self.clock()
        stats = self.stats[spec.match]
        stats.notifications += 1
        try:
            parsed = handler.parse(data)
        except ParseError as exc:
            stats.parse_errors += 1
            log.warning(
                "%s: malformed %s notification %s: %s", spec.match, spec.kind, data.hex(), exc
            )
            return
        stats.samples += 1
        self._queue.put_nowait(Sample(spec, spec.kind, t, parsed))

    async def _device_loop(self, spec: DeviceSpec) -> None:
        handler = HANDLERS[spec.kind]()
        stats = self.stats[spec.match]
        attempt = 0
        while not self._stopping.is_set():
            try:
                if await self._session(spec, handler, stats):
                    attempt = 0  # a session that got connected resets the backoff
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                stats.failed_attempts += 1
                stats.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("%s: %s", spec.match, stats.last_error)
            if self._stopping.is_set():
                break
            delay = self.backoff.delay(attempt)
            stats.delays_s.append(delay)
            attempt += 1
            await asyncio.sleep(delay)

    async def _session(self, spec: DeviceSpec, handler: KindHandler, stats: DeviceStats) -> bool:
        """Find, connect, subscribe, wait for the drop. True if it got connected."""
        address = await self.transport.find(
            spec.matches, handler.advertised_uuid, self.scan_timeout_s
        )
        if address is None:
            raise TimeoutError(f"not seen advertising ({handler.advertised_uuid or 'any'})")
        link = await self.transport.connect(address, self.connect_timeout_s)
        self._links[spec.match] = link
        try:
            await handler.setup(link, lambda data: self._on_notify(spec, handler, data))
            stats.connects += 1
            stats.connected = True
            log.info("%s: connected (%s, %s)", spec.match, address, spec.kind)
            await link.wait_disconnected()
        finally:
            stats.connected = False
            self._links.pop(spec.match, None)
            await link.disconnect()
        stats.disconnects += 1
        log.info("%s: disconnected", spec.match)
        return True
