"""Decoded columns → a pandas DataFrame without the constructor's per-column checks.

``pd.DataFrame(dict_of_arrays)`` costs ~15 us a column plus ~100 us for each column of
strings and ~140 us for the column labels (both go through pandas' str inference into a
pyarrow array) — most of the time of a file's small frames (``file_id``, ``session``,
``device_info``...). :func:`build_frame` makes the same frame (same dtypes, values and
column labels, one block per column as ``copy=False`` gives) from pandas' block API
(``pandas.api.internals.create_dataframe_from_blocks``):

* object columns are typed exactly as the constructor types them
  (``lib.maybe_convert_objects`` with the constructor's arguments), except that a column of
  ``str`` (and missing values) becomes its ``str`` array straight from pyarrow;
* the column labels of a layout are made once and shared (as views: renaming one frame's
  columns leaves the others alone).

Anything else than numpy arrays, ``DatetimeArray`` and pyarrow ``str`` arrays goes through
``pd.DataFrame`` as before. These are pandas internals (``pandas>=2.1`` is not pinned), so
the first frame built checks the fast path against the constructor on a sample of every kind
of column; where they differ, or the fast path fails, every frame is built by the
constructor from then on (slower, never different).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas._libs import lib

try:  # the block API is public since pandas 3.0
    from pandas.api.internals import create_dataframe_from_blocks
except ImportError:  # pragma: no cover - older pandas: the constructor does it all
    create_dataframe_from_blocks = None

_STR_ARRAY = type(pd.array(["a"], dtype="str"))
_STR = pd.array(["a"], dtype="str").dtype
_DATETIME = pd.arrays.DatetimeArray
#: Arguments of ``sanitize_array`` for an object ndarray (pandas/core/construction.py).
_INFER = {
    "convert_numeric": False,
    "convert_non_numeric": True,
    "convert_to_nullable_dtype": False,
    "dtype_if_all_nat": np.dtype("M8[s]"),
}
#: The arrow-backed ``str`` of pandas 3 (pandas 2 without infer_string: object columns).
_ARROW_STR = (
    _STR_ARRAY.__name__ == "ArrowStringArray" and getattr(_STR, "na_value", None) is not pd.NA
)
#: ``lib.infer_dtype`` kinds that the constructor leaves object: tuples and mixed values
#: ("mixed"), numbers mixed with strings ("mixed-integer"), ``datetime.time`` ("time").
_STAY_OBJECT = frozenset({"mixed", "mixed-integer", "time"})
_LABELS: dict[tuple[str, ...], pd.Index] = {}
_LABELS_MAX = 4096  # distinct message layouts kept (a season has a few hundred)


def labels(names: list[str]) -> pd.Index:
    """``pd.Index(names)`` (pandas' ``str`` labels), made once per list of names."""
    key = tuple(names)
    idx = _LABELS.get(key)
    if idx is None:
        if len(_LABELS) >= _LABELS_MAX:
            _LABELS.clear()
        idx = _LABELS[key] = _new_labels(names)
    return idx.view()  # a new Index object on the same (immutable) values


def _new_labels(names: list[str]) -> pd.Index:
    """``pd.Index(names)`` of str names, without pandas' inference (~140 us)."""
    if not _ARROW_STR or not all(type(n) is str for n in names):
        return pd.Index(names)
    return pd.Index._simple_new(str_array(names))


def str_array(values: np.ndarray | list):
    """pandas' ``str`` array of str-or-missing ``values`` (what ``pd.array(values,
    dtype="str")`` gives), from one pyarrow call."""
    if not _ARROW_STR:
        return pd.array(values, dtype="str")
    arr = pa.array(values, type=pa.large_string(), from_pandas=True)
    out = _STR_ARRAY.__new__(_STR_ARRAY)
    out._pa_array = pa.chunked_array([arr])
    out._dtype = _STR
    out._cache = {}
    return out


def infer_objects(values: np.ndarray):
    """An object column as the DataFrame constructor types it (``str`` for strings and
    missing values, datetimes for datetimes, else the objects as they are)."""
    kind = lib.infer_dtype(values, skipna=True)
    if kind == "string" and _ARROW_STR:
        return str_array(values)
    if kind in _STAY_OBJECT or (kind == "empty" and not any(v is not None for v in values)):
        return values  # what maybe_convert_objects returns for these (~10 us a column saved)
    return lib.maybe_convert_objects(values, **_INFER)


def build_frame(
    names: list[str],
    arrays: list,
    n: int,
    floats: np.ndarray | None = None,
    float_at: list[int] | None = None,
) -> pd.DataFrame:
    """The frame of columns ``names`` (``arrays[i]`` holds column ``names[i]``; None where the
    column is a row of ``floats``, a ``(k, n)`` float64 block whose rows are the columns at
    positions ``float_at``) with a ``RangeIndex(n)``.

    numpy columns of one dtype share one 2-D block (copied into it; pandas' consolidated
    layout, which ``iloc[row]`` and ``to_dict`` walk block by block), except the float
    columns of ``floats``; other arrays are taken as they are."""
    if not names or not _fast_path_ok():
        return _constructed(names, arrays, n, floats, float_at)
    return _from_blocks(names, arrays, n, floats, float_at)


def _from_blocks(names, arrays, n, floats, float_at) -> pd.DataFrame:
    """:func:`build_frame` by pandas' block API."""
    blocks: list[tuple[object, np.ndarray]] = []
    if floats is not None and float_at:
        blocks.append((floats, np.asarray(float_at, dtype=np.intp)))
    by_dtype: dict[np.dtype, list[int]] = {}
    numpy: list = list(arrays)
    for i, a in enumerate(arrays):
        if a is None:
            continue
        if isinstance(a, np.ndarray) and a.ndim == 1 and a.dtype.kind in "biufcmMO":
            if a.dtype.kind == "O":
                a = numpy[i] = infer_objects(a)
            if isinstance(a, np.ndarray):
                by_dtype.setdefault(a.dtype, []).append(i)
                continue
        if not (isinstance(a, _DATETIME | _STR_ARRAY) and len(a) == n):
            return _constructed(names, arrays, n, floats, float_at)
        blocks.append((a, np.array([i], dtype=np.intp)))
    for dtype, at in by_dtype.items():
        if len(at) == 1:
            values = numpy[at[0]].reshape(1, n)
        else:
            values = np.empty((len(at), n), dtype=dtype)
            for row, i in enumerate(at):
                values[row] = numpy[i]
        blocks.append((values, np.array(at, dtype=np.intp)))
    return create_dataframe_from_blocks(blocks, index=pd.RangeIndex(n), columns=labels(names))


def _constructed(names, arrays, n, floats, float_at) -> pd.DataFrame:
    """:func:`build_frame` by the public constructor."""
    rows = dict(zip(float_at or [], floats if floats is not None else [], strict=True))
    data = {
        name: (rows[i] if a is None else a)
        for i, (name, a) in enumerate(zip(names, arrays, strict=True))
    }
    return pd.DataFrame(data, index=pd.RangeIndex(n), copy=False)


_FAST: list[bool] = []  # [whether the block path builds what the constructor builds]


def _fast_path_ok() -> bool:
    """Whether :func:`_from_blocks` gives the constructor's frame on this pandas: checked
    once, on a sample of each kind of column build_frame handles."""
    if not _FAST:
        _FAST.append(create_dataframe_from_blocks is not None and _same_as_constructor())
    return _FAST[0]


def _same_as_constructor() -> bool:
    names = np.empty(3, dtype=object)
    names[:] = ["garmin", None, "stryd"]
    tuples = np.empty(3, dtype=object)
    tuples[:] = [(1, None), (2, 3), None]
    sample = {
        "ints": np.array([1, 2, 3], dtype=np.int64),
        "floats": np.array([1.5, np.nan, 3.0]),
        "flags": np.array([True, False, True]),
        "names": names,
        "tuples": tuples,
        "missing": np.array([None, None, None], dtype=object),
        "local": np.array([0, 10**15, 2 * 10**15], dtype="M8[us]"),
        "text": str_array(["x", None, "z"]),
    }
    block = np.array([[0.25, 0.5, 0.75]])
    try:
        got = _from_blocks(
            [*sample, "f"], [*(v.copy() for v in sample.values()), None], 3, block, [8]
        )
        want = _constructed(
            [*sample, "f"], [*(v.copy() for v in sample.values()), None], 3, block, [8]
        )
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        return list(got.dtypes) == list(want.dtypes) and got.columns.dtype == want.columns.dtype
    except Exception:  # noqa: BLE001 - any failure of the internals: the constructor builds
        return False
