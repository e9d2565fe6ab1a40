"""Decode all data messages of one definition at once: bytes → typed numpy columns.

Values follow fitparse's conventions (the project's oracle): invalid raw values (per base
type) are missing; enums render to their profile names (unknown values stay ints); the
scale/offset rule is ``float(raw) / scale - offset``; arrays are tuples; byte fields are
tuples (missing only when every byte is 0xFF); a component field is emitted before the
field that carries it, and when one message names a field twice the later value wins.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from . import profile as prof
from .profile import Component, FieldSpec, MesgSpec
from .walk import BASE_TYPES, BYTE, STRING, Definition


@dataclass(slots=True)
class Col:
    """A decoded column piece: ``kind`` is num, dt (FIT seconds, UTC), ldt (local), bool or obj."""

    kind: str
    values: np.ndarray
    valid: np.ndarray
    covered: bool = True  # every row has the field (fitparse: the key exists, maybe None)
    text: bool = False  # obj values are all str or None (pandas makes such a column ``str``)
    _every: bool | None = None

    def every(self) -> bool:
        """True when every row is valid (cached)."""
        if self._every is None:
            self._every = bool(self.valid.all())
        return self._every


@dataclass(slots=True)
class Pending:
    """Raw component values that must be accumulated across messages before scaling."""

    comp: Component
    target: FieldSpec
    raw: np.ndarray  # int64
    valid: np.ndarray


@dataclass(slots=True)
class Producer:
    """One FieldData of fitparse, for every message of the group (``mask``: rows it applies to)."""

    name: str
    col: Col | None
    mask: np.ndarray | None
    units: str
    pending: Pending | None = None


@dataclass(slots=True)
class Raw:
    """Raw values of one field for all messages of the group."""

    base: int
    values: np.ndarray | list  # (n, count) numbers, or list of str/None for strings
    elem_valid: np.ndarray | None  # (n, count)
    valid: np.ndarray  # (n,) — what fitparse would not call None

    @property
    def scalar(self) -> bool:
        return self.base not in (BYTE, STRING) and self.values.shape[1] == 1


def gather(arr: np.ndarray, positions: np.ndarray, size: int) -> np.ndarray:
    """The ``(n, size)`` content bytes of the messages whose headers are at ``positions``."""
    if size == 0:
        return np.zeros((len(positions), 0), np.uint8)
    # every window of ``size`` bytes, as a strided view (sliding_window_view's checks cost
    # ~7x the gather itself on the few messages of a small definition)
    windows = np.ndarray((len(arr) - size + 1, size), np.uint8, arr, 0, (1, 1))
    return windows[positions + 1]


def read_raw(rows: np.ndarray, offset: int, size: int, base: int, big: bool) -> Raw:
    """Parse one field from the gathered message bytes."""
    char, bsize, invalid = BASE_TYPES[base]
    n = rows.shape[0]
    chunk = rows[:, offset : offset + size]
    if base == STRING:
        vals = _strings(chunk)
        return Raw(base, vals, None, np.array([v is not None for v in vals], bool))
    count = size // bsize
    dtype, native = _DTYPES[char, big]
    if rows.flags.c_contiguous and n:  # read in place (strided, maybe unaligned): one copy
        view = np.ndarray((n, count), dtype, rows, offset, (rows.strides[0], bsize))
    else:
        view = np.ascontiguousarray(chunk[:, : count * bsize]).view(dtype).reshape(n, count)
    vals = view.astype(native)
    ev = ~np.isnan(vals) if invalid == "nan" else vals != _INVALID[base]
    if base == BYTE:
        valid = ev.any(axis=1)
    elif count == 1:
        valid = ev[:, 0]
    else:
        valid = np.ones(n, bool)
    return Raw(base, vals, ev, valid)


#: (file dtype, native dtype) per numpy type character and byte order (made once: a
#: dtype's ``newbyteorder`` costs ~1 us, a few times per field of every definition).
_DTYPES = {
    (char, big): (np.dtype(char).newbyteorder(">" if big else "<"), np.dtype(char))
    for char, _, _ in BASE_TYPES.values()
    for big in (False, True)
}

#: Invalid raw value of each integer base type, as a scalar of that type.
_INVALID = {
    code: np.array(inv).astype(char)[()]
    for code, (char, _, inv) in BASE_TYPES.items()
    if inv not in (None, "nan")
}


def _string(b: bytes) -> str | None:
    return b.split(b"\0", 1)[0].decode("utf-8", "replace") or None


def _strings(chunk: np.ndarray) -> list:
    n, width = chunk.shape
    if width == 0:
        return [None] * n
    flat = np.ascontiguousarray(chunk).view(f"S{width}").ravel()
    uniq, inv = np.unique(flat, return_inverse=True)
    # numpy drops trailing NULs; a NUL inside still ends the FIT string
    dec = [_string(bytes(u)) for u in uniq]
    return [dec[i] for i in inv.ravel()]


def _tuples(values: np.ndarray, ev: np.ndarray, scale: float, offset: float) -> np.ndarray:
    """One tuple per row (fitparse's array values), None for invalid elements.

    A row's tuple depends only on its raw bytes, so rows that fit in 8 bytes are made
    once per distinct row and shared (tuples are immutable)."""
    n, count = values.shape
    width = count * values.itemsize
    if n > 1 and width <= 8:
        size = 1 if width == 1 else 2 if width == 2 else 8
        packed = np.zeros((n, size), np.uint8)
        packed[:, :width] = np.ascontiguousarray(values).view(np.uint8).reshape(n, width)
        _, first, inv = _unique(packed.view(f"u{size}").ravel())
        if len(first) < n:
            return _row_tuples(values[first], ev[first], scale, offset)[inv]
    return _row_tuples(values, ev, scale, offset)


def _row_tuples(values: np.ndarray, ev: np.ndarray, scale: float, offset: float) -> np.ndarray:
    """:func:`_tuples` for every row: Python numbers are made once per distinct raw value
    (arrays such as ``hrv.time`` repeat few values), rows become tuples in one ``zip``."""
    n, count = values.shape
    if n == 0 or not ev.any():
        out = np.empty(n, dtype=object)
        out.fill((None,) * count)
        return out
    if n <= _SMALL:
        v = values.astype(np.float64) / scale if scale != 1 else values
        if offset:
            v = v - offset
        return np.fromiter(
            (
                tuple(x if ok else None for x, ok in zip(r, e, strict=True))
                for r, e in zip(v.tolist(), ev.tolist(), strict=True)
            ),
            dtype=object,
            count=n,
        )
    raw = values[ev]
    isf = raw.dtype.kind == "f"
    uniq, _, inv = _unique(raw.view(f"u{raw.itemsize}") if isf else raw)  # floats by bits
    if isf:
        uniq = uniq.astype(f"u{raw.itemsize}").view(raw.dtype)
    v = uniq.astype(np.float64) / scale if scale != 1 else uniq
    if offset:
        v = v - offset
    lut = np.empty(len(uniq) + 1, dtype=object)
    lut[:-1] = v.tolist()
    idx = np.full((n, count), len(uniq), dtype=np.intp)
    idx[ev] = inv
    return np.fromiter(zip(*lut[idx].T.tolist(), strict=True), dtype=object, count=n)


def _render(vals: np.ndarray, valid: np.ndarray, mapping: dict[int, str]) -> Col | None:
    """Enum names for raw ints; None when no value has a name (the column stays numeric)."""
    if len(vals) <= _SMALL:
        return _render_small(vals, valid, mapping)
    uniq, _, inv = _unique(vals[valid])
    names = [mapping.get(int(u)) for u in uniq]
    if not any(x is not None for x in names):
        return None
    lut = np.array(
        [nm if nm is not None else int(u) for nm, u in zip(names, uniq, strict=True)] + [None],
        dtype=object,
    )
    idx = np.full(len(vals), len(uniq), dtype=np.int64)
    idx[valid] = inv.ravel()
    return Col("obj", lut[idx], valid.copy(), text=all(nm is not None for nm in names))


#: Up to this many rows, per-value Python beats numpy's per-call overhead.
_SMALL = 32


def _render_small(vals: np.ndarray, valid: np.ndarray, mapping: dict[int, str]) -> Col | None:
    """:func:`_render` value by value (few rows)."""
    items: list = []
    named, text = False, True
    for v, ok in zip(vals.tolist(), valid.tolist(), strict=True):
        if not ok:
            items.append(None)
            continue
        name = mapping.get(int(v))
        if name is None:
            items.append(int(v))
            text = False
        else:
            items.append(name)
            named = True
    if not named:
        return None
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return Col("obj", out, valid.copy(), text=text)


def _scaled(vals: np.ndarray, scale: float, offset: float) -> np.ndarray:
    """fitparse's ``float(raw) / scale - offset``; unscaled ints stay int64."""
    if scale != 1 or offset:
        out = vals.astype(np.float64)
        if scale != 1:
            out /= scale
        if offset:
            out -= offset
        return out
    if vals.dtype.kind == "u" and vals.dtype.itemsize == 8 and vals.max(initial=0) >= 2**63:
        return vals.astype(np.float64)
    if vals.dtype.kind in "iu":
        return vals.astype(np.int64, copy=False)
    return vals.astype(np.float64, copy=False)


def _unique(v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct values of 1-D ``v`` (sorted), an index of one occurrence of each, and the
    inverse; small unsigned values go through a lookup table instead of a sort."""
    if v.dtype.kind == "u" and (
        v.dtype.itemsize == 1 or (v.dtype.itemsize == 2 and len(v) >= 4096)
    ):
        key = v.astype(np.intp)
        seen = np.zeros(1 << (8 * v.dtype.itemsize), bool)
        seen[key] = True
        uniq = np.flatnonzero(seen)
        slot = np.cumsum(seen) - 1
        inv = slot[key]
        rep = np.empty(len(uniq), np.intp)
        rep[inv] = np.arange(len(v))
        return uniq, rep, inv
    uniq, rep, inv = np.unique(v, return_index=True, return_inverse=True)
    return uniq, rep, inv.ravel()


def typed(
    vals: np.ndarray,
    valid: np.ndarray,
    ftype: str,
    scale: float,
    offset: float,
    render_first: bool = True,
) -> Col:
    """Apply fitparse's pipeline (render, scale/offset, type processor) to scalar raw values."""
    if ftype in prof.DATE_TIME_TYPES:
        return Col("dt", _scaled(vals, scale, offset), valid)
    if ftype == "local_date_time":
        return Col("ldt", _scaled(vals, scale, offset), valid)
    if ftype == "bool":
        return Col("bool", vals != 0, valid)
    if ftype == "localtime_into_day":
        out = np.empty(len(vals), dtype=object)
        for i in np.flatnonzero(valid):
            m, s = divmod(int(vals[i]), 60)
            h, m = divmod(m, 60)
            out[i] = dt.time(h, m, s) if h < 24 else int(vals[i])
        return Col("obj", out, valid)
    mapping = prof.type_values(ftype)
    if mapping and valid.any():
        col = _render(vals if render_first else _scaled(vals, scale, offset), valid, mapping)
        if col is not None:
            if render_first and (scale != 1 or offset):
                nums = _scaled(vals, scale, offset)
                for i in np.flatnonzero(valid):
                    if not isinstance(col.values[i], str):
                        col.values[i] = nums[i].item()
            return col
    return Col("num", _scaled(vals, scale, offset), valid)


def value_col(raw: Raw, spec: FieldSpec | None) -> Col:
    """The value column of one field (profile ``spec``, or None for an unknown field)."""
    ftype = spec.type if spec else ""
    scale = spec.scale if spec else 1.0
    offset = spec.offset if spec else 0.0
    if raw.base == STRING:
        out = np.empty(len(raw.values), dtype=object)
        out[:] = raw.values
        return Col("obj", out, raw.valid, text=True)
    if raw.base == BYTE:
        col = _tuples(raw.values, np.ones_like(raw.elem_valid), scale, offset)
        return Col("obj", col, raw.valid)
    if not raw.scalar:
        return Col("obj", _tuples(raw.values, raw.elem_valid, scale, offset), raw.valid)
    if spec is None:
        return Col("num", _scaled(raw.values[:, 0], 1, 0), raw.valid)
    return typed(raw.values[:, 0], raw.valid, ftype, scale, offset)


def component_raw(raw: Raw, comp: Component) -> tuple[np.ndarray, np.ndarray] | None:
    """Bits of ``comp`` from the field's raw values (little-endian across tuple elements)."""
    mask = (1 << comp.bits) - 1 if comp.bits < 64 else -1
    if raw.base == STRING or raw.values.dtype.kind == "f":
        return None
    if raw.scalar:
        v = raw.values[:, 0].astype(np.int64)
        return (v >> comp.bit_offset) & mask, raw.valid
    count = raw.values.shape[1]
    if comp.bit_offset >= count * 8:
        return None
    first = comp.bit_offset // 8
    last = min(count - 1, (comp.bit_offset + comp.bits - 1) // 8)
    acc = np.zeros(raw.values.shape[0], dtype=np.int64)
    for i in range(last, first - 1, -1):
        acc = (acc << 8) + raw.values[:, i].astype(np.int64)
    return (acc >> (comp.bit_offset - 8 * first)) & mask, raw.valid


def resolve(
    spec: FieldSpec, refs: dict[int, list[Raw]], n: int
) -> list[tuple[FieldSpec, np.ndarray | None]]:
    """Split rows by the subfield that applies (fitparse: the first subfield whose reference matches)."""
    if not spec.subfields:
        return [(spec, None)]
    left = np.ones(n, bool)
    out: list[tuple[FieldSpec, np.ndarray | None]] = []
    for sf in spec.subfields:
        m = np.zeros(n, bool)
        for num, rv in sf.refs:
            for r in refs.get(num, ()):
                if r.scalar:
                    m |= r.valid & (r.values[:, 0] == rv)
        m &= left
        if m.any():
            out.append((sf, m))
            left &= ~m
    if left.all():
        out.append((spec, None))
    elif left.any():
        out.append((spec, left))
    return out


def _and(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return b
    return a if b is None else a & b


def component_producers(
    raw: Raw,
    spec: FieldSpec,
    mask: np.ndarray | None,
    mesg: MesgSpec,
    refs: dict[int, list[Raw]],
    n: int,
) -> list[Producer]:
    """FieldData that fitparse emits for the components of ``spec`` (before the field itself)."""
    out = []
    for comp in spec.components:
        target = mesg.fields.get(comp.target)
        got = component_raw(raw, comp) if target is not None else None
        if got is None:
            continue
        vals, valid = got
        for tspec, tmask in resolve(target, refs, n):
            m = _and(mask, tmask)
            if comp.accumulate:
                out.append(
                    Producer(tspec.name, None, m, tspec.units, Pending(comp, tspec, vals, valid))
                )
            else:
                col = typed(vals, valid, tspec.type, comp.scale, comp.offset, render_first=False)
                out.append(Producer(tspec.name, col, m, tspec.units))
    return out


def message_name(mesg_num: int) -> str:
    """Profile name of a global message number (``unknown_<num>`` when the profile lacks it)."""
    mesg = prof.message(mesg_num)
    return mesg.name if mesg else f"unknown_{mesg_num}"


@dataclass(slots=True)
class Group:
    """All data messages of one definition, decoded."""

    definition: Definition
    name: str
    positions: np.ndarray
    seq: np.ndarray
    producers: list[Producer]
    timestamp: tuple[np.ndarray, np.ndarray] | None  # raw field 253 (values, valid)


def decode_group(arr: np.ndarray, positions: np.ndarray, seq: np.ndarray, d: Definition) -> Group:
    """Decode every message of definition ``d`` (headers at ``positions``, file order ``seq``)."""
    mesg = prof.message(d.mesg_num)
    name = message_name(d.mesg_num)
    n = len(positions)
    rows = gather(arr, positions, d.size)
    raws = [(f, read_raw(rows, f.offset, f.size, f.base, d.big)) for f in d.fields if f.size]
    refs: dict[int, list[Raw]] = {}
    for f, r in raws:
        refs.setdefault(f.num, []).append(r)
    producers: list[Producer] = []
    timestamp = None
    for f, r in raws:
        spec = mesg.fields.get(f.num) if mesg else None
        if f.num == 253 and r.scalar:
            timestamp = (r.values[:, 0].astype(np.int64), r.valid)
        if spec is None:
            producers.append(Producer(f"unknown_{f.num}", value_col(r, None), None, ""))
            continue
        for sp, m in resolve(spec, refs, n):
            if sp.components:
                producers.extend(component_producers(r, sp, m, mesg, refs, n))
            producers.append(Producer(sp.name, value_col(r, sp), m, sp.units))
    for f in d.dev_fields:
        if f.info is None or f.size == 0:
            continue
        bsize = BASE_TYPES[f.info.base][1]
        if f.size < bsize:
            continue
        r = read_raw(rows, f.offset, f.size, f.info.base, d.big)
        producers.append(Producer(f.info.name, value_col(r, None), None, f.info.units))
    return Group(d, name, positions, seq, producers, timestamp)
