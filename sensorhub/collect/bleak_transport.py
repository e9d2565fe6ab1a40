"""bleak transport (thin): scan, connect, subscribe, read, write, disconnect callback.

bleak talks to the operating system's Bluetooth stack: BlueZ over D-Bus on Linux,
CoreBluetooth on macOS, WinRT on Windows. MTU exchange is done by the OS stack.

Linux permissions: BlueZ (``bluetoothd``, 5.55 or newer) must be running and the adapter
powered (``bluetoothctl power on``); the process talks to it over the *system* D-Bus, so
it needs D-Bus policy access to ``org.bluez`` — on Debian/Ubuntu/Raspberry Pi OS that
means the user is in the ``bluetooth`` group (``sudo usermod -aG bluetooth $USER``, then
log in again) or runs as root. No raw-socket capabilities are needed (those are for the
bumble ``hci-socket`` transport, which instead needs ``CAP_NET_RAW``/``CAP_NET_ADMIN`` and
the adapter taken away from BlueZ). In a container, mount ``/run/dbus`` from the host.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from sensorhub.collect.transport import Notify, wait_for_advertiser


class BleakLink:
    def __init__(self, client: Any, gone: asyncio.Event) -> None:
        self.client = client
        self._gone = gone

    async def subscribe(self, char_uuid: str, callback: Notify) -> None:
        await self.client.start_notify(char_uuid, lambda _char, data: callback(bytes(data)))

    async def read(self, char_uuid: str) -> bytes:
        return bytes(await self.client.read_gatt_char(char_uuid))

    async def write(self, char_uuid: str, value: bytes) -> None:
        await self.client.write_gatt_char(char_uuid, value, response=True)

    async def disconnect(self) -> None:
        with contextlib.suppress(Exception):
            await self.client.disconnect()
        self._gone.set()

    async def wait_disconnected(self) -> None:
        await self._gone.wait()


class BleakTransport:
    """Central role through bleak; one :class:`bleak.BleakScanner` runs in the background."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[Any, str | None, set[str]]] = {}
        self._changed = asyncio.Event()
        self._scanner: Any = None

    async def start(self) -> None:
        from bleak import BleakScanner

        self._scanner = BleakScanner(detection_callback=self._on_advertisement)
        await self._scanner.start()

    def _on_advertisement(self, device: Any, adv: Any) -> None:
        uuids = {u.lower() for u in (adv.service_uuids or ())}
        _, name, known = self._seen.get(device.address, (None, None, set()))
        self._seen[device.address] = (device, adv.local_name or device.name or name, known | uuids)
        self._changed.set()

    def advertisers(self) -> list[tuple[str, str | None, list[str]]]:
        """Everything seen advertising so far: (address, name, 128-bit service UUIDs)."""
        return [(address, name, sorted(uuids)) for address, (_, name, uuids) in self._seen.items()]

    async def find(
        self, matches: Callable[[str, str | None], bool], service_uuid: str | None, timeout_s: float
    ) -> str | None:
        want = service_uuid.lower() if service_uuid else None

        def seen():
            return ((a, n, want is None or want in u) for a, (_, n, u) in self._seen.items())

        return await wait_for_advertiser(seen, matches, self._changed, timeout_s)

    async def connect(self, address: str, timeout_s: float = 10.0) -> BleakLink:
        from bleak import BleakClient

        gone = asyncio.Event()
        device = self._seen.pop(address, (address, None, set()))[0]
        client = BleakClient(device, disconnected_callback=lambda _c: gone.set(), timeout=timeout_s)
        await client.connect()
        return BleakLink(client, gone)

    async def stop(self) -> None:
        if self._scanner is not None:
            with contextlib.suppress(Exception):
                await self._scanner.stop()
