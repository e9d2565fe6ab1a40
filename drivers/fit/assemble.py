"""Turn decoded definition groups into one DataFrame per message name.

Cross-message state is applied here, vectorised over whole columns: accumulated components
(fitparse resets an accumulator at every definition that carries the component and unwraps
it with ``v += (raw - previous raw) mod 2**bits``) and compressed-timestamp headers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import profile as prof
from .columns import Col, Group, Producer, typed
from .profile import FIT_EPOCH_S
from .walk import Layout

_NAT = np.iinfo(np.int64).min


def _layout_key(d) -> tuple:
    return (d.mesg_num, d.big, tuple((f.num, f.size, f.base) for f in d.fields),
            tuple((f.num, f.size, f.dev_index, id(f.info)) for f in d.dev_fields))


def split_groups(layout: Layout) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """``(definition id, header positions, file-order indices)`` per distinct message layout.

    Definitions with the same message number and byte layout decode together."""
    ids = layout.def_ids
    if len(ids) == 0:
        return []
    canon: dict[tuple, int] = {}
    remap = np.array([canon.setdefault(_layout_key(d), d.id) for d in layout.defs], np.int32)
    ids = remap[ids]
    order = np.argsort(ids, kind="stable")
    counts = np.bincount(ids, minlength=len(layout.defs))
    bounds = np.cumsum(counts)
    out = []
    for d in np.flatnonzero(counts):
        idx = order[bounds[d] - counts[d]: bounds[d]]
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
                keys.setdefault((g.definition.mesg_num, p.pending.comp.target), []).append((g, k, p))
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
        rows_sorted = np.concatenate([np.flatnonzero(
            it[2].pending.valid if it[2].mask is None else it[2].pending.valid & it[2].mask)
            for it in items])[order]
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
            p.col = typed(vals, p.pending.valid, t.type, comp.scale, comp.offset,
                          render_first=False)
            p.pending = None


def compressed_timestamps(groups: list[Group], layout: Layout, arr: np.ndarray) -> None:
    """Add fitparse's ``timestamp`` to messages with a compressed-timestamp header."""
    total = len(layout.positions)
    ts = np.full(total, -1, dtype=np.int64)
    for g in groups:
        if g.timestamp is not None:
            vals, valid = g.timestamp
            ts[g.seq[valid]] = vals[valid]
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
    for g in groups:
        m = comp[g.seq]
        if m.any():
            g.producers.append(Producer("timestamp", Col("dt", out[g.seq], m), m, ""))


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
    return Col(kind, values, valid, bool(covered.all()))


def _objects(c: Col) -> np.ndarray:
    if c.kind in ("obj", "num"):
        out = c.values.astype(object)
    else:
        out = np.empty(len(c.values), dtype=object)
        out[:] = list(_to_array(c))
    if not c.valid.all():
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


def _times(c: Col):
    """date_time → ``datetime64[ns, UTC]``; values below 0x10000000 (seconds since device
    power-on, not a date) are NaT, as the fitparse backend's frames have them."""
    v, ok = c.values.astype(np.int64), c.valid
    big = ok & (v >= 0x10000000) if c.kind == "dt" else ok
    ns = np.where(big, (v + FIT_EPOCH_S) * 1_000_000_000, _NAT)
    if c.kind == "dt":
        return pd.DatetimeIndex(ns.view("M8[ns]")).tz_localize("UTC").array
    return ns.view("M8[ns]").astype("M8[us]")


def _combine(cols: list[Col | None], lens: list[int]):
    """Concatenate one column's pieces (None: groups without the field)."""
    present = [c for c in cols if c is not None]
    kinds = {c.kind for c in present}
    missing = len(present) < len(cols)
    covered = not missing and all(c.covered for c in present)
    if kinds == {"num"}:
        if not missing and all(c.valid.all() and c.values.dtype.kind == "i" for c in present):
            return np.concatenate([c.values for c in present])
        parts = []
        for c, n in zip(cols, lens, strict=True):
            f = np.full(n, np.nan) if c is None else c.values.astype(np.float64)
            if c is not None and not c.valid.all():
                f[~c.valid] = np.nan
            parts.append(f)
        vals = np.concatenate(parts) if len(parts) > 1 else parts[0]
        if covered and np.isnan(vals).all():  # fitparse gave None in every row
            return np.full(len(vals), None, dtype=object)
        return vals
    if len(present) == 1 and not missing:
        return _to_array(present[0])
    if len(kinds) == 1 and kinds <= {"dt", "ldt", "bool"}:
        kind = kinds.pop()
        vals = np.concatenate([np.zeros(n, np.int64) if c is None else c.values.astype(np.int64)
                               for c, n in zip(cols, lens, strict=True)])
        valid = np.concatenate([np.zeros(n, bool) if c is None else c.valid
                                for c, n in zip(cols, lens, strict=True)])
        return _to_array(Col(kind, vals, valid))
    return np.concatenate([np.full(n, None, dtype=object) if c is None else _objects(c)
                           for c, n in zip(cols, lens, strict=True)])


def frames(groups: list[Group]) -> tuple[dict[str, pd.DataFrame], dict[tuple[str, str], str]]:
    """One DataFrame per message name (rows in file order) and the units of each column."""
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
                pieces.setdefault(p.name, []).append((p.col, p.mask))
                if p.units and p.col is not None and p.col.kind not in ("dt", "ldt"):
                    units.setdefault((name, p.name), p.units)
            n = len(g.seq)
            merged.append({k: _merge(v, n) for k, v in pieces.items()})
            columns.update(dict.fromkeys(pieces))
        lens = [len(g.seq) for g in gs]
        order = None
        if len(gs) > 1:
            order = np.argsort(np.concatenate([g.seq for g in gs]), kind="stable")
        data = {}
        for col in columns:
            a = _combine([m.get(col) for m in merged], lens)
            data[col] = a if order is None else a[order]
        out[name] = pd.DataFrame(data, index=pd.RangeIndex(sum(lens)))
    return out, units
