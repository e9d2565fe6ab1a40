"""Running Speed and Cadence (RSC) service payloads.

Source: Bluetooth SIG, *Running Speed and Cadence Service 1.0* (RSCS_SPEC_V10) and the
GATT Specification Supplement, sections "RSC Measurement" (0x2A53) and "RSC Feature"
(0x2A54). All multi-byte fields are little-endian.

RSC Measurement layout::

    flags            uint8   bit0 stride length present, bit1 total distance present,
                             bit2 walking (0) / running (1), bits 3-7 reserved
    speed            uint16  1/256 m/s
    cadence          uint8   1/min
    stride length    uint16  1/100 m      (if bit0)
    total distance   uint32  1/10 m       (if bit1)

Cadence: the specification only says "unit 1/minute". Foot pods (Polar Stride, Stryd,
Garmin RSC profile) count *steps* (both feet) per minute, giving 150-190 while running,
so it is exposed as ``cadence_spm`` (steps per minute, the project's unit; see DESIGN.md).
A sensor that counted strides per leg would read half of that; the collector does not guess.

Stride length is "instantaneous stride length", the distance between two consecutive
contacts of the *same* foot (DESIGN.md: BLE RSC stride is same foot to same foot).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from drivers.ble.errors import ParseError

_STRIDE_PRESENT = 0x01
_DISTANCE_PRESENT = 0x02
_RUNNING = 0x04
_RESERVED = 0xF8


@dataclass(frozen=True, slots=True)
class RscMeasurement:
    """One RSC Measurement notification in SI units.

    Attributes: ``speed_mps`` (m/s), ``cadence_spm`` (steps/min), ``stride_m`` (m, same
    foot to same foot, None when absent), ``distance_m`` (m since the sensor's last reset,
    None when absent), ``running`` (True running, False walking).
    """

    speed_mps: float
    cadence_spm: int
    stride_m: float | None
    distance_m: float | None
    running: bool


def parse_measurement(data: bytes) -> RscMeasurement:
    """Parse an RSC Measurement (0x2A53) notification.

    Raises :class:`ParseError` for a reserved flag bit or a length that does not match the
    fields the flags announce.
    """
    data = bytes(data)
    if len(data) < 4:
        raise ParseError(f"RSC measurement needs at least 4 bytes, got {len(data)}")
    flags = data[0]
    if flags & _RESERVED:
        raise ParseError(f"RSC measurement sets reserved flag bits: 0x{flags:02x}")
    expected = 4 + (2 if flags & _STRIDE_PRESENT else 0) + (4 if flags & _DISTANCE_PRESENT else 0)
    if len(data) != expected:
        raise ParseError(
            f"RSC measurement flags 0x{flags:02x} need {expected} bytes, got {len(data)}"
        )
    speed_raw, cadence = struct.unpack_from("<HB", data, 1)
    offset = 4
    stride_m = distance_m = None
    if flags & _STRIDE_PRESENT:
        stride_m = struct.unpack_from("<H", data, offset)[0] / 100.0
        offset += 2
    if flags & _DISTANCE_PRESENT:
        distance_m = struct.unpack_from("<I", data, offset)[0] / 10.0
    return RscMeasurement(
        speed_mps=speed_raw / 256.0,
        cadence_spm=cadence,
        stride_m=stride_m,
        distance_m=distance_m,
        running=bool(flags & _RUNNING),
    )


def build_measurement(
    speed_mps: float,
    cadence_spm: int,
    stride_m: float | None = None,
    distance_m: float | None = None,
    running: bool = True,
) -> bytes:
    """Encode an RSC Measurement payload (inverse of :func:`parse_measurement`).

    Values are rounded to the field resolution and clamped to the field range.
    """
    flags = _RUNNING if running else 0
    out = bytearray()
    out += struct.pack(
        "<HB", _clamp(round(speed_mps * 256), 0xFFFF), _clamp(round(cadence_spm), 0xFF)
    )
    if stride_m is not None:
        flags |= _STRIDE_PRESENT
        out += struct.pack("<H", _clamp(round(stride_m * 100), 0xFFFF))
    if distance_m is not None:
        flags |= _DISTANCE_PRESENT
        out += struct.pack("<I", _clamp(round(distance_m * 10), 0xFFFFFFFF))
    return bytes([flags]) + bytes(out)


def _clamp(value: int, top: int) -> int:
    return max(0, min(int(value), top))


@dataclass(frozen=True, slots=True)
class RscFeature:
    """RSC Feature (0x2A54): what the sensor can report."""

    stride_length: bool
    total_distance: bool
    walking_running_status: bool
    calibration: bool
    multiple_locations: bool


_FEATURE_RESERVED = 0xFFE0


def parse_feature(data: bytes) -> RscFeature:
    """Parse an RSC Feature (0x2A54) value: a uint16 bit field, bits 5-15 reserved."""
    data = bytes(data)
    if len(data) != 2:
        raise ParseError(f"RSC feature is 2 bytes, got {len(data)}")
    bits = struct.unpack("<H", data)[0]
    if bits & _FEATURE_RESERVED:
        raise ParseError(f"RSC feature sets reserved bits: 0x{bits:04x}")
    return RscFeature(
        stride_length=bool(bits & 0x01),
        total_distance=bool(bits & 0x02),
        walking_running_status=bool(bits & 0x04),
        calibration=bool(bits & 0x08),
        multiple_locations=bool(bits & 0x10),
    )


def build_feature(feature: RscFeature) -> bytes:
    """Encode an RSC Feature value (inverse of :func:`parse_feature`)."""
    bits = (
        feature.stride_length
        | feature.total_distance << 1
        | feature.walking_running_status << 2
        | feature.calibration << 3
        | feature.multiple_locations << 4
    )
    return struct.pack("<H", bits)
