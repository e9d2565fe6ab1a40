"""Line protocol: escaping, missing values, float-only numbers, ms timestamps."""

import numpy as np
import pandas as pd

from sensorhub.store.lineprotocol import frame_to_lines, point_line


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
