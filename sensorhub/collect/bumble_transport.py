"""bumble transport: a full BLE host stack in Python.

Use it with a virtual controller on a :class:`bumble.link.LocalLink` (tests, ``emulate``)
or with a real controller: ``BumbleTransport.open("usb:0")`` opens an HCI transport by
bumble's transport name (``usb:0``, ``serial:/dev/ttyACM0``, ``hci-socket:0``...). A USB
dongle used this way must not be claimed by BlueZ, and the user needs access to the USB
device node (udev rule or root); see bumble's "Platforms" documentation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from bumble.core import UUID, AdvertisingData
from bumble.device import Connection, Device, Peer
from bumble.hci import Address

from sensorhub.collect.transport import Notify, wait_for_advertiser

log = logging.getLogger(__name__)

_UUID_LISTS = (
    AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
)


class BumbleLink:
    """A connected, discovered peer."""

    def __init__(self, connection: Connection, peer: Peer) -> None:
        self.connection = connection
        self.peer = peer
        self._gone = asyncio.Event()
        connection.on(connection.EVENT_DISCONNECTION, lambda *_: self._gone.set())

    def _char(self, uuid: str):
        found = self.peer.get_characteristics_by_uuid(UUID(uuid))
        if not found:
            raise LookupError(f"characteristic {uuid} not found")
        return found[0]

    async def subscribe(self, char_uuid: str, callback: Notify) -> None:
        await self.peer.subscribe(self._char(char_uuid), lambda value: callback(bytes(value)))

    async def read(self, char_uuid: str) -> bytes:
        return bytes(await self.peer.read_value(self._char(char_uuid)))

    async def write(self, char_uuid: str, value: bytes) -> None:
        await self.peer.write_value(self._char(char_uuid), value, with_response=True)

    async def disconnect(self) -> None:
        if not self._gone.is_set():
            with contextlib.suppress(Exception):
                await self.connection.disconnect()
        self._gone.set()

    async def wait_disconnected(self) -> None:
        await self._gone.wait()


class BumbleTransport:
    """Central role on a bumble :class:`~bumble.device.Device`.

    One background scan feeds every ``find``; connections are made one at a time (an LE
    controller has a single pending connection), then run concurrently.
    """

    def __init__(self, device: Device, mtu: int = 247) -> None:
        self.device = device
        self.mtu = mtu
        self._seen: dict[str, tuple[str | None, set[bytes], float]] = {}
        self._changed = asyncio.Event()
        self._connect_lock = asyncio.Lock()
        self._hci = None

    @classmethod
    async def open(
        cls, transport_name: str, name: str = "sensorhub", address: str = "F0:F1:F2:F3:F4:F5"
    ) -> BumbleTransport:
        """Open a real HCI transport by bumble name (e.g. ``usb:0``)."""
        from bumble.transport import open_transport

        hci = await open_transport(transport_name)
        device = Device.with_hci(name, Address(address), hci.source, hci.sink)
        self = cls(device)
        self._hci = hci
        return self

    async def start(self) -> None:
        if not self.device.powered_on:
            await self.device.power_on()
        self.device.on(self.device.EVENT_ADVERTISEMENT, self._on_advertisement)
        await self.device.start_scanning(filter_duplicates=False)

    def _on_advertisement(self, adv) -> None:
        address = adv.address.to_string(False)
        name, uuids, _ = self._seen.get(address, (None, set(), 0.0))
        adv_name = adv.data.get(AdvertisingData.COMPLETE_LOCAL_NAME) or adv.data.get(
            AdvertisingData.SHORTENED_LOCAL_NAME
        )
        name = adv_name if adv_name else name
        for kind in _UUID_LISTS:
            for uuid in adv.data.get(kind) or ():
                uuids.add(uuid.to_bytes(force_128=True))
        self._seen[address] = (name, uuids, time.monotonic())
        self._changed.set()

    def advertisers(self) -> list[tuple[str, str | None, list[str]]]:
        """Everything seen advertising so far: (address, name, 128-bit service UUIDs)."""
        return [
            (address, name, sorted(_uuid128(u) for u in uuids))
            for address, (name, uuids, _) in self._seen.items()
        ]

    async def find(
        self, matches: Callable[[str, str | None], bool], service_uuid: str | None, timeout_s: float
    ) -> str | None:
        want = UUID(service_uuid).to_bytes(force_128=True) if service_uuid else None

        def seen():
            return ((a, n, want is None or want in u) for a, (n, u, _) in self._seen.items())

        return await wait_for_advertiser(seen, matches, self._changed, timeout_s)

    async def connect(self, address: str, timeout_s: float = 10.0) -> BumbleLink:
        async with self._connect_lock:
            connection = await self.device.connect(address, timeout=timeout_s)
        self._seen.pop(address, None)  # must be seen advertising again before a reconnect
        peer = Peer(connection)
        try:
            # PMD responses and frames exceed the default 20-byte payload (ATT MTU 23)
            await peer.request_mtu(self.mtu)
            for service in await peer.discover_services():
                await peer.discover_characteristics(service=service)
        except Exception:
            with contextlib.suppress(Exception):
                await connection.disconnect()
            raise
        return BumbleLink(connection, peer)

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self.device.stop_scanning()
        if self._hci is not None:
            await self._hci.close()


def _uuid128(raw: bytes) -> str:
    """128-bit string form (SIG 16-bit UUIDs expanded on the Bluetooth base UUID)."""
    text = UUID.from_bytes(raw).to_hex_str("-")
    return f"0000{text}-0000-1000-8000-00805F9B34FB" if len(text) == 4 else text
