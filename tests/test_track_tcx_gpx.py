"""TCX/GPX readers: GPSBabel's real files against the reference libraries, and crafted cases."""

from __future__ import annotations

from pathlib import Path

import gpxpy
import gpxpy.geo
import numpy as np
import pandas as pd
import pytest
from tcxreader.tcxreader import TCXReader

from drivers.track import TrackActivity, TrackError, haversine_m, read_gpx, read_tcx, read_track
from tests.shared import shared_dir

TCX_NS = 'xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"'
AX_NS = 'xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2"'
GPX11 = 'version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1"'
TPX2 = 'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v2"'


def _files() -> list[Path]:
    d = shared_dir("tcx-gpx")
    return sorted(p for p in d.rglob("*") if p.suffix.lower() in (".tcx", ".gpx"))


def _read(path: Path) -> list[TrackActivity]:
    return read_track(path.read_bytes(), path.suffix)


def _oracle_stats(times: list, hr: list) -> tuple[int, float, float]:
    """(points, duration_s, HR mean) under our documented rules: one point per timestamp
    (last non-missing value wins), HR 0 and ≥ 255 are no-reading sentinels."""
    s = pd.Series(hr, index=pd.to_datetime(times, utc=True), dtype=float)
    s = s[s.index.notna()]
    s = s.where((s > 0) & (s < 255)).groupby(level=0).last()
    return len(s), (s.index[-1] - s.index[0]).total_seconds(), float(s.mean())


def _ours(act: TrackActivity) -> tuple[int, float, float]:
    r = act.records
    hr = float(r["hr_bpm"].mean()) if "hr_bpm" in r else float("nan")
    return len(r), (r.index[-1] - r.index[0]).total_seconds(), hr


# --- the shared corpus -------------------------------------------------------------------


def test_every_shared_file_parses_or_fails_in_one_line() -> None:
    files = _files()
    assert len(files) >= 6
    parsed = 0
    for path in files:
        try:
            acts = _read(path)
        except TrackError as exc:
            assert "\n" not in str(exc) and str(exc), path
            continue
        parsed += 1
        for act in acts:
            idx = act.records.index
            assert str(idx.dtype) == "datetime64[ns, UTC]" and idx.name == "time"
            assert idx.is_monotonic_increasing and idx.is_unique
            assert act.start == idx[0]
            assert act.sport in {"running", "cycling", "walking", "hiking", "swimming", "generic"}
    assert parsed == len(files)  # every GPSBabel sample holds a recorded activity


def test_gpx_agrees_with_gpxpy() -> None:
    for path in [p for p in _files() if p.suffix == ".gpx"]:
        doc = gpxpy.parse(path.read_text(encoding="utf-8"))
        ours = _read(path)
        timed = [t for t in doc.tracks if any(p.time for s in t.segments for p in s.points)]
        assert len(ours) == len(timed), path
        for trk, act in zip(timed, ours, strict=True):
            pts = [p for s in trk.segments for p in s.points if p.time]
            hr = [_gpxpy_hr(p) for p in pts]
            n, dur, hr_mean = _oracle_stats([p.time for p in pts], hr)
            got = _ours(act)
            assert got[:2] == (n, pytest.approx(dur)), path
            assert got[2] == pytest.approx(hr_mean, nan_ok=True), path
            # gpxpy's own haversine (equatorial radius: 0.1 % apart) over the timed points.
            hav = gpxpy.geo.haversine_distance
            length = sum(
                hav(a.latitude, a.longitude, b.latitude, b.longitude)
                for a, b in zip(pts, pts[1:], strict=False)
            )
            assert act.records["distance_m"].iloc[-1] == pytest.approx(length, rel=2e-3), path


def _gpxpy_hr(point: gpxpy.gpx.GPXTrackPoint) -> float:
    for ext in point.extensions:
        for el in ext.iter():
            if isinstance(el.tag, str) and el.tag.rpartition("}")[2] == "hr":
                return float(el.text)
    return float("nan")


