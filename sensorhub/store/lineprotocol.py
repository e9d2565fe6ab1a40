"""InfluxDB line protocol, vectorised over DataFrames.

Every numeric field is written as a float: InfluxDB fixes a field's type per shard, and a
value that is an integer in one file and a fraction in the next would otherwise be refused.
Strings are quoted, booleans are ``true``/``false``. Timestamps are in milliseconds
(``precision=ms`` on the write).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

PRECISION = "ms"
# An outbox batch whose lines start with this holds InfluxQL statements (deletes of points that
# a correction removed), sent to /query in order with the writes of the same series.
INFLUXQL_MARK = "#influxql "


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
    ``repr`` of that float; non-finite values are left out. Vectorised: each distinct value
    of a column is formatted once, and rows that have the same fields are joined together.
    """
    if frame.empty:
        return []
    values = _float_columns(frame)
    n = values.shape[1]
    ok = np.isfinite(values)
    texts = [
        _field_texts(escape_key(col) + "=", values[j], ok[j]) for j, col in enumerate(frame.columns)
    ]
    stamps = np.array(list(map(" %d".__mod__, to_ms(frame.index).tolist())), dtype=object)
    head = series_key(measurement, tags) + " "
    out = np.empty(n, dtype=object)
    keep = np.zeros(n, dtype=bool)
    for cols, rows in _row_patterns(ok):
        if not cols:
            continue
        fields = map(",".join, zip(*[texts[j][rows].tolist() for j in cols], strict=True))
        out[rows] = list(map(str.__add__, map(head.__add__, fields), stamps[rows].tolist()))
        keep[rows] = True
    return out[keep].tolist()


def _float_columns(frame: pd.DataFrame) -> np.ndarray:
    """``(columns, rows)`` floats, each column ``pd.to_numeric(errors="coerce")``; a frame of
    float64 columns only (what normalise builds) is copied in one step."""
    if all(dt == np.float64 for dt in frame.dtypes):
        return np.ascontiguousarray(frame.to_numpy(dtype=float).T)
    values = np.empty(frame.shape[::-1])
    for j in range(frame.shape[1]):
        values[j] = pd.to_numeric(frame.iloc[:, j], errors="coerce").to_numpy(dtype=float)
    return values


def _field_texts(prefix: str, values: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """``prefix + repr(value)`` where ``ok`` (None elsewhere).

    A column that repeats values (heart rate, cadence...) has each distinct value formatted
    once; one that hardly repeats (distance, coordinates) is formatted directly, unsorted."""
    out = np.empty(len(values), dtype=object)
    good = values[ok]
    if len(good) == 0:
        return out
    if len(good) > 4 * _SAMPLE and len(np.unique(good[:: len(good) // _SAMPLE])) > _SAMPLE // 2:
        out[ok] = np.array(list(map(prefix.__add__, map(repr, good.tolist()))), dtype=object)
        return out
    bits, inv = np.unique(good.view(np.int64), return_inverse=True)  # bits: -0.0 stays apart
    floats = bits.view(np.float64).tolist()
    out[ok] = np.array(list(map(prefix.__add__, map(repr, floats))), dtype=object)[inv.ravel()]
    return out


_SAMPLE = 256  # values looked at to decide whether a column repeats


def _row_patterns(ok: np.ndarray) -> list[tuple[list[int], np.ndarray]]:
    """Rows grouped by which fields they have: ``(field indices, row indices)``, rows ascending."""
    n = ok.shape[1]
    packed = np.packbits(ok, axis=0, bitorder="little")  # (ceil(k/8), n)
    if packed.shape[0] <= 8:  # up to 64 fields: one integer key per row
        keys = np.zeros((8, n), np.uint8)
        keys[: packed.shape[0]] = packed
        inv = np.unique(np.ascontiguousarray(keys.T).view(np.uint64).ravel(), return_inverse=True)[
            1
        ]
    else:
        inv = np.unique(packed.T, axis=0, return_inverse=True)[1]
    inv = inv.ravel()
    order = np.argsort(inv, kind="stable")
    bounds = np.cumsum(np.bincount(inv))
    out = []
    for p in range(len(bounds)):
        rows = order[bounds[p - 1] if p else 0 : bounds[p]]
        cols = np.flatnonzero(ok[:, rows[0]]).tolist()
        out.append((cols, rows))
    return out


def format_value(v: Any) -> str | None:
    """A single field value in line protocol, or None when missing."""
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
