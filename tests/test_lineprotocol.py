"""Line protocol: escaping, missing values, float-only numbers, ms timestamps."""

import math

import numpy as np
import pandas as pd
import pytest

from sensorhub.store import lineprotocol
from sensorhub.store.lineprotocol import (
    escape_key,
    frame_points,
    frame_to_lines,
    point_line,
    series_key,
    to_ms,
)


def test_frame_rows_skip_missing_fields_and_empty_rows():
    idx = pd.DatetimeIndex(["2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z"])
    df = pd.DataFrame(
        {"hr_bpm": [150, np.nan, np.nan], "speed_mps": [3.25, 3.5, np.nan]}, index=idx
    )
    lines = frame_to_lines("run", df, {"athlete": "ana", "sport": "running"})
    assert lines == [
        "run,athlete=ana,sport=running hr_bpm=150.0,speed_mps=3.25 1767225600000",
        "run,athlete=ana,sport=running speed_mps=3.5 1767225601000",
    ]


def test_escaping_of_tags_fields_and_strings():
    line = point_line(
        "session",
        {"athlete": "Ana María, jr=1", "empty": ""},
        {"load method": 'say "hi"\\', "n": 3, "ok": True, "nan": float("nan"), "none": None},
        pd.Timestamp("2026-01-01T00:00:00.123Z"),
    )
    assert line == (
        'session,athlete=Ana\\ María\\,\\ jr\\=1 load\\ method="say \\"hi\\"\\\\",n=3.0,ok=true 1767225600123'
    )


def test_point_without_values_is_none():
    assert (
        point_line("x", {}, {"a": None, "b": float("inf")}, pd.Timestamp("2026-01-01", tz="UTC"))
        is None
    )


# --- the vectorised frame_to_lines against a row-by-row reference ---------------------------


def reference_lines(measurement: str, frame: pd.DataFrame, tags: dict) -> list[str]:
    """The line protocol contract spelled out one row and one value at a time."""
    key = series_key(measurement, tags)
    ms = to_ms(frame.index)
    cols = [
        (escape_key(c), pd.to_numeric(frame.iloc[:, j], errors="coerce").to_numpy(float))
        for j, c in enumerate(frame.columns)
    ]
    lines = []
    for i in range(len(frame)):
        fields = [f"{name}={float(v[i])!r}" for name, v in cols if math.isfinite(v[i])]
        if fields:
            lines.append(f"{key} {','.join(fields)} {int(ms[i])}")
    return lines


def random_frame(rng: np.random.Generator, n: int, k: int) -> pd.DataFrame:
    """Floats of every magnitude and sign, repeats, -0.0, inf and NaN in random patterns."""
    kinds = ["repeat", "wide", "tiny", "huge", "int", "sparse"]
    data = {}
    for j in range(k):
        kind = kinds[j % len(kinds)]
        if kind == "repeat":
            v = rng.choice([0.0, -0.0, 1.5, 150.0, 3.25, -2.0, 1e16, 1e-5], n)
        elif kind == "wide":
            v = rng.normal(0, 1, n) * 10.0 ** rng.integers(-8, 20, n)
        elif kind == "tiny":
            v = rng.random(n) * 1e-6
        elif kind == "huge":
            v = rng.random(n) * 1e22
        elif kind == "int":
            v = rng.integers(-1000, 1000, n).astype(float)
        else:
            v = np.where(rng.random(n) < 0.9, np.nan, rng.random(n))
        v[rng.random(n) < rng.random()] = np.nan
        v[rng.random(n) < 0.01] = np.inf
        data[["hr_bpm", "speed mps", "a,b", "x=y", "{brace}", "lat"][j % 6] + str(j)] = v
    idx = pd.DatetimeIndex(
        pd.Timestamp("2026-01-01", tz="UTC")
        + pd.to_timedelta(np.sort(rng.integers(0, 10**9, n)), unit="ms")
    )
    return pd.DataFrame(data, index=idx)


@pytest.mark.parametrize("seed", range(12))
def test_frame_to_lines_matches_reference_on_random_frames(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.choice([1, 7, 300, 3000]))
    k = int(rng.choice([1, 3, 9, 70]))  # 70 fields: more than one 64-bit missing-pattern key
    frame = random_frame(rng, n, k)
    frame.iloc[rng.random(n) < 0.05] = np.nan  # some rows with nothing to write
    tags = {"athlete": "ana {x}", "sport": "running"}
    assert frame_to_lines("run", frame, tags) == reference_lines("run", frame, tags)


def test_frame_to_lines_coerces_like_to_numeric() -> None:
    idx = pd.date_range("2026-01-01", periods=4, freq="s", tz="UTC")
    frame = pd.DataFrame(
        {
            "i": [1, 2, 3, 4],
            "b": [True, False, True, False],
            "s": ["1.5", "x", None, "2"],
            "nan": [np.nan] * 4,
        },
        index=idx,
    )
    assert frame_to_lines("m", frame, {}) == reference_lines("m", frame, {})
    assert frame_to_lines("m", frame, {})[0] == "m i=1.0,b=1.0,s=1.5 1767225600000"
    assert frame_to_lines("m", frame.iloc[:0], {}) == []


# --- FIT-like scaled values; the points of a daily table, column by column ------------------


