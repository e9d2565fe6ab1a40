"""HR zone table of the report: half-open zones whose labels do not overlap (issue 15)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from sensorhub.report.data import HR_ZONES, hr_zones
from sensorhub.report.sections import hr_zone_table


def _series(bpm: list[float]) -> pd.Series:
    """One record per second from a fixed start."""
    index = pd.date_range("2026-11-15 09:00", periods=len(bpm), freq="1s", tz="UTC")
    return pd.Series(bpm, index=index, dtype=float)


def _bpm_ranges(table: pd.DataFrame) -> list[tuple[int, int | None]]:
    out = []
    for label in table["bpm"]:
        if m := re.fullmatch(r"(\d+)–(\d+)", label):
            out.append((int(m[1]), int(m[2])))
        else:
            m = re.fullmatch(r"≥ (\d+)", label)
            assert m, label
            out.append((int(m[1]), None))
    return out


@pytest.mark.parametrize("hr_max", [190, 187, 201.0])
def test_zone_bpm_labels_follow_on_without_overlap(hr_max):
    table = hr_zones(_series([120.0, 121.0]), hr_max)
    ranges = _bpm_ranges(table)
    assert len(ranges) == len(HR_ZONES) and ranges[-1][1] is None  # the top zone is open
    for (_, last), (first, _) in zip(ranges, ranges[1:], strict=False):
        assert first == last + 1  # "95–113" then "114–132", never "…–114" then "114–…"
    assert list(table["pct_of_max"]) == [
        "50 to <60 %",
        "60 to <70 %",
        "70 to <80 %",
        "80 to <90 %",
        "≥ 90 %",
    ]


@pytest.mark.parametrize("hr_max", [190, 187])
def test_every_whole_bpm_counts_in_the_zone_its_label_names(hr_max):
    """Each whole bpm from Z1's floor to past max HR, one second each: every second counts in
    exactly one zone, the one whose label holds that bpm (bounds included below, excluded
    above: 60 % of 190 = 114 bpm is Z2)."""
    ranges = _bpm_ranges(hr_zones(_series([100.0]), hr_max))
    floor = ranges[0][0]
    for bpm in range(floor, int(hr_max) + 10):
        table = hr_zones(_series([float(bpm), float(bpm)]), hr_max)
        (hit,) = [i for i, t in enumerate(table["time_s"]) if t > 0]
        lo, hi = ranges[hit]
        assert lo <= bpm and (hi is None or bpm <= hi), (bpm, ranges[hit])
    boundary = hr_zones(_series([114.0, 114.0]), 190)
    assert list(boundary["time_s"]) == [0.0, 2.0, 0.0, 0.0, 0.0]


def test_zone_table_note_says_the_bounds_are_half_open():
    run = pd.DataFrame({"hr_bpm": _series([150.0] * 60)})
    html = hr_zone_table(run, 190)
    assert "includes its lower bound and not its upper one" in html
    assert "50 to &lt;60 %" in html and "90 % and above" in html
    assert "<td>114–132</td>" in html and "<td>≥ 171</td>" in html


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_zone_seconds_do_not_depend_on_the_index_unit(unit):
    """pandas 3 builds µs indexes (FIT decoding gives ns): 60 records a second apart are 60 s
    in the zones whatever the unit."""
    hr = _series([150.0] * 60)
    hr.index = hr.index.as_unit(unit)
    assert hr_zones(hr, 190)["time_s"].sum() == pytest.approx(60.0)
