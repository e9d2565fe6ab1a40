"""The vectorised FIT decoder: one header walk, then numpy per definition.

``decode_fast(path)`` returns the same :class:`FitMessages` as ``decode_with_fitparse``
(same names, values, scaling and types) at a small fraction of the time, and never lets a
damaged file raise anything but :class:`FitError`.

Only the walk (CRC, definitions, where each message starts) runs in ``decode_fast``; the
frame of a message name is decoded the first time it is read (:class:`FitMessages` is lazy),
so a caller that reads ``record`` and ``session`` does not pay for 45,000 ``hrv`` tuples.
A caller that needs a few columns of a message (``FitMessages.fields``) decodes only the
fields that can give them.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from . import profile as prof
from .assemble import (
    accumulate,
    add_compressed,
    compressed_times,
    frames,
    raw_timestamps,
    split_groups,
)
from .columns import decode_group, message_name
from .errors import FitError
from .result import FitMessages
from .walk import Definition, Layout, Walker

CrcPolicy = Literal["warn", "raise", "ignore"]


def decode_fast(source: str | Path | bytes, crc: CrcPolicy = "warn") -> FitMessages:
    """Decode a FIT file (path or bytes), chained parts included.

    ``crc``: what a header or file CRC mismatch does — ``"warn"`` (a line in ``.warnings``),
    ``"raise"`` (:class:`FitError`) or ``"ignore"`` (not computed).
    Raises :class:`FitError` when nothing can be decoded; damage part-way returns the
    messages before it with ``partial`` set and ``error`` naming the byte offset.
    """
    if crc not in ("warn", "raise", "ignore"):
        raise ValueError(f"crc must be 'warn', 'raise' or 'ignore', not {crc!r}")
    buf = source if isinstance(source, bytes) else Path(source).read_bytes()
    if not buf:
        raise FitError("empty file")
    try:
        layout = Walker(buf, check_crc=crc != "ignore").run()
    except ValueError as exc:
        raise FitError(str(exc)) from None
    if layout.crc_errors and crc == "raise":
        raise FitError(layout.crc_errors[0])
    if len(layout.positions) == 0:
        raise FitError(f"no data messages ({layout.error or 'the file holds none'})")
    out = FitMessages()
    lazy = _Frames(buf, layout)
    out.defer(lazy.names, lazy.build, lazy.columns)
    out.warnings = [*layout.crc_errors, *layout.warnings]
    if layout.error:
        out.partial = True
        out.error = f"stopped after {len(layout.positions)} messages: {layout.error}"
    return out


class _Frames:
    """Builds the frame of one message name on demand (all its definitions together).

    Cross-message state stays exact when only some names are built: accumulators run per
    message number, and compressed-header timestamps are resolved for the whole file first
    (they need every message's raw ``timestamp``, which is cheap to read).
    """

    def __init__(self, buf: bytes, layout: Layout) -> None:
        self.arr = np.frombuffer(buf, dtype=np.uint8)
        self.layout = layout
        splits = split_groups(layout)
        self.times = None
        if layout.compressed:
            ts = raw_timestamps(self.arr, layout, splits)
            self.times = compressed_times(layout, self.arr, ts)
        by_name: dict[str, list[tuple[int, np.ndarray, np.ndarray]]] = {}
        for item in sorted(splits, key=lambda s: int(s[2][0])):
            by_name.setdefault(message_name(layout.defs[item[0]].mesg_num), []).append(item)
        self.by_name = by_name
        self.names = list(by_name)

    def build(self, name: str):
        """``(frame, units)`` of message ``name``."""
        return self._build(name, None)

    def columns(self, name: str, wanted: tuple[str, ...]) -> pd.DataFrame:
        """The columns ``wanted`` of the frame of ``name`` that it has, in that order: only
        the fields that can give them are decoded, each column as :meth:`build` makes it."""
        return self._build(name, wanted)[0]

    def _build(self, name: str, wanted: tuple[str, ...] | None):
        keep = None if wanted is None else frozenset(wanted)
        defs = self.layout.defs
        with _gc_paused():
            groups = [
                decode_group(
                    self.arr, pos, seq, defs[d] if keep is None else narrowed(defs[d], keep)
                )
                for d, pos, seq in self.by_name[name]
            ]
            accumulate(groups, self.layout)
            if self.times is not None:
                for g in groups:
                    add_compressed(g, *self.times)
            data, units = frames(groups, wanted)
        return data[name], units


def narrowed(d: Definition, wanted: frozenset[str]) -> Definition:
    """``d`` with only the fields whose values, subfields or components can be a column of
    ``wanted``, and the fields their subfields refer to (which subfield applies depends on
    them). Every field giving a wanted column stays, in its place, so the producers of
    that column (their order decides which wins) and of its accumulator are all there."""
    use = _kept(d.mesg_num, tuple(f.num for f in d.fields), wanted)
    keep = [f for f, u in zip(d.fields, use, strict=True) if u]
    dev = [f for f in d.dev_fields if f.info is not None and f.info.name in wanted]
    return Definition(d.id, d.pos, d.local, d.mesg_num, d.big, keep, dev, d.size, d.part)


@lru_cache(maxsize=4096)  # a file has few distinct layouts, a season a few hundred
def _kept(mesg_num: int, nums: tuple[int, ...], wanted: frozenset[str]) -> tuple[bool, ...]:
    """Which of the fields ``nums`` of a definition :func:`narrowed` keeps."""
    refs: set[int] = set()
    use = []
    for num in nums:
        names, ref_nums = _outputs(mesg_num, num)
        use.append(not names.isdisjoint(wanted))
        if use[-1]:
            refs |= ref_nums
    return tuple(u or num in refs for u, num in zip(use, nums, strict=True))


@cache
def _outputs(mesg_num: int, num: int) -> tuple[frozenset[str], frozenset[int]]:
    """Column names field ``num`` of message ``mesg_num`` can give (its own, its subfields',
    its and their components' targets with their subfields) and the fields those subfields
    refer to (as :func:`drivers.fit.columns.decode_group` and ``resolve`` use them)."""
    mesg = prof.message(mesg_num)
    spec = mesg.fields.get(num) if mesg else None
    if spec is None:
        return frozenset({f"unknown_{num}"}), frozenset()
    names: set[str] = set()
    refs: set[int] = set()

    def add(s: prof.FieldSpec) -> None:
        names.add(s.name)
        for sf in s.subfields:
            names.add(sf.name)
            refs.update(n for n, _ in sf.refs)

    add(spec)
    for s in (spec, *spec.subfields):
        for comp in s.components:
            target = mesg.fields.get(comp.target)
            if target is not None:
                add(target)
    return frozenset(names), frozenset(refs)


@contextmanager
def _gc_paused():
    """No cyclic garbage collection while a frame is built: array fields make tens of
    thousands of tuples (all acyclic), and each 700 allocations would start a collection."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
