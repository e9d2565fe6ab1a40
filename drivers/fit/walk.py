"""One pass over FIT record headers: definitions, and where each data message starts.

The walk reads only record headers and definition messages in Python: while no definition
changes, a tight loop maps each header byte to its message length through a 256-entry
table and jumps to the next header (about 0.1 µs per message). Every size is checked against the bytes that exist, so a damaged file stops the
walk with ``error`` (and the byte offset) instead of a crash, a hang or a huge allocation.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from .crc import crc16, crc16_py

try:  # optional native loop (drivers/fit/_walkc.c); the Python loop below does the same
    from . import _walkc
except ImportError:  # pragma: no cover - depends on whether a C compiler was present
    _walkc = None

#: FIT base types: code → (numpy type char, size, invalid raw value or None for NaN/none).
BASE_TYPES: dict[int, tuple[str, int, object]] = {
    0x00: ("u1", 1, 0xFF),  # enum
    0x01: ("i1", 1, 0x7F),
    0x02: ("u1", 1, 0xFF),
    0x83: ("i2", 2, 0x7FFF),
    0x84: ("u2", 2, 0xFFFF),
    0x85: ("i4", 4, 0x7FFFFFFF),
    0x86: ("u4", 4, 0xFFFFFFFF),
    0x07: ("S", 1, None),  # string
    0x88: ("f4", 4, "nan"),
    0x89: ("f8", 8, "nan"),
    0x0A: ("u1", 1, 0),  # uint8z
    0x8B: ("u2", 2, 0),
    0x8C: ("u4", 4, 0),
    0x0D: ("u1", 1, 0xFF),  # byte: a tuple, None only when every byte is 0xFF
    0x8E: ("i8", 8, 0x7FFFFFFFFFFFFFFF),
    0x8F: ("u8", 8, 0xFFFFFFFFFFFFFFFF),
    0x90: ("u8", 8, 0),
}
BYTE = 0x0D
STRING = 0x07
_BY_LOW5 = {code & 0x1F: code for code in BASE_TYPES}

#: Header bytes that address each local message type (normal and compressed-timestamp data).
_HEADERS_OF: list[list[int]] = [
    [
        h
        for h in range(256)
        if (h & 0x80 and (h >> 5) & 0x3 == local) or (not h & 0xC0 and h & 0x0F == local)
    ]
    for local in range(16)
]

FIELD_DESCRIPTION = 206
DEVELOPER_DATA_ID = 207


@dataclass(slots=True)
class FieldDef:
    """One field of a definition message: number, size in bytes, base type, offset in the message."""

    num: int
    size: int
    base: int
    offset: int


@dataclass(slots=True)
class DevInfo:
    """A developer field as its field_description message declares it."""

    name: str
    base: int
    units: str


@dataclass(slots=True)
class DevFieldDef:
    """One developer field of a definition message."""

    num: int
    size: int
    dev_index: int
    offset: int
    info: DevInfo | None


@dataclass(slots=True)
class Definition:
    """A definition message; ``size`` is the data message length without its header byte."""

    id: int
    pos: int
    local: int
    mesg_num: int
    big: bool
    fields: list[FieldDef]
    dev_fields: list[DevFieldDef]
    size: int
    part: int = 0


@dataclass
class Layout:
    """Result of the walk: definitions, data message positions and what went wrong."""

    defs: list[Definition] = field(default_factory=list)
    positions: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    def_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    compressed: bool = False
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    crc_errors: list[str] = field(default_factory=list)


class _Stop(Exception):
    """Ends the walk at damage (the message says where)."""


class Walker:
    """Walks every chained part of a FIT file held in ``buf``."""

    def __init__(self, buf: bytes, check_crc: bool = True) -> None:
        self.buf = buf
        self.arr = np.frombuffer(buf, dtype=np.uint8)
        self.check_crc = check_crc
        self.out = Layout()
        self.dev_types: dict[tuple[int, int], DevInfo] = {}
        self.segments: list[tuple[np.ndarray, np.ndarray]] = []
        self._seen: dict[bytes, tuple[list[FieldDef], int, list[str]]] = {}

    def run(self) -> Layout:
        """Walk the file; raises nothing but :class:`ValueError` for a non-FIT first header."""
        pos, part = 0, 0
        n = len(self.buf)
        while pos < n:
            if n - pos < 12 or self.buf[pos + 8 : pos + 12] != b".FIT":
                if part == 0:
                    raise ValueError("not a FIT file (no '.FIT' signature in the header)")
                self.out.warnings.append(f"{n - pos} trailing bytes after byte {pos} ignored")
                break
            try:
                pos = self._part(pos, part)
            except _Stop as exc:
                self.out.error = str(exc)
                break
            part += 1
        self._finish()
        return self.out

    def _part(self, pos: int, part: int) -> int:
        buf, n = self.buf, len(self.buf)
        hsize = buf[pos]
        if hsize < 12 or pos + hsize > n:
            raise _Stop(f"bad file header size {hsize} at byte {pos}")
        data_size = struct.unpack_from("<I", buf, pos + 4)[0]
        if hsize >= 14 and self.check_crc:
            stored = struct.unpack_from("<H", buf, pos + 12)[0]
            if stored != 0 and crc16_py(buf[pos : pos + 12]) != stored:
                self.out.crc_errors.append(f"header CRC mismatch in the file header at byte {pos}")
        start = pos + hsize
        end = start + data_size
        limit = min(end, n)
        self.local: list[Definition | None] = [None] * 16
        self.part = part
        self._messages(start, limit)
        if end > n:
            raise _Stop(f"truncated: data ends at byte {n}, header says {end}")
        if end + 2 > n:
            raise _Stop(f"truncated: file CRC missing at byte {end}")
        if self.check_crc and crc16(self.arr[pos : end + 2]) != 0:
            stored = struct.unpack_from("<H", buf, end)[0]
            self.out.crc_errors.append(
                f"file CRC mismatch (stored 0x{stored:04X}) for the part at byte {pos}"
            )
        return end + 2

    def _tables(self) -> tuple[list[int], np.ndarray]:
        """Message length by header byte (0: needs the slow path) and definition id by header.

        The lengths are also kept as a uint32 array for the native walk (``_steps``: made
        once and updated in place, not converted from the list before every run of data)."""
        steps = [0] * 256
        defs = np.full(256, -1, dtype=np.int32)
        self._steps = np.zeros(256, dtype=np.uint32)
        for local in range(16):
            self._update(steps, defs, local)
        return steps, defs

    def _update(self, steps: list[int], defs: np.ndarray, local: int) -> None:
        """Point the header bytes of local type ``local`` at its current definition."""
        d = self.local[local]
        if d is None:
            return
        step = d.size + 1 if d.mesg_num not in (FIELD_DESCRIPTION, DEVELOPER_DATA_ID) else 0
        heads = _HEADERS_OF[local]
        for h in heads:
            defs[h] = d.id
            steps[h] = step
        self._steps[heads] = step

    def _messages(self, pos: int, limit: int) -> None:
        """Walk the data section; a tight loop over headers while no definition changes."""
        buf = self.buf
        steps, defs = self._tables()
        while pos < limit:
            seg, pos = self._run_of_data(steps, pos, limit)
            if pos > limit:
                bad = int(seg[-1])
                self._flush(seg[:-1], defs)
                raise _Stop(f"truncated: message at byte {bad} runs past byte {limit}")
            self._flush(seg, defs)
            if pos >= limit:
                break
            h = buf[pos]
            if h & 0xC0 == 0x40:
                pos = self._definition(pos, limit, h)
                self._update(steps, defs, h & 0x0F)
                continue
            d = self.local[(h >> 5) & 0x3] if h & 0x80 else self.local[h & 0x0F]
            if d is None:
                kind = "compressed-timestamp" if h & 0x80 else "data"
                raise _Stop(
                    f"{kind} message with undefined local type "
                    f"{(h >> 5) & 3 if h & 0x80 else h & 0x0F} at byte {pos}"
                )
            if pos + d.size + 1 > limit:
                raise _Stop(
                    f"truncated: message at byte {pos} needs {d.size + 1} bytes, {limit - pos} left"
                )
            self._developer(pos, d)
            self._flush(np.array([pos], dtype=np.int64), defs)
            pos += d.size + 1

    def _run_of_data(self, steps: list[int], pos: int, limit: int) -> tuple[np.ndarray, int]:
        """Starts of consecutive data messages from ``pos`` until a header needs the slow
        path (a definition, developer data, an undefined type) or ``limit``; the last
        message may overrun ``limit`` (the caller reports it)."""
        if _walkc is not None:
            starts, pos = _walkc.walk(self.buf, pos, limit, self._steps)
            return np.frombuffer(starts, dtype=np.int64), pos
        buf, seg = self.buf, []
        app = seg.append
        while pos < limit:
            step = steps[buf[pos]]
            if not step:
                break
            app(pos)
            pos += step
        return np.fromiter(seg, dtype=np.int64, count=len(seg)), pos

    def _flush(self, seg: np.ndarray, defs: np.ndarray) -> None:
        if len(seg):
            self.segments.append((seg, defs[self.arr[seg]]))

    def _definition(self, pos: int, limit: int, h: int) -> int:
        buf = self.buf
        if pos + 6 > limit:
            raise _Stop(f"truncated: definition message at byte {pos}")
        big = buf[pos + 2] != 0
        mesg_num = struct.unpack_from(">H" if big else "<H", buf, pos + 3)[0]
        nfields = buf[pos + 5]
        p = pos + 6
        if p + 3 * nfields > limit:
            raise _Stop(f"truncated: definition message at byte {pos} ({nfields} fields)")
        fields, offset = self._fields(pos, p, nfields, mesg_num)
        p += 3 * nfields
        dev_fields = []
        if h & 0x20:
            if p + 1 > limit:
                raise _Stop(f"truncated: definition message at byte {pos} (developer fields)")
            ndev = buf[p]
            p += 1
            if p + 3 * ndev > limit:
                raise _Stop(f"truncated: definition message at byte {pos} ({ndev} dev fields)")
            for i in range(ndev):
                num, size, idx = buf[p + 3 * i], buf[p + 3 * i + 1], buf[p + 3 * i + 2]
                info = self.dev_types.get((idx, num))
                if info is None:
                    self.out.warnings.append(
                        f"developer field {num} of data index {idx} has no field_description "
                        f"(definition at byte {pos}); its bytes are skipped"
                    )
                dev_fields.append(DevFieldDef(num, size, idx, offset, info))
                offset += size
            p += 3 * ndev
        d = Definition(
            len(self.out.defs), pos, h & 0x0F, mesg_num, big, fields, dev_fields, offset, self.part
        )
        self.out.defs.append(d)
        self.local[h & 0x0F] = d
        return p

    def _fields(self, pos: int, p: int, nfields: int, mesg_num: int) -> tuple[list, int]:
        """The field definitions at ``p`` and their total size. A file that redefines its
        local types often repeats the same definition bytes thousands of times: those are
        parsed once (``FieldDef`` is never changed after this) and their warnings repeated."""
        key = bytes(self.buf[pos + 2 : p + 3 * nfields])
        hit = self._seen.get(key)
        if hit is None:
            before = len(self.out.warnings)
            fields, offset = [], 0
            buf = self.buf
            for i in range(nfields):
                num, size, base = buf[p + 3 * i], buf[p + 3 * i + 1], buf[p + 3 * i + 2]
                fields.append(FieldDef(num, size, self._base(base, size, mesg_num, num), offset))
                offset += size
            hit = self._seen[key] = (fields, offset, self.out.warnings[before:])
        else:
            self.out.warnings.extend(hit[2])
        return list(hit[0]), hit[1]

    def _base(self, base: int, size: int, mesg_num: int, num: int) -> int:
        code = base if base in BASE_TYPES else _BY_LOW5.get(base & 0x1F, BYTE)
        if size % BASE_TYPES[code][1]:
            self.out.warnings.append(
                f"message {mesg_num} field {num}: size {size} is not a multiple of its base "
                f"type size; read as bytes"
            )
            return BYTE
        return code

    def _developer(self, pos: int, d: Definition) -> None:
        """Decode a developer_data_id / field_description message now: later definitions need it."""
        vals = read_scalar_fields(self.buf, pos + 1, d)
        if d.mesg_num == FIELD_DESCRIPTION:
            idx, num, base = vals.get(0), vals.get(1), vals.get(2)
            if idx is None or num is None or base is None:
                return
            code = base if base in BASE_TYPES else _BY_LOW5.get(base & 0x1F, BYTE)
            name = vals.get(3) or f"unnamed_dev_field_{num}"
            self.dev_types[(idx, num)] = DevInfo(str(name), code, str(vals.get(8) or ""))

    def _finish(self) -> None:
        if not self.segments:
            return
        self.out.positions = np.concatenate([p for p, _ in self.segments])
        self.out.def_ids = np.concatenate([d for _, d in self.segments])
        self.out.compressed = bool((self.arr[self.out.positions] & 0x80).any())


def read_scalar_fields(buf: bytes, start: int, d: Definition) -> dict[int, object]:
    """Raw values of one message's fields (first element of arrays; strings decoded)."""
    out: dict[int, object] = {}
    for f in d.fields:
        if f.size == 0:
            continue
        raw = buf[start + f.offset : start + f.offset + f.size]
        char, size, invalid = BASE_TYPES[f.base]
        if f.base == STRING:
            s = raw.split(b"\0", 1)[0].decode("utf-8", "replace")
            out.setdefault(f.num, s or None)
            continue
        v = np.frombuffer(raw[:size], dtype=(">" if d.big else "<") + char)[0].item()
        if v != invalid and v == v:
            out.setdefault(f.num, v)
    return out
