"""TCX and GPX files as a source kind, through ``Pipeline(cfg).ingest``: every GPSBabel
sample ingests, with the point count, duration and mean HR the reference libraries read."""

from __future__ import annotations

from pathlib import Path

import gpxpy
import pandas as pd
import pytest
from tcxreader.tcxreader import TCXReader

from sensorhub.config import load_config
from sensorhub.pipeline import Pipeline
from tests.shared import shared_dir


def _files() -> list[Path]:
    return sorted(p for p in shared_dir("tcx-gpx").rglob("*") if p.suffix in (".tcx", ".gpx"))


def _oracle(path: Path) -> tuple[int, float, float]:
    """(points, duration s, mean HR) by gpxpy/tcxreader: one point per timestamp, HR 0 and
    255 are "no reading" (the readers' documented rules)."""
    if path.suffix == ".gpx":
        doc = gpxpy.parse(path.read_text(encoding="utf-8"))
        pts = [p for t in doc.tracks for s in t.segments for p in s.points if p.time]
        times = [p.time for p in pts]
        hr = [_hr(p) for p in pts]
    else:
        tps = [t for t in TCXReader().read(str(path), only_gps=False).trackpoints if t.time]
        times, hr = [t.time for t in tps], [t.hr_value for t in tps]
    s = pd.Series(hr, index=pd.to_datetime(times, utc=True), dtype=float)
    s = s.where((s > 0) & (s < 255)).groupby(level=0).last()
    return len(s), (s.index[-1] - s.index[0]).total_seconds(), float(s.mean())


def _hr(point) -> float:
    for ext in point.extensions:
        for el in ext.iter():
            if isinstance(el.tag, str) and el.tag.rpartition("}")[2] == "hr":
                return float(el.text)
    return float("nan")


def test_every_sample_ingests_and_agrees_with_the_reference_readers(cfg) -> None:
    files = _files()
    report = Pipeline(cfg).ingest(files)
    assert [f.status for f in report.files] == ["ingested"] * len(files)
    journal = Pipeline(cfg).journal
    by_path = {}
    for row in journal.session_rows():
        by_path[Path(journal.source(row.source_id)["path"])] = row
    for path in files:
        row = by_path[path]
        n, duration, hr = _oracle(path)
        assert row.summary["records"] == n, path
        assert row.duration_s == pytest.approx(duration), path
        assert row.summary.get("hr_avg_bpm", float("nan")) == pytest.approx(hr, nan_ok=True), path
    tcx = by_path[shared_dir("tcx-gpx", "GPSBabel__gpsbabel", "gtrnctr-lap_s.tcx")]
    assert (tcx.sport, tcx.summary["laps"]) == ("running", 14)


def test_hr_gives_trimp_load_like_a_fit_file(home) -> None:
    conf = home.parent / "c.toml"
    conf.write_text('[[athletes]]\nid = "ana"\nhr_rest = 50\nhr_max = 190\n')
    pipe = Pipeline(load_config(conf, home), athlete="ana")
    pipe.ingest([shared_dir("tcx-gpx", "GPSBabel__gpsbabel", "history.tcx")])
    (row,) = pipe.journal.session_rows()
    assert row.load_method == "trimp" and row.trimp > 0 and row.load == row.trimp
    source = pipe.journal.source(row.source_id)
    assert source["kind"] == "tcx"
    lines = [b.body for b in pipe.journal.outbox.batches() if b.measurement == "run"]
    assert "source=tcx" in lines[0] and "sport=cycling" in lines[0]


def test_course_and_route_are_no_activity_in_one_line(tmp_path, cfg) -> None:
    course = tmp_path / "course.tcx"
    course.write_text(
        '<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">'
        "<Courses><Course><Name>x</Name><Track><Trackpoint><Position><LatitudeDegrees>48"
        "</LatitudeDegrees><LongitudeDegrees>2</LongitudeDegrees></Position></Trackpoint>"
        "</Track></Course></Courses></TrainingCenterDatabase>"
    )
    route = tmp_path / "route.gpx"
    route.write_text(
        '<gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
        '<rte><rtept lat="48" lon="2"/><rtept lat="48.1" lon="2"/></rte></gpx>'
    )
    bad = tmp_path / "bad.gpx"
    bad.write_text("<gpx")
    results = Pipeline(cfg).ingest([course, route, bad]).files
    assert [r.status for r in results] == ["skipped", "skipped", "failed"]
    assert results[0].message.startswith("no activity: TCX holds courses only")
    assert results[1].message.startswith("no activity: GPX holds routes only")
    assert all("\n" not in r.line() for r in results)
