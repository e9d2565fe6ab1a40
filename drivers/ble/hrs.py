"""Heart Rate service payloads.

Source: Bluetooth SIG, *Heart Rate Service 1.0* (HRS_SPEC_V10) and the GATT Specification
Supplement, section "Heart Rate Measurement" (0x2A37). Little-endian.

Heart Rate Measurement layout::

    flags              uint8   bit0 HR is uint16 (else uint8), bit1 sensor contact detected,
                               bit2 sensor contact feature supported, bit3 energy expended
                               present, bit4 RR intervals present, bits 5-7 reserved
    heart rate         uint8 or uint16, beats per minute
    energy expended    uint16  kJ since the last reset (if bit3)
    RR intervals       uint16 each, 1/1024 s, as many as fit (if bit4)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from drivers.ble.errors import ParseError

_HR_UINT16 = 0x01
_CONTACT_DETECTED = 0x02
_CONTACT_SUPPORTED = 0x04
_ENERGY_PRESENT = 0x08
_RR_PRESENT = 0x10
_RESERVED = 0xE0


@dataclass(frozen=True, slots=True)
class HeartRateMeasurement:
    """One Heart Rate Measurement notification.

    Attributes: ``hr_bpm`` (beats/min), ``rr_s`` (RR intervals in seconds, oldest first,
    may be empty), ``energy_kj`` (kJ or None), ``contact`` (True/False when the strap
    reports skin contact, None when it does not support contact detection).
    """

    hr_bpm: int
    rr_s: tuple[float, ...]
    energy_kj: int | None
    contact: bool | None


def parse_measurement(data: bytes) -> HeartRateMeasurement:
    """Parse a Heart Rate Measurement (0x2A37) notification.

    Raises :class:`ParseError` for a reserved flag bit, a truncated payload, trailing bytes
    without the RR flag, or an odd number of RR bytes.
    """
    data = bytes(data)
    if len(data) < 2:
        raise ParseError(f"HR measurement needs at least 2 bytes, got {len(data)}")
    flags = data[0]
    if flags & _RESERVED:
        raise ParseError(f"HR measurement sets reserved flag bits: 0x{flags:02x}")
    offset = 1
    if flags & _HR_UINT16:
        if len(data) < 3:
            raise ParseError("HR measurement announces uint16 heart rate but has 2 bytes")
        hr = struct.unpack_from("<H", data, 1)[0]
        offset = 3
    else:
        hr = data[1]
        offset = 2
    energy = None
    if flags & _ENERGY_PRESENT:
        if len(data) < offset + 2:
            raise ParseError("HR measurement announces energy expended but is truncated")
        energy = struct.unpack_from("<H", data, offset)[0]
        offset += 2
    rr: tuple[float, ...] = ()
    rest = len(data) - offset
    if flags & _RR_PRESENT:
        if rest == 0 or rest % 2:
            raise ParseError(f"HR measurement has {rest} RR bytes (need a positive even number)")
        rr = tuple(v / 1024.0 for v in struct.unpack_from(f"<{rest // 2}H", data, offset))
    elif rest:
        raise ParseError(f"HR measurement has {rest} trailing bytes")
    contact = bool(flags & _CONTACT_DETECTED) if flags & _CONTACT_SUPPORTED else None
    return HeartRateMeasurement(hr_bpm=hr, rr_s=rr, energy_kj=energy, contact=contact)


def build_measurement(
    hr_bpm: int,
    rr_s: tuple[float, ...] | list[float] = (),
    energy_kj: int | None = None,
    contact: bool | None = None,
) -> bytes:
    """Encode a Heart Rate Measurement payload (inverse of :func:`parse_measurement`).

    Uses the uint8 format when the rate fits, as the specification recommends.
    """
    hr = int(round(hr_bpm))
    flags = 0
    out = bytearray()
    if hr > 0xFF:
        flags |= _HR_UINT16
        out += struct.pack("<H", min(hr, 0xFFFF))
    else:
        out.append(max(hr, 0))
    if contact is not None:
        flags |= _CONTACT_SUPPORTED | (_CONTACT_DETECTED if contact else 0)
    if energy_kj is not None:
        flags |= _ENERGY_PRESENT
        out += struct.pack("<H", max(0, min(int(energy_kj), 0xFFFF)))
    if rr_s:
        flags |= _RR_PRESENT
        out += b"".join(struct.pack("<H", max(0, min(round(r * 1024), 0xFFFF))) for r in rr_s)
    return bytes([flags]) + bytes(out)
