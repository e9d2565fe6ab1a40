"""Bounded reading of delimited IMU text files (CSV, Polar's ``;`` export).

Why bounded: a 2 GB file without a newline once made the tokenizer hold the whole "line"
(77 s, 10.6 GB of memory). Here

* the file size is capped at :data:`MAX_FILE_BYTES` (2 GiB; split longer recordings);
* the header is read with one bounded read of :data:`MAX_LINE_BYTES` + 1 bytes, so a file
  without newlines is refused after reading 64 KiB;
* every byte pandas' C parser sees passes through :class:`_LineCapped`, which refuses any line
  longer than :data:`MAX_LINE_BYTES` (a sample line is < 200 bytes), and rows are parsed in
  chunks of :data:`CHUNK_ROWS`, so memory is one chunk plus the output arrays (8 bytes per
  value), never a multiple of the file size.

Cells: empty cells and ``nan`` are missing values; any other text that is not a number is an
error naming the column, the data row (1 = first line after the header) and the value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .recording import ImuFormatError

MAX_FILE_BYTES = 2 * 1024**3
MAX_LINE_BYTES = 64 * 1024
CHUNK_ROWS = 200_000
#: missing value of ``"ns"`` columns (int64 cannot hold NaN)
NS_MISSING = np.iinfo(np.int64).min
_ZONE = re.compile(r"(Z|[+-]\d\d(:?\d\d)?)$", re.IGNORECASE)


@dataclass
class Header:
    """First line of a table: stripped column names and the separator."""

    columns: list[str]
    sep: str
    first_row: list[str] = field(default_factory=list)  # fields of line 2, when in the head


@dataclass
class Table:
    """Columns read by :func:`read_columns`, all of the same length ``rows``."""

    cols: dict[str, np.ndarray]
    rows: int
    labels: dict[str, set[str]] = field(default_factory=dict)
    naive_times: bool = False


def check_file(path: Path) -> int:
    """Size in bytes of a readable, non-empty regular file under the size cap."""
    try:
        st = path.stat()
    except OSError as e:
        raise ImuFormatError(f"{path}: cannot open ({e.strerror or e})") from None
    if not path.is_file():
        raise ImuFormatError(f"{path}: not a regular file")
    if st.st_size == 0:
        raise ImuFormatError(f"{path.name}: empty file, no samples")
    if st.st_size > MAX_FILE_BYTES:
        raise ImuFormatError(
            f"{path.name}: {st.st_size / 2**30:.1f} GiB is over the "
            f"{MAX_FILE_BYTES / 2**30:.0f} GiB limit for one IMU file; split the recording"
        )
    return st.st_size


def read_header(path: Path) -> Header:
    """Column names from the first line, read with one bounded read."""
    with path.open("rb") as f:
        head = f.read(MAX_LINE_BYTES + 1)
    if b"\0" in head:
        raise ImuFormatError(f"{path.name}: binary data (NUL bytes), not a text IMU export")
    end = head.find(b"\n")
    if end < 0 and len(head) > MAX_LINE_BYTES:
        raise ImuFormatError(
            f"{path.name}: first line is longer than {MAX_LINE_BYTES // 1024} KiB: "
            "not a table with one sample per line"
        )
    line = head[: end if end >= 0 else len(head)].decode("utf-8-sig", errors="replace")
    line = line.rstrip("\r")
    sep = max((",", ";", "\t"), key=line.count)
    cols = [c.strip().strip('"').strip() for c in line.split(sep)]
    cols = [c or f"unnamed_{i + 1}" for i, c in enumerate(cols)]  # e.g. a trailing separator
    seen = set()
    for c in cols:
        if c in seen:
            raise ImuFormatError(f"{path.name}: column {c!r} appears twice in the header")
        seen.add(c)
    rest = head[end + 1 :] if end >= 0 else b""
    line2 = rest[: rest.find(b"\n")] if b"\n" in rest else b""
    first = [v.strip().strip('"') for v in line2.decode("utf-8", "replace").split(sep)]
    return Header(cols, sep, first if line2.strip() else [])


class _LineCapped:
    """File object for pandas that refuses any line longer than ``MAX_LINE_BYTES``."""

    def __init__(self, f, name: str) -> None:
        self._f = f
        self._name = name
        self._run = 0  # bytes since the last newline
        self._line = 1

    def read(self, size: int = -1) -> bytes:
        block = self._f.read(size if size and size > 0 else 1 << 20)
        if block:
            self._check(block)
        return block

    def _check(self, block: bytes) -> None:
        nl = np.flatnonzero(np.frombuffer(block, np.uint8) == 10)
        if nl.size == 0:
            longest, at = self._run + len(block), 0
        else:
            gaps = np.diff(nl, prepend=-1)
            gaps[0] += self._run
            i = int(np.argmax(gaps))
            longest, at = int(gaps[i]), i
            tail = len(block) - 1 - int(nl[-1])
            if tail > longest:
                longest, at = tail, nl.size
        if longest > MAX_LINE_BYTES:
            raise ImuFormatError(
                f"{self._name}: line {self._line + at} is longer than "
                f"{MAX_LINE_BYTES // 1024} KiB: not a table with one sample per line"
            )
        self._line += nl.size
        self._run = len(block) - 1 - int(nl[-1]) if nl.size else self._run + len(block)

    def __iter__(self):  # pandas checks for it to accept a file-like object
        return self

    def __next__(self) -> bytes:
        raise StopIteration


def read_columns(path: Path, header: Header, kinds: dict[str, str]) -> Table:
    """Read the columns named in ``kinds`` (``name -> kind``), chunk by chunk.

    Kinds: ``"float"`` (float64, NaN when empty), ``"ns"`` (exact int64, :data:`NS_MISSING`
    when empty), ``"time"`` (ISO-8601 text → ``datetime64[ns]`` UTC; no zone = UTC, flagged
    in ``Table.naive_times``), ``"time?"`` (the same, unreadable text = NaT: for a fallback
    clock), ``"label"`` (only the set of distinct non-empty values).
    """
    parts: dict[str, list[np.ndarray]] = {c: [] for c, k in kinds.items() if k != "label"}
    labels: dict[str, set[str]] = {c: set() for c, k in kinds.items() if k == "label"}
    # every column is parsed (no usecols: with it, pandas silently drops extra fields in a
    # row); columns not asked for stay text so their content cannot fail the read
    text = {c: str for c in header.columns if kinds.get(c) != "float"}
    rows, naive = 0, False
    try:
        with path.open("rb") as f:
            reader = pd.read_csv(
                _LineCapped(f, path.name),
                sep=header.sep,
                header=0,
                names=header.columns,
                dtype=text,
                chunksize=CHUNK_ROWS,
                skipinitialspace=True,
                skip_blank_lines=True,
                encoding="utf-8",
                encoding_errors="replace",
            )
            for chunk in reader:
                for name, kind in kinds.items():
                    s = chunk[name]
                    if kind == "label":
                        labels[name].update(v.strip() for v in s.dropna() if v.strip())
                        continue
                    arr, naive_part = _convert(s, name, kind, rows)
                    naive |= naive_part
                    parts[name].append(arr)
                rows += len(chunk)
    except ImuFormatError:
        raise
    except (ValueError, pd.errors.ParserError, UnicodeError, OverflowError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ImuFormatError(f"{path.name}: cannot read as a table: {first}") from None
    cols = {n: np.concatenate(p) if p else np.array([]) for n, p in parts.items()}
    return Table(cols, rows, labels, naive)


def _first_bad(s: pd.Series, bad: pd.Series, name: str, row0: int, what: str) -> ImuFormatError:
    i = int(np.flatnonzero(bad.to_numpy())[0])
    value = str(s.iloc[i])
    value = value if len(value) <= 40 else value[:40] + "…"
    return ImuFormatError(f"column {name!r}: {value!r} at row {row0 + i + 1} is not {what}")


def _present(s: pd.Series) -> pd.Series:
    return s.notna() & (s.astype(str).str.strip() != "")


def _convert(s: pd.Series, name: str, kind: str, row0: int) -> tuple[np.ndarray, bool]:
    if kind == "float":
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            arr = s.to_numpy(float)
        else:
            num = pd.to_numeric(s, errors="coerce")
            bad = num.isna() & _present(s) & ~s.astype(str).str.strip().str.lower().eq("nan")
            if bad.any():
                raise _first_bad(s, bad, name, row0, "a number")
            arr = num.to_numpy(float)
        if np.isinf(arr).any():
            raise _first_bad(s, pd.Series(np.isinf(arr)), name, row0, "a finite number")
        return arr, False
    if kind == "ns":
        num = pd.to_numeric(s.str.strip(), errors="coerce", dtype_backend="numpy_nullable")
        bad = num.isna() & _present(s)
        if not pd.api.types.is_integer_dtype(num.dtype):
            bad |= num.notna() & (num != num.round())
        if bad.any():
            raise _first_bad(s, bad, name, row0, "a whole number of nanoseconds")
        return num.astype("Int64").to_numpy("int64", na_value=NS_MISSING), False
    # "time": ISO-8601; mixed zones are converted, zone-less text is read as UTC
    text = s.str.strip()
    ts = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
    bad = ts.isna() & _present(s)
    if bad.any() and kind == "time":
        raise _first_bad(s, bad, name, row0, "an ISO-8601 time")
    first = text[_present(s)]
    naive = bool(len(first)) and not _ZONE.search(first.iloc[0])
    return ts.dt.tz_localize(None).to_numpy("datetime64[ns]"), naive
