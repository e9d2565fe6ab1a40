"""Turn decoded definition groups into one DataFrame per message name.

Cross-message state is applied here, vectorised over whole columns: accumulated components
(fitparse resets an accumulator at every definition that carries the component and unwraps
it with ``v += (raw - previous raw) mod 2**bits``) and compressed-timestamp headers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import profile as prof
from .columns import Col, Group, Producer, gather, read_raw, typed
from .frame import build_frame, str_array
from .profile import FIT_EPOCH_S
from .walk import BASE_TYPES, BYTE, STRING, Layout

_NAT = np.iinfo(np.int64).min


def _layout_key(d) -> tuple:
    return (
        d.mesg_num,
        d.big,
        tuple((f.num, f.size, f.base) for f in d.fields),
        tuple((f.num, f.size, f.dev_index, id(f.info)) for f in d.dev_fields),
    )


def split_groups(layout: Layout) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """``(definition id, header positions, file-order indices)`` per distinct message layout.

    Definitions with the same message number and byte layout decode together."""
    ids = layout.def_ids
    if len(ids) == 0:
        return []
    canon: dict[tuple, int] = {}
    remap = np.array([canon.setdefault(_layout_key(d), d.id) for d in layout.defs], np.int32)
    ids = remap[ids]
    # a stable sort of 16-bit keys is a radix sort in numpy (several times faster)
    order = np.argsort(ids.astype(np.int16) if len(remap) < 2**15 else ids, kind="stable")
    counts = np.bincount(ids, minlength=len(layout.defs))
    bounds = np.cumsum(counts)
    out = []
    for d in np.flatnonzero(counts):
        idx = order[bounds[d] - counts[d] : bounds[d]]
        out.append((int(d), layout.positions[idx], idx))
    return out


def _resets(layout: Layout, mesg_num: int, target: int) -> np.ndarray:
    """Positions of definitions that restart an accumulator (fitparse: a field of the
    definition has an accumulating component into ``target``)."""
    spec = prof.message(mesg_num)
    out = []
    for d in layout.defs:
        if d.mesg_num != mesg_num or spec is None:
            continue
        for f in d.fields:
            fs = spec.fields.get(f.num)
            if fs and any(c.accumulate and c.target == target for c in fs.components):
                out.append(d.pos)
                break
    return np.array(out, dtype=np.int64)


def accumulate(groups: list[Group], layout: Layout) -> None:
    """Resolve every pending accumulated component in file order, per message and target field."""
    keys: dict[tuple[int, int], list[tuple[Group, int, Producer]]] = {}
    for g in groups:
        for k, p in enumerate(g.producers):
            if p.pending is not None:
                keys.setdefault((g.definition.mesg_num, p.pending.comp.target), []).append(
                    (g, k, p)
                )
    for (mesg_num, target), items in keys.items():
        resets = _resets(layout, mesg_num, target)
        seqs, ks, raws, segs, where = [], [], [], [], []
        for i, (g, k, p) in enumerate(items):
            use = p.pending.valid if p.mask is None else p.pending.valid & p.mask
            rows = np.flatnonzero(use)
            seqs.append(g.seq[rows])
            ks.append(np.full(len(rows), k))
            raws.append(p.pending.raw[rows])
            segs.append(np.searchsorted(resets, g.positions[rows], side="right"))
            where.append(np.full(len(rows), i))
        seq, kk, raw = np.concatenate(seqs), np.concatenate(ks), np.concatenate(raws)
        seg, owner = np.concatenate(segs), np.concatenate(where)
        order = np.lexsort((kk, seq))
        raw, seg, owner = raw[order], seg[order], owner[order]
        rows_sorted = np.concatenate(
            [
                np.flatnonzero(
                    it[2].pending.valid if it[2].mask is None else it[2].pending.valid & it[2].mask
                )
                for it in items
            ]
        )[order]
        bits = items[0][2].pending.comp.bits
        modulus = np.int64(1) << bits
        prev = np.concatenate([[0], raw[:-1]])
        start = np.concatenate([[True], seg[1:] != seg[:-1]])
        prev[start] = 0
        diffs = (raw - prev) % modulus
        cs = np.cumsum(diffs)
        base = np.maximum.accumulate(np.where(start, np.arange(len(cs)), 0))
        value = cs - (cs[base] - diffs[base])
        for i, (_, _, p) in enumerate(items):
            sel = owner == i
            vals = p.pending.raw.copy()
            vals[rows_sorted[sel]] = value[sel]
            comp, t = p.pending.comp, p.pending.target
            p.col = typed(
                vals, p.pending.valid, t.type, comp.scale, comp.offset, render_first=False
            )
            p.pending = None


def raw_timestamps(
    arr: np.ndarray, layout: Layout, splits: list[tuple[int, np.ndarray, np.ndarray]]
) -> np.ndarray:
    """Raw ``timestamp`` (field 253) of every data message in file order, -1 where absent
    (the last scalar field 253 of a definition counts, as in :func:`decode_group`)."""
    ts = np.full(len(layout.positions), -1, dtype=np.int64)
    for d, pos, seq in splits:
        dfn = layout.defs[d]
        f = next(
            (
                f
                for f in reversed(dfn.fields)
                if f.num == 253
                and f.size
                and f.base not in (BYTE, STRING)
                and f.size == BASE_TYPES[f.base][1]
            ),
            None,
        )
        if f is None:
            continue
        r = read_raw(gather(arr, pos, dfn.size), f.offset, f.size, f.base, dfn.big)
        ts[seq[r.valid]] = r.values[r.valid, 0].astype(np.int64)
    return ts


def compressed_times(
    layout: Layout, arr: np.ndarray, ts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """fitparse's ``timestamp`` of compressed-timestamp messages (file order) and which
    messages have such a header; ``ts`` from :func:`raw_timestamps`."""
    total = len(layout.positions)
    hdr = arr[layout.positions]
    comp = (hdr & 0x80) != 0
    part = np.array([d.part for d in layout.defs], dtype=np.int64)[layout.def_ids]
    out = np.zeros(total, dtype=np.int64)
    acc, cur = 0, -1
    ts_l, comp_l, off_l, part_l = ts.tolist(), comp.tolist(), (hdr & 0x1F).tolist(), part.tolist()
    for i in np.flatnonzero(comp | (ts >= 0)).tolist():
        if part_l[i] != cur:
            acc, cur = 0, part_l[i]
        if ts_l[i] >= 0:
            acc = ts_l[i]
        if comp_l[i]:
            off = off_l[i]
            base = off + (acc & ~0x1F)
            if off < (acc & 0x1F):
                base += 0x20
            acc = out[i] = base
    return out, comp


def add_compressed(g: Group, times: np.ndarray, comp: np.ndarray) -> None:
    """Give the compressed-header messages of ``g`` their ``timestamp`` producer."""
    m = comp[g.seq]
    if m.any():
        g.producers.append(Producer("timestamp", Col("dt", times[g.seq], m), m, ""))


def _merge(pieces: list[tuple[Col, np.ndarray | None]], n: int) -> Col:
    """Later producers win, row by row (fitparse's ``get_values``)."""
    if len(pieces) == 1 and pieces[0][1] is None:
        return pieces[0][0]
    kinds = {c.kind for c, _ in pieces}
    kind = kinds.pop() if len(kinds) == 1 else "obj"
    if kind == "obj":
        values = np.full(n, None, dtype=object)
    elif kind == "num":
        isf = any(c.values.dtype.kind == "f" for c, _ in pieces)
        values = np.zeros(n, dtype=np.float64 if isf else np.int64)
    else:
        values = np.zeros(n, dtype=pieces[0][0].values.dtype)
    valid = np.zeros(n, bool)
    covered = np.zeros(n, bool)
    for c, m in pieces:
        covered[slice(None) if m is None else m] = True
        src = c.values if kind != "obj" or c.kind == "obj" else _objects(c)
        if m is None:
            values[:] = src
            valid[:] = c.valid
        else:
            values[m] = src[m]
            valid[m] = c.valid[m]
    text = kind == "obj" and all(c.kind == "obj" and c.text for c, _ in pieces)
    return Col(kind, values, valid, bool(covered.all()), text)


def _objects(c: Col) -> np.ndarray:
    if c.kind in ("obj", "num"):
        out = c.values.astype(object)
    else:
        out = np.empty(len(c.values), dtype=object)
        out[:] = list(_to_array(c))
    if not c.every():
        out[~c.valid] = None
    return out


def _to_array(c: Col):
    """A column as fitparse + pandas ``from_records`` would type it (numpy or pandas array)."""
    v, ok = c.values, c.valid
    if c.kind == "num":
        if ok.all():
            return v
        f = v.astype(np.float64)
        f[~ok] = np.nan
        return f
    if c.kind in ("dt", "ldt"):
        return _times(c)
    if c.kind == "bool":
        if ok.all():
            return v.astype(bool)
        out = np.empty(len(v), dtype=object)
        out[:] = v.astype(bool).tolist()
        out[~ok] = None
        return out
    if ok.all():
        return v
    out = v.copy()
    out[~ok] = None
    return out


_UTC = pd.DatetimeTZDtype("ns", "UTC")
_SIMPLE_NEW = getattr(pd.arrays.DatetimeArray, "_simple_new", None)


def _utc_array(ns: np.ndarray) -> pd.arrays.DatetimeArray:
    """``datetime64[ns, UTC]`` of epoch nanoseconds (int64 min: NaT). pandas' internal
    constructor when it has one: the public route validates and localises (~80 us a column,
    most of a small frame's dates), for values that are UTC nanoseconds already."""
    m8 = ns.view("M8[ns]")
    if _SIMPLE_NEW is not None:
        return _SIMPLE_NEW(m8, dtype=_UTC)
    return pd.DatetimeIndex(m8).tz_localize("UTC").array


#: FIT date_time values below this are system time (seconds since device power-on), not dates.
SYSTEM_TIME_MAX = 0x10000000


def _times(c: Col):
    """date_time → ``datetime64[ns, UTC]``; local_date_time → naive ``datetime64[us]``.

    A date_time value below 0x10000000 is system time (seconds since device power-on, FIT
    profile ``date_time``): like fitparse, it stays the raw number, so a column that holds
    any is an object column of ``Timestamp`` (UTC) and ``int`` seconds (None where invalid).
    """
    v, ok = c.values.astype(np.int64), c.valid
    if c.kind == "dt":
        rel = ok & (v < SYSTEM_TIME_MAX)
        ns = np.where(ok & ~rel, (v + FIT_EPOCH_S) * 1_000_000_000, _NAT)
        utc = _utc_array(ns)
        if not rel.any():
            return utc
        out = np.array(utc.astype(object), dtype=object)
        out[~ok] = None
        idx = np.flatnonzero(rel)
        out[idx] = v[idx].tolist()
        return out
    ns = np.where(ok, (v + FIT_EPOCH_S) * 1_000_000_000, _NAT)
    return ns.view("M8[ns]").astype("M8[us]")


#: Groups up to this many messages are scattered into a column together (one numpy call
#: instead of one per group: a file with many short-lived definitions has many of them).
SMALL_GROUP = 32

Piece = tuple[Col, "slice | np.ndarray"]  # a column piece and the frame rows it fills


class Placement:
    """Where the rows of a message's groups go in its frame (file order across the groups)."""

    def __init__(self, gs: list[Group]) -> None:
        seq = np.concatenate([g.seq for g in gs]) if len(gs) > 1 else gs[0].seq
        self.n = len(seq)
        self.sizes = [len(g.seq) for g in gs]
        bounds = np.cumsum([0, *self.sizes]).tolist()
        spans = list(zip(bounds[:-1], bounds[1:], strict=True))
        self._rows: dict[tuple[int, ...], np.ndarray] = {}
        if len(gs) == 1 or bool((seq[1:] > seq[:-1]).all()):
            self.dests: list[slice | np.ndarray] = [slice(a, b) for a, b in spans]
            return
        rank = np.empty(self.n, dtype=np.intp)
        rank[np.argsort(seq, kind="stable")] = np.arange(self.n)
        self.dests = []
        for a, b in spans:  # a group whose rows are consecutive in the frame gets a slice
            lo, hi = int(rank[a]), int(rank[b - 1]) + 1
            self.dests.append(slice(lo, hi) if hi - lo == b - a else rank[a:b])

    def pieces(self, cols: list[Col | None]) -> list[Piece]:
        """The present pieces with their rows; small ones of one kind and dtype joined."""
        out: list[Piece] = []
        small: dict[tuple, list[int]] = {}
        for i, c in enumerate(cols):
            if c is None:
                continue
            if self.sizes[i] <= SMALL_GROUP:
                small.setdefault((c.kind, c.values.dtype), []).append(i)
            else:
                out.append((c, self.dests[i]))
        for (kind, _), idx in small.items():
            if len(idx) == 1:
                out.append((cols[idx[0]], self.dests[idx[0]]))
                continue
            cs = [cols[i] for i in idx]
            joined = Col(
                kind,
                np.concatenate([c.values for c in cs]),
                np.concatenate([c.valid for c in cs]),
                all(c.covered for c in cs),
                all(c.text for c in cs),
            )
            out.append((joined, self.rows(tuple(idx))))
        return out

    def rows(self, idx: tuple[int, ...]) -> np.ndarray:
        """Frame rows of the groups ``idx``, in group order (cached)."""
        if idx not in self._rows:
            self._rows[idx] = np.concatenate(
                [
                    np.arange(d.start, d.stop) if isinstance(d, slice) else d
                    for d in (self.dests[i] for i in idx)
                ]
            )
        return self._rows[idx]


def _combine(cols: list[Col | None], place: Placement, row: np.ndarray | None = None):
    """One column of the frame from its pieces (None: groups without the field).

    A float column is written into ``row`` when given (then ``row`` is returned)."""
    n = place.n
    if len(cols) == 1 and cols[0] is not None and row is None:
        return _single(cols[0], n)
    pairs = place.pieces(cols)
    kinds = {c.kind for c, _ in pairs}
    missing = any(c is None for c in cols)
    covered = not missing and all(c.covered for c, _ in pairs)
    alone = len(cols) == 1 and not missing  # one group: its rows are the frame's rows
    if kinds == {"num"}:
        if not missing and all(c.values.dtype.kind == "i" and c.every() for c, _ in pairs):
            if alone:
                return pairs[0][0].values
            out = np.empty(n, dtype=np.int64)
            for c, d in pairs:
                out[d] = c.values
            return out
        out = np.empty(n) if row is None else row
        if missing:
            out.fill(np.nan)
        for c, d in pairs:
            out[d] = c.values
            if not c.every():
                if isinstance(d, slice):
                    out[d][~c.valid] = np.nan
                else:
                    out[d[~c.valid]] = np.nan
        if covered and np.isnan(out).all():  # fitparse gave None in every row
            return np.full(n, None, dtype=object)
        return out
    if (
        kinds == {"obj"}
        and row is not None
        and all(c.text for c, _ in pairs)
        and any(c.valid.any() for c, _ in pairs)
    ):
        # what pandas infers for str-or-None objects, without looking at every value
        return str_array(_combine_objects(pairs, alone, n))
    if alone:
        return _to_array(pairs[0][0])
    if len(kinds) == 1 and kinds <= {"dt", "ldt", "bool"}:
        vals, valid = np.zeros(n, np.int64), np.zeros(n, bool)
        for c, d in pairs:
            vals[d] = c.values
            valid[d] = c.valid
        return _to_array(Col(kinds.pop(), vals, valid))
    return _combine_objects(pairs, alone, n)


def _combine_objects(pairs: list[Piece], alone: bool, n: int) -> np.ndarray:
    if alone:
        return _to_array(pairs[0][0])
    out = np.full(n, None, dtype=object)
    for c, d in pairs:
        out[d] = _objects(c)
    return out


def _single(c: Col, n: int):
    """:func:`_combine` for a message with one group that has the field."""
    if c.kind != "num":
        return _to_array(c)
    v, ok = c.values, c.valid
    every = ok.all()
    if every and v.dtype.kind == "i":
        return v
    out = v.astype(np.float64)
    if not every:
        out[~ok] = np.nan
    if c.covered and np.isnan(out).all():  # fitparse gave None in every row
        return np.full(n, None, dtype=object)
    return out


def frames(
    groups: list[Group], only: tuple[str, ...] | None = None
) -> tuple[dict[str, pd.DataFrame], dict[tuple[str, str], str]]:
    """One DataFrame per message name (rows in file order) and the units of each column.

    ``only``: just these columns, in this order (those some producer gives; the others'
    producers are ignored): each column is made as in the whole frame, so its values and
    dtype are the whole frame's."""
    keep = None if only is None else frozenset(only)
    by_name: dict[str, list[Group]] = {}
    for g in sorted(groups, key=lambda g: int(g.seq[0])):
        by_name.setdefault(g.name, []).append(g)
    out: dict[str, pd.DataFrame] = {}
    units: dict[tuple[str, str], str] = {}
    for name, gs in by_name.items():
        merged: list[dict[str, Col]] = []
        columns: dict[str, None] = {}
        for g in gs:
            pieces: dict[str, list] = {}
            for p in g.producers:
                if keep is not None and p.name not in keep:
                    continue
                pieces.setdefault(p.name, []).append((p.col, p.mask))
                if p.units and p.col is not None and p.col.kind not in ("dt", "ldt"):
                    units.setdefault((name, p.name), p.units)
            n = len(g.seq)
            merged.append({k: _merge(v, n) for k, v in pieces.items()})
            columns.update(dict.fromkeys(pieces))
        names = list(columns) if only is None else [c for c in dict.fromkeys(only) if c in columns]
        out[name] = _frame(names, merged, Placement(gs))
    return out, units


#: From this many rows on, float columns are written straight into one 2-D block (the one
#: pandas would otherwise copy them into), which saves a copy of most of the frame.
BLOCK_MIN_ROWS = 2048


def _owned(a):
    """``a`` itself when it owns its memory, else a copy: the frame takes its columns without
    copying them (pandas copies every column of a dict otherwise: a third of a small
    frame's cost) and no two columns may share memory (a write to one would show in both)."""
    return a.copy() if isinstance(a, np.ndarray) and a.base is not None else a


def _frame(columns: list[str], merged: list[dict[str, Col]], place: Placement) -> pd.DataFrame:
    total = place.n
    if total < BLOCK_MIN_ROWS or not columns:
        arrays = [_owned(_combine([m.get(col) for m in merged], place)) for col in columns]
        return build_frame(columns, arrays, total)
    block = np.empty((len(columns), total))
    float_at: list[int] = []
    arrays = []
    for i, col in enumerate(columns):
        row = block[len(float_at)]
        a = _combine([m.get(col) for m in merged], place, row)
        if a is row:
            float_at.append(i)
            arrays.append(None)
        else:
            arrays.append(_owned(a))
    return build_frame(columns, arrays, total, block[: len(float_at)], float_at)
