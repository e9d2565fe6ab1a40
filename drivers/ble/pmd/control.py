"""PMD control point: requests, responses, settings and the feature read value.

See :mod:`drivers.ble.pmd` for the layout and the Polar BLE SDK sources it follows
(``BlePMDClient.kt``, ``PmdSetting.kt``, ``PmdControlPointResponse.kt``,
``PmdControlPointCommand.kt``, ``PmdMeasurementType.kt``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from drivers.ble.errors import ParseError

RESPONSE_CODE = 0xF0
FEATURE_CODE = 0x0F
_OFFLINE = 0x80


class MeasurementType(IntEnum):
    """PMD measurement types (``PmdMeasurementType.kt``)."""

    ECG = 0
    PPG = 1
    ACC = 2
    PPI = 3
    GYRO = 5
    MAGNETOMETER = 6


class ControlOp(IntEnum):
    """Client-to-sensor control point operations (``PmdControlPointCommand.kt``)."""

    GET_SETTINGS = 1
    START = 2
    STOP = 3


class SettingType(IntEnum):
    """Setting TLV types (``PmdSetting.kt``)."""

    SAMPLE_RATE = 0
    RESOLUTION = 1
    RANGE = 2
    RANGE_MILLIUNIT = 3
    CHANNELS = 4
    FACTOR = 5


class Status(IntEnum):
    """Control point response status (``PmdControlPointResponse.kt``), subset."""

    SUCCESS = 0
    INVALID_OP_CODE = 1
    INVALID_MEASUREMENT_TYPE = 2
    NOT_SUPPORTED = 3
    INVALID_LENGTH = 4
    INVALID_PARAMETER = 5
    ALREADY_IN_STATE = 6


_SETTING_SIZE = {
    SettingType.SAMPLE_RATE: 2,
    SettingType.RESOLUTION: 2,
    SettingType.RANGE: 2,
    SettingType.RANGE_MILLIUNIT: 4,
    SettingType.CHANNELS: 1,
    SettingType.FACTOR: 4,
}

Settings = dict[SettingType, tuple[float, ...]]
"""Available settings: each type to its allowed values (FACTOR as a float)."""


# ----------------------------------------------------------------------------- settings
def parse_settings(data: bytes) -> Settings:
    """Parse a settings TLV sequence (from a get-settings or start response, or a request)."""
    data = bytes(data)
    out: Settings = {}
    offset = 0
    while offset < len(data):
        if offset + 2 > len(data):
            raise ParseError("PMD settings: truncated type/count")
        try:
            kind = SettingType(data[offset])
        except ValueError:
            raise ParseError(f"PMD settings: unknown setting type {data[offset]}") from None
        count, size = data[offset + 1], _SETTING_SIZE[kind]
        offset += 2
        if offset + count * size > len(data):
            raise ParseError(f"PMD settings: {kind.name} values truncated")
        out[kind] = tuple(
            _decode_setting(kind, data[offset + i * size : offset + (i + 1) * size])
            for i in range(count)
        )
        offset += count * size
    return out


def _decode_setting(kind: SettingType, raw: bytes) -> float:
    if kind is SettingType.FACTOR:
        return struct.unpack("<f", raw)[0]
    if kind is SettingType.RANGE_MILLIUNIT:
        return struct.unpack("<i", raw)[0]
    return int.from_bytes(raw, "little")


def build_settings(settings: dict[SettingType, float | tuple[float, ...]]) -> bytes:
    """Encode settings as TLV (inverse of :func:`parse_settings`)."""
    out = bytearray()
    for kind, values in settings.items():
        kind = SettingType(kind)
        vals = values if isinstance(values, tuple | list) else (values,)
        out += bytes([kind, len(vals)])
        for v in vals:
            if kind is SettingType.FACTOR:
                out += struct.pack("<f", float(v))
            else:
                out += int(v).to_bytes(_SETTING_SIZE[kind], "little", signed=v < 0)
    return bytes(out)


# ----------------------------------------------------------------------------- control point
@dataclass(frozen=True, slots=True)
class ControlRequest:
    """A client-to-sensor control point write."""

    op: ControlOp
    measurement_type: int
    offline: bool
    settings: Settings


@dataclass(frozen=True, slots=True)
class ControlResponse:
    """A sensor-to-client control point notification (``0xF0 ...``)."""

    op: int
    measurement_type: int
    status: int
    more: bool
    parameters: bytes

    @property
    def ok(self) -> bool:
        return self.status == Status.SUCCESS

    @property
    def settings(self) -> Settings:
        """Parameters decoded as settings (get-settings and start responses)."""
        return parse_settings(self.parameters)


def build_request(
    op: ControlOp, measurement_type: int, settings: dict[SettingType, float] | None = None
) -> bytes:
    """Encode a control point request; the sensor picks FACTOR, so it is never sent."""
    body = {k: v for k, v in (settings or {}).items() if k != SettingType.FACTOR}
    return bytes([ControlOp(op), measurement_type]) + build_settings(body)


def parse_request(data: bytes) -> ControlRequest:
    """Parse a control point request (what an emulated sensor receives)."""
    data = bytes(data)
    if len(data) < 2:
        raise ParseError(f"PMD request needs at least 2 bytes, got {len(data)}")
    try:
        op = ControlOp(data[0])
    except ValueError:
        raise ParseError(f"PMD request: unsupported op {data[0]}") from None
    return ControlRequest(
        op=op,
        measurement_type=data[1] & 0x3F,
        offline=bool(data[1] & _OFFLINE),
        settings=parse_settings(data[2:]),
    )


def build_response(
    op: int,
    measurement_type: int,
    status: int = Status.SUCCESS,
    parameters: bytes = b"",
    more: bool = False,
) -> bytes:
    """Encode a control point response notification."""
    return bytes([RESPONSE_CODE, op, measurement_type, status, int(more)]) + bytes(parameters)


def parse_response(data: bytes) -> ControlResponse:
    """Parse a control point response notification (``PmdControlPointResponse``)."""
    data = bytes(data)
    if len(data) < 4 or data[0] != RESPONSE_CODE:
        raise ParseError(f"not a PMD control point response: {data.hex()}")
    ok = data[3] == Status.SUCCESS
    return ControlResponse(
        op=data[1],
        measurement_type=data[2],
        status=data[3],
        more=ok and len(data) > 4 and data[4] != 0,
        parameters=data[5:] if ok else b"",
    )


def parse_feature(data: bytes) -> frozenset[MeasurementType]:
    """Parse the control point *read* value: ``0x0F`` then a bit field of measurement types."""
    data = bytes(data)
    if len(data) < 2 or data[0] != FEATURE_CODE:
        raise ParseError(f"not a PMD feature value: {data.hex()}")
    bits = int.from_bytes(data[1:], "little")
    return frozenset(t for t in MeasurementType if bits >> t & 1)


def build_feature(types: set[MeasurementType] | frozenset[MeasurementType]) -> bytes:
    """Encode the feature read value (inverse of :func:`parse_feature`)."""
    bits = sum(1 << int(t) for t in types)
    return bytes([FEATURE_CODE]) + bits.to_bytes(2, "little")
