"""FIT CRC-16 (CRC-16/ARC: reflected polynomial 0xA001, initial value 0): native when the
optional C module is built, else vectorised with numpy.

The CRC is linear over GF(2), so the data is cut into equal blocks whose CRCs are computed
side by side (two bytes per step through a 65,536-entry table), then merged pairwise: the CRC
of ``A + B`` is ``shift(crc(A), len(B)) ^ crc(B)``, where ``shift`` runs zero bytes through
the register (itself linear, so two 256-entry tables). Source: FIT SDK protocol document,
"CRC" section (the nibble algorithm there computes the same function).
"""

from __future__ import annotations

from functools import cache

import numpy as np

_BLOCK_WORDS = 64  # 16-bit words per block in the parallel pass


try:  # optional native CRC (drivers/fit/_walkc.c)
    from . import _walkc
except ImportError:  # pragma: no cover - depends on whether a C compiler was present
    _walkc = None


@cache
def _table8() -> np.ndarray:
    t = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        t = np.where(t & 1, (t >> 1) ^ 0xA001, t >> 1)
    return t.astype(np.uint16)


def crc16_py(data: bytes, crc: int = 0) -> int:
    """Byte-at-a-time CRC (for short inputs and tails)."""
    t = _table8()
    for b in data:
        crc = (crc >> 8) ^ int(t[(crc ^ b) & 0xFF])
    return crc


def _zero_bytes(v: np.ndarray, n: int) -> np.ndarray:
    t = _table8().astype(np.uint32)
    v = v.astype(np.uint32)
    for _ in range(n):
        v = (v >> 8) ^ t[v & 0xFF]
    return v


@cache
def _table16() -> np.ndarray:
    return _zero_bytes(np.arange(65536, dtype=np.uint32), 2).astype(np.uint16)


@cache
def _shift_tables(nbytes: int) -> tuple[np.ndarray, np.ndarray]:
    """Tables applying ``nbytes`` zero bytes to a register: lo[c & 0xFF] ^ hi[c >> 8]."""
    if nbytes <= 256:
        lo = _zero_bytes(np.arange(256), nbytes)
        hi = _zero_bytes(np.arange(256) << 8, nbytes)
    else:
        half_lo, half_hi = _shift_tables(nbytes // 2)
        lo = _apply(_apply(np.arange(256), half_lo, half_hi), half_lo, half_hi)
        hi = _apply(_apply(np.arange(256) << 8, half_lo, half_hi), half_lo, half_hi)
    return lo.astype(np.uint32), hi.astype(np.uint32)


def _apply(c: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    c = c.astype(np.uint32)
    return lo[c & 0xFF] ^ hi[c >> 8]


def crc16(data: bytes | memoryview | np.ndarray) -> int:
    """CRC-16 of ``data`` as the FIT protocol defines it (initial value 0)."""
    if _walkc is not None:
        return _walkc.crc16(data)  # any contiguous buffer: bytes, memoryview, uint8 array
    return crc16_numpy(data)


def crc16_numpy(data: bytes | memoryview | np.ndarray) -> int:
    """The same CRC vectorised with numpy (used when the native module is not built)."""
    buf = np.frombuffer(data, dtype=np.uint8) if not isinstance(data, np.ndarray) else data
    block = 2 * _BLOCK_WORDS
    nblocks = len(buf) // block
    if nblocks < 8:
        return crc16_py(buf.tobytes())
    words = buf[: nblocks * block].view("<u2").reshape(nblocks, _BLOCK_WORDS)
    t16 = _table16()
    c = np.zeros(nblocks, dtype=np.uint16)
    for j in range(_BLOCK_WORDS):
        c = t16[c ^ words[:, j]]
    c = c.astype(np.uint32)
    pad = (1 << int(np.ceil(np.log2(nblocks)))) - nblocks
    if pad:  # leading zero blocks leave a CRC with initial value 0 unchanged
        c = np.concatenate([np.zeros(pad, dtype=np.uint32), c])
    span = block
    while len(c) > 1:
        lo, hi = _shift_tables(span)
        c = _apply(c[0::2], lo, hi) ^ c[1::2]
        span *= 2
    return crc16_py(buf[nblocks * block :].tobytes(), int(c[0]))