def test_tcx_agrees_with_tcxreader(tmp_path: Path) -> None:
    for path in [p for p in _files() if p.suffix == ".tcx"]:
        ex = TCXReader().read(str(path), only_gps=False)
        (act,) = _read(path)
        tps = [tp for tp in ex.trackpoints if tp.time is not None]
        hr = [np.nan if tp.hr_value is None else tp.hr_value for tp in tps]
        n, dur, hr_mean = _oracle_stats([tp.time for tp in tps], hr)
        got = _ours(act)
        assert got[:2] == (n, pytest.approx(dur)), path
        assert got[2] == pytest.approx(hr_mean, nan_ok=True), path
        assert (
            act.sport
            == {"Running": "running", "Biking": "cycling", "Other": "generic"}[ex.activity_type]
        )
        if "power_w" in act.records:
            assert act.records["power_w"].mean() == pytest.approx(ex.tpx_ext_stats["Watts"]["avg"])
        assert act.laps["distance_m"].sum() == pytest.approx(ex.distance)


def test_gtrnctr_sentinels_and_duplicates_are_reported() -> None:
    (act,) = read_tcx((shared_dir("tcx-gpx") / "GPSBabel__gpsbabel/gtrnctr-lap_s.tcx").read_bytes())
    # A Forerunner 110 without a strap: every HR is 255, every lap's MaxRunCadence 254.
    assert "hr_bpm" not in act.records
    assert any("hr_bpm values left out" in w for w in act.warnings)
    assert any("3 points with a repeated timestamp merged" in w for w in act.warnings)
    assert len(act.laps) == 14 and act.device == "Garmin Forerunner 110"
    assert act.laps["start"].is_monotonic_increasing


# --- crafted TCX ----------------------------------------------------------------------------


def _tcx(activities: str, ns: str = AX_NS) -> bytes:
    return (
        f'<?xml version="1.0"?><TrainingCenterDatabase {TCX_NS} {ns}><Activities>'
        f"{activities}</Activities></TrainingCenterDatabase>"
    ).encode()


def _tp(t: str, extra: str = "", lat: float = 48.0) -> str:
    return (
        f"<Trackpoint><Time>{t}</Time><Position><LatitudeDegrees>{lat}</LatitudeDegrees>"
        f"<LongitudeDegrees>2.0</LongitudeDegrees></Position>{extra}</Trackpoint>"
    )


def _run(points: str, sport: str = "Running") -> str:
    return (
        f'<Activity Sport="{sport}"><Id>2024-01-05T07:00:00Z</Id>'
        f'<Lap StartTime="2024-01-05T07:00:00Z"><TotalTimeSeconds>2</TotalTimeSeconds>'
        f"<DistanceMeters>10</DistanceMeters><Track>{points}</Track>"
        "<Extensions><ns3:LX><ns3:AvgRunCadence>85</ns3:AvgRunCadence></ns3:LX></Extensions>"
        "</Lap><Creator><Name>Forerunner 965</Name></Creator></Activity>"
    )


def test_tcx_run_cadence_power_and_namespaces() -> None:
    ext = (
        "<HeartRateBpm><Value>150</Value></HeartRateBpm><Extensions><ns3:TPX>"
        "<ns3:Speed>3.2</ns3:Speed><ns3:RunCadence>86</ns3:RunCadence><ns3:Watts>250</ns3:Watts>"
        "</ns3:TPX></Extensions>"
    )
    pts = _tp("2024-01-05T07:00:00Z", ext) + _tp("2024-01-05T08:00:01+01:00", ext, 48.0001)
    (act,) = read_tcx(_tcx(_run(pts)))
    r = act.records
    assert act.sport == "running" and act.device == "Forerunner 965"
    assert act.activity_id == "2024-01-05T07:00:00Z"
    assert list(r["cadence_spm"]) == [172.0, 172.0]  # RunCadence is strides/min
    assert list(r["power_w"]) == [250.0, 250.0] and list(r["speed_mps"]) == [3.2, 3.2]
    assert r.index[1] == pd.Timestamp("2024-01-05T07:00:01Z")  # offset folded into UTC
    assert r["distance_m"].iloc[1] == pytest.approx(11.12, abs=0.01)  # haversine, 0.0001°
    assert act.laps["cadence_avg_spm"].iloc[0] == 170.0
    # Same document with the extension in the default namespace of each TPX element.
    ax = '"http://www.garmin.com/xmlschemas/ActivityExtension/v2"'
    doc = _tcx(_run(_tp("2024-01-05T07:00:00Z", ext)), ns="").decode()
    doc = doc.replace("<ns3:TPX>", f"<TPX xmlns={ax}>").replace("<ns3:LX>", f"<LX xmlns={ax}>")
    (again,) = read_tcx(doc.replace("ns3:", "").encode())
    assert again.records["cadence_spm"].iloc[0] == 172.0


