"""The transport interface: find a device, connect, subscribe, read, write, disconnect.

Two implementations: :mod:`sensorhub.collect.bumble_transport` (bumble host stack on a
virtual controller or a USB dongle) and :mod:`sensorhub.collect.bleak_transport` (BlueZ,
CoreBluetooth, WinRT through bleak). UUIDs are 128-bit strings.
"""

from __future__ import annotations

from collections.abc import Callable
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

    async def find(self, matches: Callable[[str, str | None], bool], service_uuid: str | None,
                   timeout_s: float) -> str | None:
        """Address of an advertiser for which ``matches(address, name)`` and which lists
        ``service_uuid`` (any advertiser when None); None after ``timeout_s``."""
        ...

    async def connect(self, address: str, timeout_s: float) -> Link: ...

    async def stop(self) -> None: ...
