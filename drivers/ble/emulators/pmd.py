"""Emulated Polar IMU pod: PMD service with ACC and GYRO streams.

Behaves like a Polar Verity Sense / OH1 as seen by ``BlePMDClient`` of the Polar BLE SDK:
reading the control point returns the feature bit field; writing get-settings / start /
stop gets a ``0xF0`` response notification on the control point; after a start, samples
stream as delta-compressed frames on the data characteristic — ACC as compressed type 1
(mG, factor 1.0) and GYRO as compressed type 0 (factor 2000/32768 deg/s per LSB, sent in
the start response).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
from bumble import gatt

from drivers.ble import ParseError, pmd, uuids
from drivers.ble.emulators.base import EmulatedSensor
from drivers.ble.pmd import delta
from drivers.ble.pmd.control import MeasurementType as MT
from drivers.ble.pmd.control import SettingType as ST

GYRO_FACTOR = 2000.0 / 32768.0
_AVAILABLE = {
    MT.ACC: {
        ST.SAMPLE_RATE: (52,),
        ST.RESOLUTION: (16,),
        ST.RANGE: (2, 4, 8, 16),
        ST.CHANNELS: (3,),
    },
    MT.GYRO: {
        ST.SAMPLE_RATE: (52,),
        ST.RESOLUTION: (16,),
        ST.RANGE: (250, 500, 1000, 2000),
        ST.CHANNELS: (3,),
    },
}
_FACTOR = {MT.ACC: 1.0, MT.GYRO: GYRO_FACTOR}
_FRAME_TYPE = {MT.ACC: 1, MT.GYRO: 0}
_COLUMNS = {
    MT.ACC: ("acc_x_g", "acc_y_g", "acc_z_g"),
    MT.GYRO: ("gyr_x_dps", "gyr_y_dps", "gyr_z_dps"),
}


class PolarImuPod(EmulatedSensor):
    """PMD pod. Samples need ``t_s`` and ``acc_x_g``/``acc_y_g``/``acc_z_g`` and, for the
    gyro stream, ``gyr_x_dps``/``gyr_y_dps``/``gyr_z_dps``. ``samples_per_frame`` samples
    go in one notification. Samples arriving while a stream is stopped are dropped, as a
    real sensor does not measure before it is started. ``sample_rate_hz`` is the rate
    the pod offers (52 Hz like a Verity Sense; a Polar H10 offers 25-200 Hz): the samples
    fed to :meth:`run` should come at that rate."""

    advertised_uuids = (uuids.PMD_SERVICE,)

    def __init__(
        self,
        device: Any,
        speedup: float = 1.0,
        keep_sent: bool = False,
        samples_per_frame: int = 10,
        sample_rate_hz: int = 52,
    ) -> None:
        self.samples_per_frame = samples_per_frame
        self.available = {
            kind: {**settings, ST.SAMPLE_RATE: (int(sample_rate_hz),)}
            for kind, settings in _AVAILABLE.items()
        }
        self.active: set[MT] = set()
        self.clock0_ns = time.time_ns() - pmd.POLAR_EPOCH_UNIX_NS
        self._buffers: dict[MT, list[tuple[int, tuple[int, int, int]]]] = {MT.ACC: [], MT.GYRO: []}
        super().__init__(device, speedup, keep_sent)

    def services(self) -> list[gatt.Service]:
        props = gatt.Characteristic.Properties
        self._cp = gatt.Characteristic(
            uuids.PMD_CONTROL_POINT,
            props.READ | props.WRITE | props.INDICATE | props.NOTIFY,
            gatt.Characteristic.READABLE | gatt.Characteristic.WRITEABLE,
            gatt.CharacteristicValue(read=self._read_feature, write=self._on_write),
        )
        self._data = gatt.Characteristic(
            uuids.PMD_DATA, props.NOTIFY, gatt.Characteristic.Permissions(0), b""
        )
        return [gatt.Service(uuids.PMD_SERVICE, [self._cp, self._data])]

    @property
    def characteristic(self) -> gatt.Characteristic:
        return self._data

    def _read_feature(self, connection: Any) -> bytes:
        return pmd.build_feature({MT.ACC, MT.GYRO})

    def _on_write(self, connection: Any, value: bytes) -> None:
        response = self.handle_request(bytes(value))
        asyncio.get_running_loop().create_task(
            self.device.notify_subscriber(connection, self._cp, response)
        )

    def handle_request(self, value: bytes) -> bytes:
        """Apply a control point request and return the response notification."""
        try:
            req = pmd.parse_request(value)
        except ParseError:
            return pmd.build_response(value[0] if value else 0, 0, pmd.Status.INVALID_LENGTH)
        try:
            kind = MT(req.measurement_type)
        except ValueError:
            kind = None
        if kind not in self.available:
            return pmd.build_response(
                req.op, req.measurement_type, pmd.Status.INVALID_MEASUREMENT_TYPE
            )
        if req.op is pmd.ControlOp.GET_SETTINGS:
            return pmd.build_response(
                req.op, kind, parameters=pmd.build_settings(self.available[kind])
            )
        if req.op is pmd.ControlOp.START:
            return self._start(kind, req.settings)
        self.active.discard(kind)
        self._buffers[kind].clear()
        return pmd.build_response(req.op, kind)

    def _start(self, kind: MT, settings: pmd.Settings) -> bytes:
        for key, values in settings.items():
            offered = self.available[kind]
            if key in offered and not set(values) <= set(offered[key]):
                return pmd.build_response(pmd.ControlOp.START, kind, pmd.Status.INVALID_PARAMETER)
        if kind in self.active:
            return pmd.build_response(pmd.ControlOp.START, kind, pmd.Status.ALREADY_IN_STATE)
        self.active.add(kind)
        params = pmd.build_settings({ST.FACTOR: _FACTOR[kind]})
        return pmd.build_response(pmd.ControlOp.START, kind, parameters=params)

    def on_disconnect(self) -> None:
        """Streams stop when the central goes away."""
        self.active.clear()
        for buf in self._buffers.values():
            buf.clear()

    async def drop(self, off_s: float) -> None:
        self.on_disconnect()
        await super().drop(off_s)

    def encode(self, sample: Any) -> None:
        raise NotImplementedError("PolarImuPod batches samples; see run()")

    async def run(self, samples: Any, start: float | None = None) -> int:
        start = time.monotonic() if start is None else start
        for sample in samples:
            if self._completes_frame():  # only a frame's last sample needs to wait
                await self.sleep_until_due(start, sample.t_s)
            if not self.device.connections:
                self.active.clear()
            for kind in list(self.active):
                frame = self._add(kind, sample)
                if frame is not None:
                    await self.notify(frame)
        return self.notify_count

    def _completes_frame(self) -> bool:
        """The next sample fills a frame of an active stream (or none is active yet)."""
        n = self.samples_per_frame - 1
        return not self.active or any(len(self._buffers[k]) >= n for k in self.active)

    def _add(self, kind: MT, sample: Any) -> bytes | None:
        cols = _COLUMNS[kind]
        if not hasattr(sample, cols[0]):
            return None
        scale = 1000.0 if kind is MT.ACC else 1.0 / GYRO_FACTOR
        ints = tuple(int(round(float(getattr(sample, c)) * scale)) for c in cols)
        t_ns = self.clock0_ns + int(round(float(sample.t_s) * 1e9))
        buf = self._buffers[kind]
        buf.append((t_ns, ints))
        if len(buf) < self.samples_per_frame:
            return None
        values = np.array([v for _, v in buf], dtype=np.int64)
        frame = pmd.build_frame(kind, buf[-1][0], _FRAME_TYPE[kind], True, delta.encode(values))
        buf.clear()
        return frame
