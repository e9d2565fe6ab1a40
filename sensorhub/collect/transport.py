"""The transport interface: find a device, connect, subscribe, read, write, disconnect.

Two implementations: :mod:`sensorhub.collect.bumble_transport` (bumble host stack on a
virtual controller or a USB dongle) and :mod:`sensorhub.collect.bleak_transport` (BlueZ,
CoreBluetooth, WinRT through bleak). UUIDs are 128-bit strings.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from typing import Protocol

Notify = Callable[[bytes], None]


class Link(Protocol):
    """One connection to a peripheral whose GATT database has been discovered."""

    async def subscribe(self, char_uuid: str, callback: Notify) -> None: ...

    async def read(self, char_uuid: str) -> bytes: ...

    async def write(self, char_uuid: str, value: bytes) -> None: ...

    async def disconnect(self) -> None: ...

    async def wait_disconnected(self) -> None:
        """Return when the link is gone (peer dropped, out of range, or disconnect())."""
        ...


class Transport(Protocol):
    async def start(self) -> None:
        """Power on the adapter and start scanning in the background."""
        ...

    async def find(
        self, matches: Callable[[str, str | None], bool], service_uuid: str | None, timeout_s: float
    ) -> str | None:
        """Address of an advertiser for which ``matches(address, name)`` and which lists
        ``service_uuid`` (any advertiser when None); None after ``timeout_s``."""
        ...

    async def connect(self, address: str, timeout_s: float) -> Link: ...

    async def stop(self) -> None: ...


async def wait_for_advertiser(
    seen: Callable[[], Iterable[tuple[str, str | None, bool]]],
    matches: Callable[[str, str | None], bool],
    changed: asyncio.Event,
    timeout_s: float,
) -> str | None:
    """Shared by the transports' ``find``: wait until ``seen()`` (address, name,
    lists-the-service) holds a match, re-checking whenever ``changed`` is set."""
    deadline = time.monotonic() + timeout_s
    while True:
        for address, name, has_service in list(seen()):
            if has_service and matches(address, name):
                return address
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), left)
