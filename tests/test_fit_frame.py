"""drivers.fit.frame builds the frame pandas' constructor would build, column by column."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from drivers.fit.frame import build_frame, infer_objects, labels, str_array


def _objects(values: list) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


COLUMNS = {
    "ints": np.array([1, 2, 3], dtype=np.int64),
    "floats": np.array([1.5, np.nan, 3.0]),
    "more_floats": np.array([0.25, 0.5, 0.75]),
    "flags": np.array([True, False, True]),
    "names": _objects(["garmin", None, "stryd"]),
    "all_names": _objects(["a", "b", "c"]),
    "missing": _objects([None, None, None]),
    "tuples": _objects([(1, None), (2, 3), (None, None)]),
    "enum_or_number": _objects(["running", 250, None]),
    "times_of_day": _objects([dt.time(6, 30), None, dt.time(7, 0)]),
    "bool_or_none": _objects([True, None, False]),
    "ints_or_none": _objects([1, None, 2]),
    "utc_or_system": _objects([pd.Timestamp("2024-05-01", tz="UTC"), 12, None]),
    "datetimes": _objects([pd.Timestamp("2024-05-01", tz="UTC"), None, None]),
    "local": np.array([0, 10**15, 2 * 10**15], dtype="M8[us]"),
    "utc": pd.arrays.DatetimeArray._simple_new(
        np.array([0, 10**18, 2 * 10**18]).view("M8[ns]"), dtype=pd.DatetimeTZDtype("ns", "UTC")
    ),
    "text": pd.array(["x", None, "z"], dtype="str"),
}


def _constructor(columns: dict) -> pd.DataFrame:
    return pd.DataFrame({k: v.copy() for k, v in columns.items()}, index=pd.RangeIndex(3))


def test_every_kind_of_column_is_typed_as_the_constructor_types_it() -> None:
    got = build_frame(list(COLUMNS), [v.copy() for v in COLUMNS.values()], 3)
    want = _constructor(COLUMNS)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert list(got.dtypes) == list(want.dtypes)
    assert got.columns.dtype == want.columns.dtype
    for col in want.columns:  # the same Python objects come out of each cell
        assert [type(v) for v in got[col].tolist()] == [type(v) for v in want[col].tolist()], col


def test_columns_of_a_float_block_keep_their_places() -> None:
    block = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    got = build_frame(["a", "b", "c"], [None, COLUMNS["names"].copy(), None], 3, block, [0, 2])
    want = pd.DataFrame({"a": block[0], "b": COLUMNS["names"], "c": block[1]})
    pd.testing.assert_frame_equal(got, want, check_exact=True)


@pytest.mark.parametrize(
    "values",
    [["a", None], [None, None], ["a", 1], [np.nan, "a"], [(1,), None], [dt.time(1), "a"]],
)
def test_object_inference_matches_pandas(values: list) -> None:
    got, want = pd.Series(infer_objects(_objects(values))), pd.Series(_objects(values))
    assert got.dtype == want.dtype
    pd.testing.assert_series_equal(got, want, check_exact=True)


def test_str_array_equals_pandas_str_array() -> None:
    got, want = str_array(_objects(["a", None, "ccc"])), pd.array(["a", None, "ccc"], dtype="str")
    assert got.dtype == want.dtype and got.equals(want)


def test_shared_column_labels_stay_independent_between_frames() -> None:
    one = build_frame(["x", "y"], [np.arange(2), np.arange(2)], 2)
    two = build_frame(["x", "y"], [np.arange(2), np.arange(2)], 2)
    one.columns.name = "renamed"
    one.loc[0, "x"] = 99
    assert two.columns.name is None and two["x"].tolist() == [0, 1]
    pd.testing.assert_index_equal(labels(["x", "y"]), pd.Index(["x", "y"]), exact=True)


def test_a_pandas_whose_internals_changed_gets_the_constructors_frames(monkeypatch) -> None:
    """The block path rests on pandas internals: where its sample frame differs from the
    constructor's, every frame is built by the constructor (same frames, slower)."""
    from drivers.fit import frame

    def wrong(blocks, index, columns):  # e.g. a pandas whose block API reorders columns
        return pd.DataFrame({c: np.zeros(len(index)) for c in reversed(list(columns))})

    monkeypatch.setattr(frame, "create_dataframe_from_blocks", wrong)
    monkeypatch.setattr(frame, "_FAST", [])
    got = build_frame(list(COLUMNS), [v.copy() for v in COLUMNS.values()], 3)
    pd.testing.assert_frame_equal(got, _constructor(COLUMNS), check_exact=True)
    assert frame._FAST == [False]


def test_this_pandas_takes_the_block_path() -> None:
    from drivers.fit import frame

    assert frame._same_as_constructor()
