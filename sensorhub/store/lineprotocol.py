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


def escape_key(s: str) -> str:
    """Escape a measurement, tag key, tag value or field key (commas, equals, spaces)."""
    return s.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


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
    """One line per row of ``frame`` (UTC DatetimeIndex); NaN fields are left out, empty rows dropped."""
    if frame.empty:
        return []
    key = series_key(measurement, tags)
    parts = []
    for col in frame.columns:
        values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(values)
        text = np.where(ok, escape_key(col) + "=" + values.astype(str), "")
        parts.append(text)
    ts = to_ms(frame.index).astype(str)
    lines = []
    for i, row in enumerate(zip(*parts, strict=True)):
        fields = ",".join(p for p in row if p)
        if fields:
            lines.append(f"{key} {fields} {ts[i]}")
    return lines


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
    body = []
    for k, v in fields.items():
        s = format_value(v)
        if s is not None:
            body.append(f"{escape_key(k)}={s}")
    if not body:
        return None
    ms = int(pd.Timestamp(time).as_unit("ns").value // 1_000_000)
    return f"{series_key(measurement, tags)} {','.join(body)} {ms}"
