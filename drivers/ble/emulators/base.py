"""Common machinery of the emulated sensors: a bumble device that advertises, serves GATT
and notifies samples from a sample source at real speed (or faster, for tests).

A sample source is any iterable of objects with a ``t_s`` attribute (seconds from the
start of the recording) and the fields the sensor encodes; :func:`replay` turns a
DataFrame into one. The emulator sleeps until each sample is due (``t_s / speedup``
after start) and notifies it to every subscriber.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Iterator
from typing import Any

import pandas as pd
from bumble import gatt
from bumble.controller import Controller
from bumble.core import AdvertisingData
from bumble.device import Device
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

log = logging.getLogger(__name__)

_SIG_BASE = "-0000-1000-8000-00805F9B34FB"


def local_device(link: LocalLink, name: str, address: str) -> Device:
    """A bumble device on an in-process virtual controller attached to ``link``."""
    controller = Controller(name, link=link, public_address=address)
    return Device(
        name=name, address=Address(address), host=Host(controller, AsyncPipeSink(controller))
    )


def replay(frame: pd.DataFrame) -> Iterator[Any]:
    """Rows of ``frame`` as samples; ``t_s`` from a ``t_s`` column or the time index."""
    df = frame.copy()
    if "t_s" not in df.columns:
        index = pd.DatetimeIndex(df.index)
        df["t_s"] = (index - index[0]).total_seconds()
    yield from df.itertuples(index=False)


class EmulatedSensor:
    """Base emulator: subclasses define ``services()``, ``advertised_uuids`` and ``encode``.

    ``notify_count`` counts notifications sent; ``sent`` keeps the payloads when
    ``keep_sent`` is set (tests compare them with what the collector received).
    """

    advertised_uuids: tuple[str, ...] = ()

    def __init__(self, device: Device, speedup: float = 1.0, keep_sent: bool = False) -> None:
        self.device = device
        self.speedup = speedup
        self.keep_sent = keep_sent
        self.sent: list[bytes] = []
        self.notify_count = 0
        self.advertising = False
        device.add_services(self.services())

    @property
    def name(self) -> str:
        return self.device.name

    @property
    def address(self) -> str:
        return str(self.device.public_address)

    def services(self) -> list[gatt.Service]:
        raise NotImplementedError

    @property
    def characteristic(self) -> gatt.Characteristic:
        """The characteristic that carries samples."""
        raise NotImplementedError

    def encode(self, sample: Any) -> bytes | None:
        """Payload for one sample (None to skip it)."""
        raise NotImplementedError

    def advertising_data(self) -> bytes:
        """Flags, 16-bit service UUIDs and the name (shortened if it does not fit in 31 bytes).

        128-bit UUIDs go in the scan response, as on Polar sensors, whose advertisement
        carries the name but not the PMD UUID.
        """
        short = b"".join(u.to_bytes() for u in self._uuids() if len(u.to_bytes()) == 2)
        structures = [(AdvertisingData.FLAGS, bytes([0x06]))]
        if short:
            structures.append((AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS, short))
        room = 31 - sum(2 + len(v) for _, v in structures) - 2
        name = self.name.encode()
        kind = AdvertisingData.COMPLETE_LOCAL_NAME
        if len(name) > room:
            name, kind = name[:room], AdvertisingData.SHORTENED_LOCAL_NAME
        structures.append((kind, name))
        return bytes(AdvertisingData(structures))

    def scan_response_data(self) -> bytes:
        long_ = b"".join(u.to_bytes() for u in self._uuids() if len(u.to_bytes()) == 16)
        if not long_:
            return b""
        return bytes(
            AdvertisingData([(AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS, long_)])
        )

    def _uuids(self) -> list[gatt.UUID]:
        out = []
        for text in self.advertised_uuids:
            u = gatt.UUID(text)
            if text.upper().endswith(_SIG_BASE):
                u = gatt.UUID.from_16_bits(int(text[4:8], 16))
            out.append(u)
        return out

    async def start(self) -> None:
        """Power on and advertise (connectable, restarted after each disconnection)."""
        if not self.device.powered_on:
            await self.device.power_on()
        await self.advertise()

    async def advertise(self) -> None:
        await self.device.start_advertising(
            auto_restart=True,
            advertising_data=self.advertising_data(),
            scan_response_data=self.scan_response_data(),
            advertising_interval_min=20.0,
            advertising_interval_max=20.0,
        )
        self.advertising = True

    async def drop(self, off_s: float) -> None:
        """Fault: disconnect every central, stay silent ``off_s`` seconds, then come back."""
        await self.device.stop_advertising()
        self.advertising = False
        for connection in list(self.device.connections.values()):
            await connection.disconnect()
        await asyncio.sleep(off_s)
        await self.advertise()

    async def send_raw(self, payload: bytes) -> None:
        """Notify an arbitrary payload (e.g. a malformed one) on the sample characteristic."""
        await self.device.notify_subscribers(self.characteristic, payload)

    async def sleep_until_due(self, start: float, t_s: float) -> None:
        """Wait until a sample ``t_s`` seconds into the replay is due (``start``: monotonic)."""
        delay = start + float(t_s) / self.speedup - time.monotonic()
        # yield even when late: a sensor behind schedule must not starve the others on the
        # loop (two pods of one recording would drift apart by how late each one runs)
        await asyncio.sleep(max(delay, 0.0))

    async def run(self, samples: Iterable[Any], start: float | None = None) -> int:
        """Notify each sample when it is due; returns the number of notifications sent.
        ``start``: the monotonic time of ``t_s = 0`` (default: now); sensors replaying one
        recording together share it, so their timelines are not offset by start-up order."""
        start = time.monotonic() if start is None else start
        for sample in samples:
            await self.sleep_until_due(start, sample.t_s)
            payload = self.encode(sample)
            if payload is None:
                continue
            await self.notify(payload)
        return self.notify_count

    async def notify(self, payload: bytes) -> None:
        await self.device.notify_subscribers(self.characteristic, payload)
        self.notify_count += 1
        if self.keep_sent:
            self.sent.append(payload)