def test_tcx_biking_cadence_is_rpm_and_activities_split() -> None:
    bike = _run(_tp("2024-01-05T07:00:00Z", "<Cadence>90</Cadence>"), sport="Biking")
    run = _run(_tp("2024-01-05T09:00:00Z", "<Cadence>88</Cadence>"))
    acts = read_tcx(_tcx(bike + run))
    assert [a.sport for a in acts] == ["cycling", "running"]
    assert acts[0].records["cadence_rpm"].iloc[0] == 90.0 and "cadence_spm" not in acts[0].records
    assert acts[1].records["cadence_spm"].iloc[0] == 176.0


def test_tcx_duplicate_timestamps_merge_last_non_missing() -> None:
    pts = (
        _tp("2024-01-05T07:00:00Z", "<HeartRateBpm><Value>140</Value></HeartRateBpm>")
        + _tp("2024-01-05T07:00:00Z", "<AltitudeMeters>31</AltitudeMeters>", 48.0002)
        + _tp("2024-01-05T07:00:01Z", "<HeartRateBpm><Value>141</Value></HeartRateBpm>")
    )
    (act,) = read_tcx(_tcx(_run(pts)))
    r = act.records
    assert len(r) == 2
    assert r["hr_bpm"].iloc[0] == 140 and r["altitude_m"].iloc[0] == 31
    assert r["lat_deg"].iloc[0] == 48.0002
    assert any(w.startswith("1 points with a repeated timestamp") for w in act.warnings)


def test_tcx_course_and_bad_xml_raise_one_line() -> None:
    course = (
        f"<TrainingCenterDatabase {TCX_NS}><Courses><Course><Name>Loop</Name><Track>"
        f"{_tp('2024-01-05T07:00:00Z')}</Track></Course></Courses></TrainingCenterDatabase>"
    ).encode()
    cases = {
        course: "no activity: TCX holds courses only",
        _tcx(_run(_tp("2024-01-05T07:00:00Z")))[:-60]: "corrupt XML:",
        b"\x00\x01garbage": "corrupt XML:",
        b"": "corrupt XML: empty",
        _tcx(_run("<Trackpoint><HeartRateBpm><Value>1</Value></HeartRateBpm></Trackpoint>")): (
            "no activity: no <Activity> has a trackpoint with a time"
        ),
        b'<gpx xmlns="http://www.topografix.com/GPX/1/1"/>': "not a TCX file",
    }
    for data, start in cases.items():
        with pytest.raises(TrackError) as exc:
            read_tcx(data)
        assert str(exc.value).startswith(start) and "\n" not in str(exc.value)


# --- crafted GPX ----------------------------------------------------------------------------


def _gpx(body: str, head: str = GPX11, ns: str = TPX2) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?><gpx {head} {ns}>{body}</gpx>'.encode()


def test_gpx_tpx_v2_running_cadence_speed_and_type() -> None:
    pt = (
        '<trkpt lat="{lat}" lon="0"><ele>5</ele><time>{t}</time><extensions>'
        "<gpxtpx:TrackPointExtension><gpxtpx:hr>150</gpxtpx:hr><gpxtpx:cad>87</gpxtpx:cad>"
        "<gpxtpx:speed>3.5</gpxtpx:speed></gpxtpx:TrackPointExtension><power>240</power>"
        "</extensions></trkpt>"
    )
    pts = pt.format(lat=0, t="2024-01-05T07:00:00Z") + pt.format(lat=1, t="2024-01-05T07:00:10Z")
    (act,) = read_gpx(
        _gpx(f"<trk><name>Morning Run</name><type>9</type><trkseg>{pts}</trkseg></trk>")
    )
    r = act.records
    assert act.sport == "running" and act.activity_id == "Morning Run" and act.device == "test"
    assert list(r["cadence_spm"]) == [174.0, 174.0] and list(r["hr_bpm"]) == [150.0, 150.0]
    assert list(r["speed_mps"]) == [3.5, 3.5] and list(r["power_w"]) == [240.0, 240.0]
    # One degree of latitude on the mean-radius sphere: 2πR/360.
    assert r["distance_m"].iloc[1] == pytest.approx(2 * np.pi * 6_371_008.8 / 360)
    assert act.laps.empty


