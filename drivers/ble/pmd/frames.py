"""PMD data frames (ACC, GYRO): header, raw and delta-compressed content, timestamps.

Header (``PmdDataFrame.kt``): measurement type (uint8), timestamp (uint64, ns since
2000-01-01T00:00:00 of the *last* sample in the frame), frame type (bits 0-6; bit 7 set
when delta-compressed). Content decoding per ``model/AccData.kt`` and ``model/GyrData.kt``;
timestamps per ``model/PmdTimeStampUtils.kt`` of the Polar BLE SDK:

- with a previous frame timestamp ``p`` (same measurement and frame type):
  ``delta = (t - p) / n`` and sample ``i`` is at ``p + (i + 1) * delta``;
- for the first frame: ``delta = 1 / sample_rate`` counted back from ``t``.

The last sample is always exactly ``t``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from drivers.ble.errors import ParseError
from drivers.ble.pmd import delta
from drivers.ble.pmd.control import MeasurementType

POLAR_EPOCH_UNIX_NS = 946_684_800 * 1_000_000_000
"""2000-01-01T00:00:00Z in Unix nanoseconds: add it to a PMD timestamp for Unix time."""

HEADER_SIZE = 10
COMPRESSED = 0x80

# (measurement, frame type, compressed) -> (kind, bits per value, scale to output unit)
# kind "int": signed integers; "float": float32 bit patterns. ACC out in g, GYRO in deg/s.
_LAYOUTS: dict[tuple[int, int, bool], tuple[str, int, float]] = {
    (MeasurementType.ACC, 0, False): ("int", 8, 1e-3),  # mG, no factor (AccData raw 0)
    (MeasurementType.ACC, 1, False): ("int", 16, 1e-3),  # mG (AccData raw 1)
    (MeasurementType.ACC, 2, False): ("int", 24, 1e-3),  # mG (AccData raw 2)
    (MeasurementType.ACC, 0, True): ("int", 16, 1.0),  # g x factor (AccData compressed 0)
    (MeasurementType.ACC, 1, True): ("int", 16, 1e-3),  # mG x factor (compressed 1)
    (MeasurementType.GYRO, 0, True): ("int", 16, 1.0),  # deg/s x factor (GyrData 0)
    (MeasurementType.GYRO, 1, True): ("float", 32, 1.0),  # float32 deg/s x factor (GyrData 1)
}
UNITS = {MeasurementType.ACC: "g", MeasurementType.GYRO: "dps"}


@dataclass(frozen=True, slots=True)
class FrameHeader:
    """The 10-byte header of a PMD data frame."""

    measurement_type: int
    timestamp_ns: int
    frame_type: int
    compressed: bool


@dataclass(frozen=True, slots=True, eq=False)
class PmdFrame:
    """Decoded 3-axis samples of one frame.

    ``t_ns``: int64 array, ns since 2000-01-01 (add :data:`POLAR_EPOCH_UNIX_NS` for Unix);
    ``xyz``: float64 ``(n, 3)`` array in ``unit`` ("g" for ACC, "dps" for GYRO).
    """

    header: FrameHeader
    t_ns: np.ndarray
    xyz: np.ndarray
    unit: str

    @property
    def measurement_type(self) -> int:
        return self.header.measurement_type

    def __len__(self) -> int:
        return len(self.t_ns)


def parse_header(data: bytes) -> FrameHeader:
    """Parse the frame header; :class:`ParseError` if shorter than 10 bytes."""
    if len(data) < HEADER_SIZE:
        raise ParseError(f"PMD frame needs at least {HEADER_SIZE} bytes, got {len(data)}")
    return FrameHeader(
        measurement_type=data[0] & 0x3F,
        timestamp_ns=struct.unpack_from("<Q", data, 1)[0],
        frame_type=data[9] & 0x7F,
        compressed=bool(data[9] & COMPRESSED),
    )


def build_frame(
    measurement_type: int, timestamp_ns: int, frame_type: int, compressed: bool, content: bytes
) -> bytes:
    """Encode a data frame from its header fields and content."""
    return (
        bytes([measurement_type])
        + struct.pack("<Q", timestamp_ns)
        + bytes([frame_type | (COMPRESSED if compressed else 0)])
        + bytes(content)
    )


def decode_values(header: FrameHeader, content: bytes, factor: float = 1.0) -> np.ndarray:
    """Decode frame content into ``(n, 3)`` float64 values in the output unit."""
    key = (header.measurement_type, header.frame_type, header.compressed)
    if key not in _LAYOUTS:
        raise ParseError(f"PMD frame: unsupported measurement/frame type {key}")
    kind, bits, scale = _LAYOUTS[key]
    ints = delta.decode(content, 3, bits) if header.compressed else _raw(content, bits // 8)
    if kind == "float":
        values = (ints & 0xFFFFFFFF).astype(np.uint32).view(np.float32).astype(np.float64)
    else:
        values = ints.astype(np.float64)
    if header.compressed:
        values = values * factor
    return values * scale


def _raw(content: bytes, size: int) -> np.ndarray:
    if not content or len(content) % (3 * size):
        raise ParseError(f"PMD raw frame: {len(content)} bytes is not a whole number of samples")
    if size == 3:
        b = np.frombuffer(content, dtype=np.uint8).reshape(-1, 3).astype(np.int64)
        v = b[:, 0] | b[:, 1] << 8 | b[:, 2] << 16
        return (v - ((v >> 23 & 1) << 24)).reshape(-1, 3)
    return np.frombuffer(content, dtype={1: "<i1", 2: "<i2"}[size]).astype(np.int64).reshape(-1, 3)


def sample_times(
    timestamp_ns: int, n: int, previous_ns: int = 0, sample_rate_hz: float = 0.0
) -> np.ndarray:
    """Spread a frame timestamp (of its last sample) over ``n`` samples (PmdTimeStampUtils).

    Uses the previous frame's timestamp when there is one and it is earlier, otherwise
    the sample rate. :class:`ParseError` when neither is usable and ``n > 1``.
    """
    idx = np.arange(1, n + 1, dtype=np.float64)
    if 0 < previous_ns < timestamp_ns:
        step = (timestamp_ns - previous_ns) / n
        t = np.rint(previous_ns + idx * step)
    elif sample_rate_hz > 0 or n == 1:
        step = 1e9 / sample_rate_hz if sample_rate_hz > 0 else 0.0
        t = np.rint(timestamp_ns - (n - idx) * step)
    else:
        raise ParseError("PMD frame: no previous timestamp and no sample rate to time samples")
    t = t.astype(np.int64)
    t[-1] = timestamp_ns
    return t


def parse_frame(
    data: bytes, previous_ns: int = 0, factor: float = 1.0, sample_rate_hz: float = 0.0
) -> PmdFrame:
    """Parse one ACC or GYRO data frame notification (pure; see :class:`PmdDecoder`)."""
    data = bytes(data)
    header = parse_header(data)
    values = decode_values(header, data[HEADER_SIZE:], factor)
    t = sample_times(header.timestamp_ns, len(values), previous_ns, sample_rate_hz)
    unit = UNITS[MeasurementType(header.measurement_type)]
    return PmdFrame(header=header, t_ns=t, xyz=values, unit=unit)


class PmdDecoder:
    """Stateful decoder for one PMD stream: remembers settings and previous timestamps.

    ``configure(type, sample_rate_hz, factor)`` after a successful start response (the
    factor comes from that response); ``feed(data)`` parses one frame. The previous
    timestamp is kept per (measurement type, frame type), as ``BlePMDClient`` does.
    """

    def __init__(self) -> None:
        self.sample_rate_hz: dict[int, float] = {}
        self.factor: dict[int, float] = {}
        self.previous_ns: dict[tuple[int, int], int] = {}

    def configure(self, measurement_type: int, sample_rate_hz: float, factor: float = 1.0) -> None:
        self.sample_rate_hz[measurement_type] = sample_rate_hz
        self.factor[measurement_type] = factor

    def reset(self) -> None:
        """Forget previous timestamps (after a stop or a reconnect)."""
        self.previous_ns.clear()

    def feed(self, data: bytes) -> PmdFrame:
        header = parse_header(data)
        key = (header.measurement_type, header.frame_type)
        previous = self.previous_ns.get(key, 0)
        self.previous_ns[key] = header.timestamp_ns
        mt = header.measurement_type
        return parse_frame(
            data, previous, self.factor.get(mt, 1.0), self.sample_rate_hz.get(mt, 0.0)
        )
