"""FIT decoding with fitparse, the reference implementation (and the oracle)."""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from pathlib import Path
from typing import Any

import fitparse
import pandas as pd
from fitparse.utils import FitCRCError, FitEOFError, FitHeaderError, FitParseError

from .errors import FitError
from .result import FitMessages


def decode_with_fitparse(source: str | Path | bytes) -> FitMessages:
    """Decode a FIT file (path or bytes) with fitparse into :class:`FitMessages` (see its contract)."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    if not data:
        raise FitError("empty file")
    try:
        return _decode(data, check_crc=True)
    except FitCRCError as exc:
        out = _decode(data, check_crc=False)
        out.warnings.insert(0, f"CRC mismatch ({exc})")
        return out


def _decode(data: bytes, check_crc: bool) -> FitMessages:
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    units: dict[tuple[str, str], str] = {}
    local_time: set[tuple[str, str]] = set()
    utc_time: set[tuple[str, str]] = set()
    out = FitMessages()
    try:
        ff = fitparse.FitFile(io.BytesIO(data), check_crc=check_crc)
    except FitHeaderError as exc:
        raise FitError(f"not a FIT file ({exc})") from None
    except FitEOFError:
        raise FitError("not a FIT file (shorter than a FIT header)") from None
    n = 0
    try:
        for msg in ff.get_messages():
            name = msg.name
            row: dict[str, Any] = {}
            for fd in msg.fields:
                row[fd.name] = fd.value
                if fd.units and (name, fd.name) not in units:
                    units[(name, fd.name)] = fd.units
                type_name = getattr(getattr(fd, "type", None), "name", "")
                if type_name == "local_date_time":
                    local_time.add((name, fd.name))
                elif type_name == "date_time":
                    utc_time.add((name, fd.name))
            rows[name].append(row)
            n += 1
    except FitCRCError:
        raise
    except (FitEOFError, FitParseError, FitHeaderError, KeyError, IndexError, ValueError) as exc:
        if n == 0:
            raise FitError(f"cannot decode: {exc}") from None
        out.partial = True
        out.error = f"stopped after {n} messages: {type(exc).__name__}: {exc}"
    for name, recs in rows.items():
        out[name] = _frame(name, recs, local_time, utc_time)
    out.units = units
    return out


def _frame(
    name: str,
    recs: list[dict[str, Any]],
    local_time: set[tuple[str, str]],
    utc_time: set[tuple[str, str]],
) -> pd.DataFrame:
    """One frame per message name; date_time columns as UTC. fitparse leaves a date_time
    below 0x10000000 (system time: seconds since device power-on) as its number; a column
    holding any stays an object column of UTC ``Timestamp`` and ``int`` (as the fast decoder's)."""
    df = pd.DataFrame.from_records(recs)
    for col in df.columns:
        if (name, col) in local_time:
            continue
        values = df[col].dropna()
        if (name, col) in utc_time or (len(values) and isinstance(values.iloc[0], dt.datetime)):
            if any(_is_int(v) for v in values):
                df[col] = pd.Series(
                    [_utc_or_int(v) for v in df[col].astype(object)], index=df.index, dtype=object
                )
                continue
            df[col] = df[col].map(lambda v: v if isinstance(v, dt.datetime) else None)
            df[col] = pd.to_datetime(df[col], utc=True, errors="coerce").astype(
                "datetime64[ns, UTC]"
            )
    return df


def _is_int(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and float(v).is_integer()


def _utc_or_int(v: object) -> object:
    if isinstance(v, dt.datetime):
        return pd.Timestamp(v, tz="UTC")
    return int(v) if _is_int(v) else None