def test_gpx10_speed_and_derived_speed() -> None:
    head = 'version="1.0" creator="old" xmlns="http://www.topografix.com/GPX/1/0"'
    pts = (
        '<trkpt lat="0" lon="0"><time>2024-01-05T07:00:00Z</time><speed>2.5</speed></trkpt>'
        '<trkpt lat="0" lon="0.001"><time>2024-01-05T07:00:40Z</time><speed>2.7</speed></trkpt>'
    )
    (act,) = read_gpx(_gpx(f"<trk><trkseg>{pts}</trkseg></trk>", head=head, ns=""))
    assert list(act.records["speed_mps"]) == [2.5, 2.7]
    assert act.activity_id == "2024-01-05T07:00:00+00:00" and act.sport == "generic"
    no_speed = pts.replace("<speed>2.5</speed>", "").replace("<speed>2.7</speed>", "")
    (act,) = read_gpx(_gpx(f"<trk><trkseg>{no_speed}</trkseg></trk>", head=head, ns=""))
    step = haversine_m(np.array([0.0]), np.array([0.0]), np.array([0.0]), np.array([0.001]))[0]
    assert act.records["speed_mps"].iloc[1] == pytest.approx(step / 40)


def test_gpx_latin1_declared_encoding() -> None:
    body = '<trk><name>Côte</name><trkseg><trkpt lat="1" lon="1"><time>2024-01-05T07:00:00Z</time></trkpt></trkseg></trk>'
    data = f'<?xml version="1.0" encoding="ISO-8859-1"?><gpx {GPX11}>{body}</gpx>'.encode("latin-1")
    (act,) = read_gpx(data)
    assert act.activity_id == "Côte"


def test_gpx_without_activity_or_bad_raise_one_line() -> None:
    route = '<rte><rtept lat="1" lon="1"/><rtept lat="1.1" lon="1"/></rte>'
    untimed = '<trk><trkseg><trkpt lat="1" lon="1"/><trkpt lat="2" lon="1"/></trkseg></trk>'
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
        f"<gpx {GPX11}><trk><name>&b;</name></trk></gpx>"
    ).encode()
    cases = {
        _gpx(route): "no activity: GPX holds routes only",
        _gpx(untimed): "no activity: GPX track points have no times",
        _gpx('<wpt lat="1" lon="1"/>'): "no activity: GPX holds waypoints only",
        _gpx(untimed)[:-20]: "corrupt XML:",
        bomb: "refused: XML declares entities",
        _tcx(_run(_tp("2024-01-05T07:00:00Z"))): "not a GPX file",
        _gpx(
            '<trk><trkseg><trkpt lat="x" lon="1"><time>2024-01-05T07:00:00Z</time></trkpt></trkseg></trk>'
        ): ("unreadable GPX:"),
    }
    for data, start in cases.items():
        with pytest.raises(TrackError) as exc:
            read_gpx(data)
        assert str(exc.value).startswith(start), str(exc.value)
        assert "\n" not in str(exc.value)


def test_read_track_sniffs_the_format() -> None:
    gpx = _gpx(
        '<trk><trkseg><trkpt lat="1" lon="1"><time>2024-01-05T07:00:00Z</time></trkpt></trkseg></trk>'
    )
    assert read_track(gpx)[0].records["lat_deg"].iloc[0] == 1.0
    assert read_track(_tcx(_run(_tp("2024-01-05T07:00:00Z"))))[0].sport == "running"
