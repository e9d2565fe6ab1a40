"""Exports as inputs: a Garmin-style zip of zips, a Strava-style folder (and the same as a
zip), ``.gz`` files. They give exactly the sessions and InfluxDB points of the same files
ingested one by one; a second ingest changes nothing; a bad member is one line."""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from pathlib import Path

import pytest

from sensorhub.config import load_config
from sensorhub.pipeline import Pipeline
from tests.shared import shared_dir

STRAVA_HEADER = [
    "Activity ID",
    "Activity Date",
    "Activity Name",
    "Activity Type",
    "Activity Description",
    "Elapsed Time",
    "Distance",
    "Activity Private Note",
    "Filename",
    "Elapsed Time",
    "Distance",
    "Perceived Exertion",
]


def _sources() -> list[Path]:
    return [
        shared_dir("fit", "muktihari__fit", "activity_poolswim.fit"),
        shared_dir("tcx-gpx", "GPSBabel__gpsbabel", "tcxdata.tcx"),
        shared_dir("tcx-gpx", "GPSBabel__gpsbabel", "gpx_garmin_extensions.gpx"),
        shared_dir("tcx-gpx", "GPSBabel__gpsbabel", "garminconnect.gpx"),
    ]


def garmin_zip(tmp: Path, files: list[Path]) -> Path:
    """export.zip!DI_CONNECT/.../UploadedFiles_0-_Part1.zip!<files>, plus JSON and a bad FIT."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as z:
        for f in files:
            z.writestr(f.name, f.read_bytes())
        z.writestr("broken.fit", b"not a fit file at all")
    out = tmp / "export.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("DI_CONNECT/DI-Connect-Fitness/profile.json", b"{}")
        z.writestr(
            "DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip", inner.getvalue()
        )
    return out


def strava_folder(tmp: Path, files: list[Path]) -> Path:
    root = tmp / "export_123"
    (root / "activities").mkdir(parents=True)
    rows = []
    for i, f in enumerate(files):
        name = f"activities/{1000 + i}{f.suffix}" + (".gz" if i % 2 == 0 else "")
        data = f.read_bytes()
        (root / name).write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
        rows.append(
            [
                str(1000 + i),
                "Jan 5, 2024, 7:00:00 AM",
                f"Run {i}",
                "Run",
                "",
                "60",
                "1.0",
                f"note {i}",
                name,
                "60.0",
                "1000.0",
                str(3 + i),
            ]
        )
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(STRAVA_HEADER)
    w.writerows(rows)
    (root / "activities.csv").write_text(buf.getvalue())
    return root


def _state(pipe: Pipeline) -> list[tuple]:
    return sorted(
        (r.id, r.athlete, r.sport, r.start, r.duration_s, r.summary["records"])
        for r in pipe.journal.session_rows()
    )


def _points(influxd, db: str) -> dict[str, list]:
    out = {}
    for m in ("run", "session"):
        series = influxd.query(db, f'SELECT * FROM "{m}" GROUP BY *')
        out[m] = sorted((str(s.get("tags")), len(s["values"])) for s in series)
    return out


def test_garmin_zip_equals_files_one_by_one(tmp_path, influx_cfg, influxd, db_name, monkeypatch):
    files = _sources()
    archive = garmin_zip(tmp_path, files)
    pipe = Pipeline(influx_cfg)
    assert len(pipe.inputs([archive])) == len(files) + 1  # the JSON is not an input
    report = pipe.ingest([archive])
    assert [f.status for f in report.files] == ["ingested"] * len(files) + ["failed"]
    bad = report.files[-1].line()
    assert bad.startswith(str(tmp_path / "export.zip!DI_CONNECT/")) and "broken.fit: " in bad
    assert "\n" not in bad and report.flush.ok

    monkeypatch.setenv("SENSORHUB_INFLUX_DB", db_name + "_solo")
    solo = Pipeline(load_config(home=tmp_path / "solo"))
    solo.ingest(files)  # the same files as plain inputs
    assert _state(pipe) == _state(solo)
    assert _points(influxd, db_name) == _points(influxd, db_name + "_solo")

    outbox_before = pipe.journal.outbox.last_id()
    again = pipe.ingest([archive])
    assert [f.status for f in again.files] == ["duplicate"] * len(files) + ["failed"]
    assert pipe.journal.outbox.last_id() == outbox_before and not pipe.journal.dirty()


def test_strava_folder_and_zip_attach_name_rpe_and_note(tmp_path, cfg):
    files = _sources()
    root = strava_folder(tmp_path, files)
    pipe = Pipeline(cfg)
    report = pipe.ingest([root])
    assert [f.status for f in report.files] == ["ingested"] * (len(files) + 1)
    assert report.files[-1].message == "Strava activities.csv: 4 activities, 4 session(s) updated"
    rows = {pipe.journal.source(r.source_id)["path"]: r for r in pipe.journal.session_rows()}
    first = rows[str(root / "activities/1000.fit.gz")]
    assert (first.summary["name"], first.summary["note"], first.rpe) == ("Run 0", "note 0", 3)
    assert first.load_method in ("srpe", "trimp", "duration")
    last = rows[str(root / "activities/1003.gpx")]
    assert last.rpe == 6 and last.summary["activity_type"] == "Run"
    batches = pipe.journal.outbox.last_id()
    pipe.ingest([root])  # nothing changed: no new points, no recompute
    assert pipe.journal.outbox.last_id() == batches and not pipe.journal.dirty()

    # The same export zipped: members are duplicates, the CSV finds their sessions again.
    zipped = tmp_path / "strava.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        for f in sorted(root.rglob("*")):
            if f.is_file():
                z.write(f, f.relative_to(root).as_posix())
    other = Pipeline(load_config(home=tmp_path / "zip"))
    other.ingest([zipped])
    zrows = sorted((r.id, r.rpe, r.summary["name"]) for r in other.journal.session_rows())
    assert zrows == sorted((r.id, r.rpe, r.summary["name"]) for r in rows.values())


def test_gz_files_and_a_bad_gz(tmp_path, cfg):
    fit = _sources()[0]
    gz = tmp_path / "swim.fit.gz"
    gz.write_bytes(gzip.compress(fit.read_bytes()))
    bad = tmp_path / "bad.tcx.gz"
    bad.write_bytes(b"\x1f\x8b not really gzip")
    results = Pipeline(cfg).ingest([gz, bad]).files
    assert [r.status for r in results] == ["ingested", "failed"]
    assert results[1].line().startswith(f"{bad}: ") and "gzip" in results[1].message
    again = Pipeline(cfg).ingest([fit]).files[0]
    assert again.status == "duplicate"  # the same bytes as the gunzipped file


@pytest.mark.parametrize("content", [b"PK\x03\x04 truncated", b"plain text"])
def test_unreadable_zip_is_one_line(tmp_path, cfg, content):
    z = tmp_path / "export.zip"
    z.write_bytes(content)
    (r,) = Pipeline(cfg).ingest([z]).files
    assert r.status == "failed" and "not a readable zip" in r.line() and "\n" not in r.line()
