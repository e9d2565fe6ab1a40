"""PMD delta compression: decoder and encoder.

Follows ``BlePMDClient.parseDeltaFramesAll`` / ``parseDeltaFrame`` /
``parseDeltaFrameRefSamples`` of the Polar BLE SDK (polarofficial/polar-ble-sdk)::

    reference sample   channels x ceil(resolution / 8) bytes, signed little-endian
    then blocks of     [delta bit width: uint8] [sample count: uint8]
                       [ceil(width x count x channels / 8) bytes of packed deltas]

Bits are consumed least-significant first from each byte and assembled least-significant
first into each ``width``-bit two's-complement delta; deltas are ordered sample by sample,
channel by channel, and each sample is the previous one plus its delta.
"""

from __future__ import annotations

import numpy as np

from drivers.ble.errors import ParseError

_MAX_WIDTH = 32


def decode(content: bytes, channels: int, resolution: int) -> np.ndarray:
    """Decode a delta-compressed frame body into an ``(n, channels)`` int64 array.

    ``resolution`` is the bit size of one reference value (16 for ACC/GYRO type 0/1, 32
    for float frames). Raises :class:`ParseError` for a truncated reference sample or
    block, or a delta width of 0 or above 32 (the SDK accumulates in 32-bit integers; a
    delta between two 16-bit values may need 17 bits, so the width may exceed
    ``resolution``).
    """
    ref_bytes = (resolution + 7) // 8
    offset = channels * ref_bytes
    if len(content) < offset:
        raise ParseError(
            f"PMD delta frame: reference sample needs {offset} bytes, got {len(content)}"
        )
    ref = [
        int.from_bytes(content[i * ref_bytes : (i + 1) * ref_bytes], "little", signed=True)
        for i in range(channels)
    ]
    rows = [np.asarray([ref], dtype=np.int64)]
    while offset < len(content):
        if offset + 2 > len(content):
            raise ParseError("PMD delta frame: truncated block header")
        width, count = content[offset], content[offset + 1]
        offset += 2
        if not 0 < width <= _MAX_WIDTH:
            raise ParseError(f"PMD delta frame: impossible delta width {width}")
        n_bytes = (width * count * channels + 7) // 8
        if offset + n_bytes > len(content):
            raise ParseError(
                f"PMD delta frame: block needs {n_bytes} bytes, {len(content) - offset} left"
            )
        rows.append(_unpack(content[offset : offset + n_bytes], width, count, channels))
        offset += n_bytes
    deltas = np.concatenate(rows, axis=0)
    return np.cumsum(deltas, axis=0)


def _unpack(block: bytes, width: int, count: int, channels: int) -> np.ndarray:
    bits = np.unpackbits(np.frombuffer(block, dtype=np.uint8), bitorder="little")
    bits = bits[: width * count * channels].reshape(count * channels, width).astype(np.int64)
    values = bits @ (np.int64(1) << np.arange(width, dtype=np.int64))
    values -= (values >> (width - 1) & 1) << width  # two's complement sign extension
    return values.reshape(count, channels)


def encode(samples: np.ndarray, resolution: int = 16, block: int = 0xFF) -> bytes:
    """Encode ``(n, channels)`` integer samples as a delta-compressed body.

    Inverse of :func:`decode`; each block uses the smallest width that holds its deltas
    (at least 1 bit), up to ``block`` samples per block. Used by the emulated PMD sensor.
    """
    samples = np.asarray(samples, dtype=np.int64)
    if samples.ndim != 2 or len(samples) == 0:
        raise ValueError("samples must be a non-empty (n, channels) array")
    ref_bytes = (resolution + 7) // 8
    out = bytearray(b"".join(int(v).to_bytes(ref_bytes, "little", signed=True) for v in samples[0]))
    deltas = np.diff(samples, axis=0)
    if resolution >= _MAX_WIDTH:  # 32-bit patterns: deltas wrap modulo 2**32, as in the SDK
        deltas = (deltas + (1 << 31)) % (1 << 32) - (1 << 31)
    for start in range(0, len(deltas), block):
        chunk = deltas[start : start + block]
        width = _width(chunk)
        out += bytes([width, len(chunk)])
        out += _pack(chunk, width)
    return bytes(out)


def _width(deltas: np.ndarray) -> int:
    lo, hi = int(deltas.min()), int(deltas.max())
    width = 1
    while not (-(1 << (width - 1)) <= lo and hi < (1 << (width - 1))):
        width += 1
    return width


def _pack(deltas: np.ndarray, width: int) -> bytes:
    flat = deltas.reshape(-1) & ((1 << width) - 1)
    bits = (flat[:, None] >> np.arange(width, dtype=np.int64)) & 1
    return np.packbits(bits.reshape(-1).astype(np.uint8), bitorder="little").tobytes()
