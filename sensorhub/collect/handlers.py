"""Per-kind GATT setup and parsing: which service to look for, what to subscribe to,
which parser from :mod:`drivers.ble` turns a notification into a sample."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from drivers.ble import SERVICES, ParseError, hrs, pmd, rsc, uuids
from drivers.ble.pmd import MeasurementType, SettingType
from sensorhub.collect.transport import Link, Notify


class KindHandler:
    """Base: one service, one notifying characteristic, one parser."""

    kind = ""
    service_uuid = ""
    char_uuid = ""
    advertised_uuid: str | None = None
    """Service UUID to require in advertisements (None: match by name/address only)."""

    def __init__(self) -> None:
        self.parse: Callable[[bytes], Any] = self._parse

    def _parse(self, data: bytes) -> Any:
        raise NotImplementedError

    async def setup(self, link: Link, on_notify: Notify) -> None:
        """Subscribe (and start streams) on a freshly connected link."""
        await link.subscribe(self.char_uuid, on_notify)


class RscHandler(KindHandler):
    kind = "rsc"
    service_uuid = advertised_uuid = SERVICES["rsc"].uuid
    char_uuid = uuids.sig_uuid128(uuids.RSC_MEASUREMENT)

    def _parse(self, data: bytes) -> rsc.RscMeasurement:
        return rsc.parse_measurement(data)


class HrHandler(KindHandler):
    kind = "hr"
    service_uuid = advertised_uuid = SERVICES["hr"].uuid
    char_uuid = uuids.sig_uuid128(uuids.HR_MEASUREMENT)

    def _parse(self, data: bytes) -> hrs.HeartRateMeasurement:
        return hrs.parse_measurement(data)


class PmdHandler(KindHandler):
    """Polar PMD: read features, then for ACC and GYRO get settings and start a stream.

    Follows ``BlePMDClient``: enable notifications on the control point and the data
    characteristic, write requests, wait for the ``0xF0`` response; the start response's
    FACTOR configures the decoder. Requests the highest sample rate and range offered.
    Polar sensors advertise their name but not the PMD UUID, so they are found by name or
    address only.
    """

    kind = "pmd"
    service_uuid = SERVICES["pmd"].uuid
    char_uuid = uuids.PMD_DATA
    streams = (MeasurementType.ACC, MeasurementType.GYRO)

    def __init__(self, response_timeout_s: float = 5.0) -> None:
        super().__init__()
        self.decoder = pmd.PmdDecoder()
        self.response_timeout_s = response_timeout_s
        self._responses: asyncio.Queue[pmd.ControlResponse] = asyncio.Queue()

    def _parse(self, data: bytes) -> pmd.PmdFrame:
        return self.decoder.feed(data)

    def _on_control(self, data: bytes) -> None:
        # a non-response (e.g. "measurement stopped", 0x01 ...) just ends that stream
        with contextlib.suppress(ParseError):
            self._responses.put_nowait(pmd.parse_response(data))

    async def _request(self, link: Link, payload: bytes) -> pmd.ControlResponse:
        await link.write(uuids.PMD_CONTROL_POINT, payload)
        while True:
            resp = await asyncio.wait_for(self._responses.get(), self.response_timeout_s)
            if resp.op == payload[0]:
                return resp

    async def setup(self, link: Link, on_notify: Notify) -> None:
        self.decoder.reset()
        self._responses = asyncio.Queue()
        await link.subscribe(uuids.PMD_CONTROL_POINT, self._on_control)
        await link.subscribe(uuids.PMD_DATA, on_notify)
        available = pmd.parse_feature(await link.read(uuids.PMD_CONTROL_POINT))
        for kind in self.streams:
            if kind in available:
                await self._start(link, kind)

    async def _start(self, link: Link, kind: MeasurementType) -> None:
        resp = await self._request(link, pmd.build_request(pmd.ControlOp.GET_SETTINGS, kind))
        if not resp.ok:
            raise RuntimeError(f"PMD get settings {kind.name} failed: status {resp.status}")
        offered = resp.settings
        chosen = {k: max(v) for k, v in offered.items() if k != SettingType.FACTOR and v}
        resp = await self._request(link, pmd.build_request(pmd.ControlOp.START, kind, chosen))
        if not resp.ok:
            raise RuntimeError(f"PMD start {kind.name} failed: status {resp.status}")
        factor = resp.settings.get(SettingType.FACTOR, (1.0,))[0]
        self.decoder.configure(kind, chosen.get(SettingType.SAMPLE_RATE, 0), factor)


HANDLERS: dict[str, type[KindHandler]] = {h.kind: h for h in (RscHandler, HrHandler, PmdHandler)}
