"""InfluxDB line protocol, vectorised over DataFrames.

Every numeric field is written as a float: InfluxDB fixes a field's type per shard, and a
value that is an integer in one file and a fraction in the next would otherwise be refused.
Strings are quoted, booleans are ``true``/``false``. Timestamps are in milliseconds
(``precision=ms`` on the write).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

PRECISION = "ms"
# An outbox batch whose lines start with this holds InfluxQL statements (deletes of points that
# a correction removed), sent to /query in order with the writes of the same series.
INFLUXQL_MARK = "#influxql "


def delete_span(
    measurement: str, tags: Mapping[str, str], lo: pd.Timestamp, hi: pd.Timestamp
) -> str:
    """An outbox line deleting the ``measurement`` points with ``tags`` from ``lo`` to ``hi``
    (both included): an InfluxQL ``DELETE`` behind :data:`INFLUXQL_MARK`, to be enqueued as
    a batch of its own (a batch is either writes or statements)."""
    where = " AND ".join(f'"{k}"={_influxql_str(v)}' for k, v in tags.items())
    lo_ns, hi_ns = (int(pd.Timestamp(t).as_unit("ns").value) for t in (lo, hi))
    return (
        f'{INFLUXQL_MARK}DELETE FROM "{measurement}" WHERE {where}'
        f" AND time >= {lo_ns} AND time <= {hi_ns}"
    )


def _influxql_str(text: str) -> str:
    return "'" + str(text).replace("\\", "\\\\").replace("'", "\\'") + "'"


@functools.lru_cache(maxsize=4096)  # keys and tag values repeat on every point
def escape_key(s: str) -> str:
    """Escape a measurement, tag key, tag value or field key per the line-protocol spec.

    Commas, equals signs and spaces are escaped with a backslash. Line protocol cannot carry a
    newline there (a line ends at it) and InfluxDB 1.x keeps an escaped backslash as two
    characters, and a trailing one breaks the line: newlines become spaces and backslashes
    ``/``, so a hostile name can never start a new point or leave a batch stuck."""
    s = s.replace("\r\n", " ").replace("\n", " ").replace("\r", " ").replace("\\", "/")
    return s.replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def escape_str(s: str) -> str:
    """Escape a string field value (without the surrounding quotes)."""
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def series_key(measurement: str, tags: Mapping[str, str]) -> str:
    """``measurement,tag=value,...`` with tags sorted (InfluxDB's own order) and empty ones left out."""
    parts = [escape_key(measurement)]
    parts += [
        f"{escape_key(k)}={escape_key(str(v))}"
        for k, v in sorted(tags.items())
        if v not in ("", None)
    ]
    return ",".join(parts)


def to_ms(index: pd.DatetimeIndex) -> np.ndarray:
    """Epoch milliseconds of a UTC DatetimeIndex."""
    return index.as_unit("ns").asi8 // 1_000_000


def frame_to_lines(measurement: str, frame: pd.DataFrame, tags: Mapping[str, str]) -> list[str]:
    """One line per row of ``frame`` (UTC DatetimeIndex); NaN fields are left out, empty rows dropped.

    Every value is ``pd.to_numeric(..., errors="coerce")`` as float and written as Python's
    ``repr`` of that float; non-finite values are left out. Columnar, no Python object per
    value: the frame's values are formatted in one Arrow cast (the columns that repeat values
    have each distinct value formatted once) and each line is a run of elements of one Arrow
    string array (series and first key, value, ``,key=``, value, ..., ``" "``, stamp)
    gathered in order by one ``take`` in C++. benchmarks/lineprotocol.py measures this
    against the column-by-column join it replaced (same lines).
    """
    if frame.empty:
        return []
    values = _float_columns(frame)
    ok = np.isfinite(values)
    keep = ok.any(axis=0)  # rows without any field are no point
    if not keep.any():
        return []
    every = bool(keep.all())
    if not every:
        values, ok = values[:, keep], ok[:, keep]
    k, n = values.shape
    keys = [escape_key(c) + "=" for c in frame.columns]
    head = series_key(measurement, tags) + " "
    longest = n * (len(head) + sum(len(c) + 28 for c in keys) + 22)  # a value: <= 24 chars
    kind = pa.large_string() if longest > _INT32_OFFSETS else pa.string()
    # at[j, i], key[j, i]: the index in `table` below of the text of field j's value in row i
    # and of the key text before it (fields x rows: written field by field; int32 halves
    # what the take reads, a frame's table being far below 2**31 elements)
    at = np.empty((k, n), np.int32)
    flat = _distinct_values(values, ok, at)
    texts, whole, rank = _repr_texts(flat, kind)
    if whole is not None:
        whole = whole[np.where(ok, at, 0)] & ok
    if rank is not None:
        at[ok] = rank[at[ok]]
    nt = sum(map(len, texts))
    # Arrow prints a whole number without its ".0": the element after it (the next field's
    # ",key=" or the stamp's " ") is then taken from copies that start with ".0"
    extra = [head + c for c in keys] + ["," + c for c in keys] + [" "]
    extra += [".0," + c for c in keys] + [".0 "]
    ms = to_ms(frame.index)
    stamps = pc.cast(pa.array(ms if every else ms[keep]), kind)
    table = pa.concat_arrays([*texts, pa.array(extra, kind), stamps])
    key = np.empty((k, n), np.int32)
    after = np.zeros(n, np.int32)  # k + 1 in the lines where the field before was whole
    for j in range(k):
        np.add(after, nt + k + j, out=key[j])
        if whole is not None:
            after = np.where(ok[j], whole[j] * np.int32(k + 1), after)
    first = ok.argmax(axis=0)  # the first field of a line carries the series
    key[first, np.arange(n)] = nt + first
    # elems[i]: line i: key of field 0, its value, ..., key of field k-1, its value, " ",
    # stamp (the missing fields' pairs are left out below)
    elems = np.empty((n, 2 * k + 2), np.int32)
    elems[:, 0 : 2 * k : 2] = key.T
    elems[:, 1 : 2 * k : 2] = at.T
    elems[:, -2] = nt + 2 * k + after
    elems[:, -1] = np.arange(nt + 3 * k + 2, nt + 3 * k + 2 + n, dtype=np.int32)
    if ok.all():
        taken = table.take(elems.ravel())
        ends = np.arange(0, n * (2 * k + 2) + 1, 2 * k + 2)
    else:
        present = np.ones(elems.shape, bool)
        present[:, : 2 * k] = np.repeat(ok.T, 2, axis=1)
        taken = table.take(elems[present])
        ends = np.zeros(n + 1, np.int64)
        np.cumsum(2 * ok.sum(axis=0) + 2, out=ends[1:])
    # a line is its run of elements: its offsets are those of its first and last element
    _, offsets, data = taken.buffers()
    width = np.int64 if kind == pa.large_string() else np.int32
    starts = np.frombuffer(offsets, width, len(taken) + 1, taken.offset * width().itemsize)
    lines = pa.Array.from_buffers(kind, n, [None, pa.py_buffer(starts[ends]), data])
    return lines.to_pylist()


_INT32_OFFSETS = 2**31 - 1  # bytes an Arrow string array holds; past it: large_string


def _float_columns(frame: pd.DataFrame) -> np.ndarray:
    """``(columns, rows)`` floats, each column ``pd.to_numeric(errors="coerce")``; a frame of
    float64 columns only (what normalise builds) is copied in one step."""
    if all(dt == np.float64 for dt in frame.dtypes):
        return np.ascontiguousarray(frame.to_numpy(dtype=float).T)
    values = np.empty(frame.shape[::-1])
    for j in range(frame.shape[1]):
        values[j] = pd.to_numeric(frame.iloc[:, j], errors="coerce").to_numpy(dtype=float)
    return values


def _distinct_values(values: np.ndarray, ok: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The values to format; ``at[j, i]`` is set to the index of ``values[j, i]`` among them
    where ``ok``.

    The columns that repeat values (heart rate, cadence...) give each distinct value once
    (by bit pattern: -0.0 stays apart from 0.0), hashed together in one call; one that
    hardly repeats (distance, coordinates) gives all of its values (hashing them would cost
    more than formatting them)."""
    k, n = values.shape
    sample = values[:, :: max(1, n // _SAMPLE)].copy()
    sample[~np.isfinite(sample)] = np.inf  # all missing ones count as one value
    sample.sort(axis=1)
    distinct = 1 + np.count_nonzero(sample[:, 1:] != sample[:, :-1], axis=1)
    spread = (distinct > _SAMPLE // 2) & (n > 4 * _SAMPLE)
    repeats = ~spread
    parts = []
    for group in (spread, repeats):  # the spread ones first: their own order, no hashing
        if not group.any():
            continue
        o = ok[group]
        good = values[group][o]  # field after field
        if group is repeats:
            codes, bits = pd.factorize(good.view(np.int64))
            good = bits.view(np.float64)
        else:
            codes = np.arange(len(good))
        part = np.zeros(o.shape, np.int32)
        part[o] = codes
        if parts:
            part += len(parts[0])
        at[group] = part
        parts.append(good)
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


_SAMPLE = 256  # values looked at to decide whether a column repeats


def _repr_texts(
    values: np.ndarray, kind: pa.DataType
) -> tuple[list[pa.Array], np.ndarray | None, np.ndarray | None]:
    """``repr`` of finite ``values`` through Arrow's float-to-string cast: ``(texts, whole,
    rank)``, the text of ``values[i]`` being element ``rank[i]`` (``i`` without ``rank``) of the
    concatenated ``texts``, plus ``".0"`` where ``whole`` (None: nowhere).

    Arrow prints the same shortest round-trip digits as ``repr`` but ``150`` for ``150.0`` (the
    ``.0`` is added by the caller, see :func:`frame_to_lines`) and uses other exponent
    thresholds: values outside 1e-4..1e10 in magnitude (rare in running data) are given
    ``repr`` itself, in a second array."""
    texts = [pc.cast(pa.array(values), kind)]
    a = np.abs(values)
    whole = (values == np.floor(values)) & (a < 1e10)
    odd = ~((a >= 1e-4) & (a < 1e10)) & (values != 0)  # never whole
    if not odd.any():
        return texts, whole if whole.any() else None, None
    where = np.flatnonzero(odd)
    texts.append(pa.array([repr(v) for v in values[where].tolist()], kind))
    rank = np.arange(len(values), dtype=np.int32)
    rank[where] = np.arange(len(values), len(values) + len(where), dtype=np.int32)
    return texts, whole if whole.any() else None, rank


def format_value(v: Any) -> str | None:
    """A single field value in line protocol, or None when missing."""
    if type(v) is float:  # the common case first (same result as below)
        return repr(v) if math.isfinite(v) else None
    if v is None:
        return None
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, int | float | np.integer | np.floating):
        f = float(v)
        return repr(f) if math.isfinite(f) else None
    if isinstance(v, str):
        return f'"{escape_str(v)}"'
    return None


def point_line(
    measurement: str, tags: Mapping[str, str], fields: Mapping[str, Any], time: pd.Timestamp
) -> str | None:
    """One point; None when it has no field with a value."""
    return line_at(series_key(measurement, tags), fields, epoch_ms(time))


def frame_points(
    measurement: str, tags: Mapping[str, str], frame: pd.DataFrame, ms: np.ndarray
) -> list[str | None]:
    """:func:`point_line` of every row of ``frame`` (its columns the fields, any type that
    :func:`format_value` takes) at ``ms`` (epoch milliseconds, one per row): None for a row
    without a field with a value. Column by column, not a dict per row."""
    if not len(frame.columns):
        return [None] * len(ms)
    series = series_key(measurement, tags)
    columns = []
    for name in frame.columns:
        prefix = escape_key(str(name)) + "="
        texts = map(format_value, frame[name].tolist())
        columns.append([None if t is None else prefix + t for t in texts])
    out: list[str | None] = []
    for fields, at in zip(zip(*columns, strict=True), ms.tolist(), strict=True):
        body = ",".join(filter(None, fields))
        out.append(f"{series} {body} {at}" if body else None)
    return out


def epoch_ms(time: pd.Timestamp | float) -> int:
    """Milliseconds since the Unix epoch, floored (as :func:`to_ms` does for frames); a float
    is Unix seconds."""
    if isinstance(time, float | int) and not isinstance(time, bool):
        return int(math.floor(float(time) * 1000.0))
    return int(pd.Timestamp(time).as_unit("ns").value // 1_000_000)


def line_at(series: str, fields: Mapping[str, Any], ms: int) -> str | None:
    """One point of an escaped series key (:func:`series_key`) at ``ms``; None without fields."""
    body = []
    for k, v in fields.items():
        text = format_value(v)
        if text is not None:
            body.append(f"{escape_key(k)}={text}")
    if not body:
        return None
    return f"{series} {','.join(body)} {ms}"
