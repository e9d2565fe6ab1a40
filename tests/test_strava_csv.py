"""Strava activities.csv: a realistic export (real header, repeated names, localised dates)."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest

from drivers.strava import StravaCsvError, parse_strava_date, read_activities_csv

# Header of a real 2023/2024 bulk export (repeated names: Elapsed Time, Distance, Max Heart
# Rate, Relative Effort, Commute), as published in public code reading these exports.
HEADER = [
    "Activity ID",
    "Activity Date",
    "Activity Name",
    "Activity Type",
    "Activity Description",
    "Elapsed Time",
    "Distance",
    "Max Heart Rate",
    "Relative Effort",
    "Commute",
    "Activity Private Note",
    "Activity Gear",
    "Filename",
    "Athlete Weight",
    "Bike Weight",
    "Elapsed Time",
    "Moving Time",
    "Distance",
    "Max Speed",
    "Average Speed",
    "Elevation Gain",
    "Elevation Loss",
    "Elevation Low",
    "Elevation High",
    "Max Grade",
    "Average Grade",
    "Average Positive Grade",
    "Average Negative Grade",
    "Max Cadence",
    "Average Cadence",
    "Max Heart Rate",
    "Average Heart Rate",
    "Max Watts",
    "Average Watts",
    "Calories",
    "Max Temperature",
    "Average Temperature",
    "Relative Effort",
    "Total Work",
    "Number of Runs",
    "Uphill Time",
    "Downhill Time",
    "Other Time",
    "Perceived Exertion",
    "Type",
    "Start Time",
    "Weighted Average Power",
    "Power Count",
    "Prefer Perceived Exertion",
    "Perceived Relative Effort",
    "Commute",
    "Total Weight Lifted",
    "From Upload",
    "Grade Adjusted Distance",
    "Weather Observation Time",
    "Weather Condition",
    "Weather Temperature",
    "Apparent Temperature",
    "Dewpoint",
    "Humidity",
    "Weather Pressure",
    "Wind Speed",
    "Wind Gust",
    "Wind Bearing",
    "Precipitation Intensity",
    "Sunrise Time",
    "Sunset Time",
    "Moon Phase",
    "Bike",
    "Gear",
    "Precipitation Probability",
    "Precipitation Type",
    "Cloud Cover",
    "Weather Visibility",
    "UV Index",
    "Weather Ozone",
    "Jump Count",
    "Total Grit",
    "Average Flow",
    "Flagged",
    "Average Elapsed Speed",
    "Dirt Distance",
    "Newly Explored Distance",
    "Newly Explored Dirt Distance",
    "Activity Count",
    "Total Steps",
    "Carbon Saved",
    "Pool Length",
    "Training Load",
    "Intensity",
    "Average Grade Adjusted Pace",
    "Timer Time",
    "Total Cycles",
    "Media",
]


def _row(values: dict[tuple[str, int], str]) -> list[str]:
    """A row from {(column name, occurrence): text}; other cells empty."""
    seen: dict[str, int] = {}
    out = []
    for name in HEADER:
        k = seen.get(name, 0)
        seen[name] = k + 1
        out.append(values.get((name, k), ""))
    return out


def _csv(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode()  # Excel-style BOM, as re-saved exports have


ROWS = [
    _row(
        {
            ("Activity ID", 0): "10523456789",
            ("Activity Date", 0): "Jan 5, 2024, 7:00:00\u202fAM",
            ("Activity Name", 0): "Morning Run, easy",
            ("Activity Type", 0): "Run",
            ("Activity Description", 0): 'Legs felt "heavy"\nsecond line',
            ("Elapsed Time", 0): "2712",
            ("Distance", 0): "8.04",  # display unit (km)
            ("Activity Private Note", 0): "calf ok",
            ("Filename", 0): "activities/11234567890.fit.gz",
            ("Elapsed Time", 1): "2712.0",
            ("Moving Time", 0): "2650.0",
            ("Distance", 1): "8043.7001953125",
            ("Perceived Exertion", 0): "6.0",
            ("Prefer Perceived Exertion", 0): "1.0",
        }
    ),
    _row(
        {
            ("Activity ID", 0): "10523456790",
            ("Activity Date", 0): "6 Jan 2024, 18:30:05",
            ("Activity Name", 0): "Evening Ride",
            ("Activity Type", 0): "Ride",
            ("Elapsed Time", 0): "3600",
            ("Distance", 0): "25.10",
            ("Filename", 0): "activities/11234567891.gpx",
            ("Distance", 1): "25100.0",
            ("Perceived Exertion", 0): "11",  # out of range
        }
    ),
    _row(
        {
            ("Activity ID", 0): "10523456791",
            ("Activity Date", 0): "7 janv. 2024, 06:00:00",
            ("Activity Name", 0): "Renfo",
            ("Activity Type", 0): "Weight Training",
            ("Elapsed Time", 0): "1800",
            ("Distance", 0): "0.0",
            ("Distance", 1): "0.0",
        }
    ),
    _row({("Activity ID", 0): "10523456792", ("Activity Date", 0): "someday"}),
]


def test_realistic_export_reads_each_documented_column() -> None:
    df = read_activities_csv(_csv(ROWS))
    assert list(df.columns) == [
        "activity_id",
        "filename",
        "name",
        "type",
        "start",
        "elapsed_s",
        "distance_m",
        "rpe",
        "private_note",
        "description",
    ]
    assert df["activity_id"].tolist() == [10523456789, 10523456790, 10523456791, 10523456792]
    assert str(df["start"].dtype) == "datetime64[ns, UTC]"
    assert df["start"].iloc[0] == pd.Timestamp("2024-01-05T07:00:00Z")
    assert df["start"].iloc[1] == pd.Timestamp("2024-01-06T18:30:05Z")
    assert df["start"].iloc[2] == pd.Timestamp("2024-01-07T06:00:00Z")
    assert pd.isna(df["start"].iloc[3])
    # Metres from the second Distance, never the display-unit first one.
    assert df["distance_m"].iloc[:3].tolist() == [8043.7001953125, 25100.0, 0.0]
    # Elapsed: second column where filled, the first (integer seconds) otherwise.
    assert df["elapsed_s"].iloc[:3].tolist() == [2712.0, 3600.0, 1800.0]
    assert df["rpe"].iloc[0] == 6.0 and np.isnan(df["rpe"].iloc[1])
    assert df["name"].iloc[0] == "Morning Run, easy"
    assert df["description"].iloc[0] == 'Legs felt "heavy"\nsecond line'
    assert df["private_note"].iloc[0] == "calf ok" and pd.isna(df["private_note"].iloc[1])
    assert df["filename"].tolist()[:2] == [
        "activities/11234567890.fit.gz",
        "activities/11234567891.gpx",
    ]
    assert pd.isna(df["filename"].iloc[2])  # a manual entry has no file
    assert df["type"].tolist()[:3] == ["Run", "Ride", "Weight Training"]
    warnings = df.attrs["warnings"]
    assert "1 Activity Date values not readable: start left missing" in warnings
    assert "1 Perceived Exertion values outside 1–10 left out" in warnings


def test_old_export_with_one_distance_column_needs_the_unit() -> None:
    header = ["Activity ID", "Activity Date", "Activity Name", "Activity Type", "Elapsed Time",
              "Distance", "Filename"]  # fmt: skip
    rows = [["1", "Feb 17, 2022, 12:18:26 PM", "Run", "Run", "1800", "5.00", "activities/1.gpx"]]
    df = read_activities_csv(_csv(rows, header))
    assert np.isnan(df["distance_m"].iloc[0]) and "pass distance_unit" in df.attrs["warnings"][0]
    assert read_activities_csv(_csv(rows, header), distance_unit="mi")["distance_m"].iloc[
        0
    ] == pytest.approx(8046.72)
    assert np.isnan(df["rpe"].iloc[0]) and df["elapsed_s"].iloc[0] == 1800.0


@pytest.mark.parametrize(
    "text",
    [
        "Jan 5, 2024, 7:00:00 AM",
        "Jan 5, 2024, 7:00:00\u00a0AM",
        "5 Jan 2024, 07:00:00",
        "2024-01-05 07:00:00",
        "05.01.2024, 07:00:00",
        "5. Jan. 2024, 07:00:00",
        "5 ene 2024 7:00:00",
        "5 de jan. de 2024 07:00:00",
    ],
)
def test_localised_dates(text: str) -> None:
    assert parse_strava_date(text) == pd.Timestamp("2024-01-05T07:00:00Z")


def test_not_an_activities_csv() -> None:
    with pytest.raises(StravaCsvError, match="no 'Activity ID' column"):
        read_activities_csv(b"id,name\n1,x\n")
    with pytest.raises(StravaCsvError, match="empty file"):
        read_activities_csv(b"")
