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
    ``repr`` of that float; non-finite values are left out. Columnar: each column becomes one
    Arrow string array of ``key=value`` texts (null where missing) and Arrow joins them row by
    row in C++ (``binary_join_element_wise``, nulls skipped). benchmarks/lineprotocol.py
    measures this against the hand-written per-row join it replaced (same lines).
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
    texts = [
        _field_texts(escape_key(col) + "=", values[j], ok[j])
        for j, col in enumerate(frame.columns)
        if ok[j].any()
    ]
    fields = pc.binary_join_element_wise(*texts, ",", null_handling="skip")
    ms = to_ms(frame.index)
    stamps = pc.cast(pa.array(ms if every else ms[keep]), pa.string())
    head = series_key(measurement, tags)
    return pc.binary_join_element_wise(head, fields, stamps, " ").to_pylist()


def _float_columns(frame: pd.DataFrame) -> np.ndarray:
    """``(columns, rows)`` floats, each column ``pd.to_numeric(errors="coerce")``; a frame of
    float64 columns only (what normalise builds) is copied in one step."""
    if all(dt == np.float64 for dt in frame.dtypes):
        return np.ascontiguousarray(frame.to_numpy(dtype=float).T)
    values = np.empty(frame.shape[::-1])
    for j in range(frame.shape[1]):
        values[j] = pd.to_numeric(frame.iloc[:, j], errors="coerce").to_numpy(dtype=float)
    return values


def _field_texts(prefix: str, values: np.ndarray, ok: np.ndarray) -> pa.StringArray:
    """``prefix + repr(value)`` where ``ok``, null elsewhere.

    A column that repeats values (heart rate, cadence...) has each distinct value formatted
    once (``repr``) and taken by index; one that hardly repeats (distance, coordinates) is
    formatted by Arrow's cast (:func:`_arrow_reprs`)."""
    every = bool(ok.all())
    good = values if every else values[ok]
    mask = None if every else ~ok
    if len(good) > 4 * _SAMPLE and len(np.unique(good[:: len(good) // _SAMPLE])) > _SAMPLE // 2:
        return pc.binary_join_element_wise(prefix, _arrow_reprs(values, ok, mask), "")
    # distinct bit patterns (-0.0 stays apart from 0.0), hashed: no sort needed
    inv, bits = pd.factorize(good.view(np.int64))
    texts = pa.array([prefix + repr(f) for f in bits.view(np.float64).tolist()], pa.string())
    if every:
        return texts.take(pa.array(inv))
    idx = np.zeros(len(values), np.int64)
    idx[ok] = inv
    return texts.take(pa.array(idx, mask=mask))


_SAMPLE = 256  # values looked at to decide whether a column repeats


def _arrow_reprs(values: np.ndarray, ok: np.ndarray, mask: np.ndarray | None) -> pa.StringArray:
    """``repr`` of the ``ok`` values through Arrow's float-to-string cast (null elsewhere).

    Arrow prints the same shortest round-trip digits as ``repr`` but ``150`` for ``150.0``
    (``.0`` is added to whole numbers) and uses other exponent thresholds: values outside
    1e-4..1e10 in magnitude (rare in running data) are given ``repr`` itself."""
    s = pc.cast(pa.array(values, mask=mask), pa.string())
    a = np.abs(values)
    with np.errstate(invalid="ignore"):
        whole = ok & (values == np.floor(values)) & (a < 1e10)
        odd = ok & ~((a >= 1e-4) & (a < 1e10)) & (values != 0)
    if whole.any():
        s = pc.if_else(pa.array(whole), pc.binary_join_element_wise(s, ".0", ""), s)
    if odd.any():
        fixed = pa.array([repr(v) for v in values[odd].tolist()], pa.string())
        s = pc.replace_with_mask(s, pa.array(odd), fixed)
    return s


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