def test_scaled_integers_and_edges_match_repr() -> None:
    """FIT-like scaled integers (``raw / 10**d``), coordinates, repeated values and values at
    the edges of repr's formats (exponent range, 15-17 digits, -0.0) are written as ``repr``,
    before 1970 too."""
    rng = np.random.default_rng(7)
    n = 5000
    data = {f"d{d}": rng.integers(-(10**9), 10**9, n) / 10.0**d for d in range(9)}
    data["edges"] = rng.choice(
        [
            0.0,
            -0.0,
            1e-4,
            9.9e-5,
            1e-5,
            0.1 + 0.2,
            123456789012345.0,
            999999999999999.9,
            1e15,
            1e16,
            5e-324,
            -0.5,
            150.0,
            2.5e-3,
            1234567.0000001,
        ],
        n,
    )
    data["mixed"] = np.where(rng.random(n) < 0.5, rng.integers(0, 300, n) / 2.0, rng.random(n))
    data["lat"] = rng.integers(-(2**31), 2**31, n) * (180.0 / 2**31)
    data["few"] = rng.choice(rng.random(40) * 1000, n)
    idx = pd.date_range("1969-12-31T23:59:58Z", periods=n, freq="37ms")  # before 1970 too
    frame = pd.DataFrame(data, index=idx)
    frame.iloc[rng.random(n) < 0.1, 3] = np.nan
    tags = {"athlete": "ana"}
    assert frame_to_lines("run", frame, tags) == reference_lines("run", frame, tags)


def test_frame_points_equal_point_line_per_row() -> None:
    days = pd.date_range("2026-03-28", periods=4, freq="D")
    frame = pd.DataFrame(
        {
            "load": [1.5, np.nan, 0.0, -0.0],
            "status": ["ok", None, 'say "hi"', np.nan],
            "n": pd.array([1, 2, None, 4], dtype="Int64"),
            "flag": [True, False, True, False],
            "none": [np.nan] * 4,
        },
        index=days,
    )
    starts = days.tz_localize("Europe/Berlin").tz_convert("UTC")
    want = [
        point_line("load", {"athlete": "ana"}, row, t)
        for row, t in zip(frame.to_dict("index").values(), starts, strict=True)
    ]
    assert frame_points("load", {"athlete": "ana"}, frame, to_ms(starts)) == want
    assert frame_points("load", {}, frame.iloc[:0], np.zeros(0, np.int64)) == []
    assert frame_points("x", {}, frame[["none"]], to_ms(starts)) == [None] * 4


# --- the one-take assembly: ".0" of whole numbers, the first field, large strings -----------


def test_whole_numbers_before_missing_fields_first_field_and_line_end() -> None:
    """A whole number's ".0" comes with the element after it (the next present field's key or
    the stamp's space), whichever field comes first carries the series."""
    nan = np.nan
    frame = pd.DataFrame(
        {
            "hr": [150.0, nan, nan, -0.0, 1e16],
            "gone": [nan] * 5,
            "speed": [nan, 3.25, nan, 2.0, 1e-05],
            "power": [250.0, 7.0, 0.5, nan, -3.0],
        },
        index=pd.date_range("2026-01-01", periods=5, freq="s", tz="UTC"),
    )
    lines = frame_to_lines("run", frame, {"athlete": "ana"})
    assert lines == reference_lines("run", frame, {"athlete": "ana"})
    assert lines == [
        "run,athlete=ana hr=150.0,power=250.0 1767225600000",
        "run,athlete=ana speed=3.25,power=7.0 1767225601000",
        "run,athlete=ana power=0.5 1767225602000",
        "run,athlete=ana hr=-0.0,speed=2.0 1767225603000",
        "run,athlete=ana hr=1e+16,speed=1e-05,power=-3.0 1767225604000",
    ]


def test_repeating_and_spread_columns_with_gaps_share_texts() -> None:
    """Columns that repeat the same values (formatted once for all of them) beside ones that
    hardly repeat, all with gaps, on more rows than the repeat test samples."""
    rng = np.random.default_rng(3)
    n = 5000
    hr = rng.integers(90, 190, n).astype(float)
    frame = pd.DataFrame(
        {
            "hr": hr,
            "cadence": np.where(rng.random(n) < 0.5, hr, rng.integers(0, 3, n) * 0.5),
            "distance": np.cumsum(rng.integers(0, 500, n)) / 100.0,
            "lat": rng.integers(-(2**31), 2**31, n) * (180.0 / 2**31),
        },
        index=pd.date_range("2026-01-01", periods=n, freq="s", tz="UTC"),
    )
    for col in frame.columns:
        frame.loc[rng.random(n) < 0.3, col] = np.nan
    assert frame_to_lines("run", frame, {}) == reference_lines("run", frame, {})


def test_large_string_path_gives_the_same_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past 2 GiB of text a batch of lines needs 64-bit offsets: the same lines then."""
    rng = np.random.default_rng(11)
    frame = random_frame(rng, 3000, 9)
    want = reference_lines("run", frame, {"athlete": "ana"})
    monkeypatch.setattr(lineprotocol, "_INT32_OFFSETS", 0)
    assert frame_to_lines("run", frame, {"athlete": "ana"}) == want
