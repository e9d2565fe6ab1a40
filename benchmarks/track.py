"""TCX/GPX reading speed: drivers.track vs tcxreader and python-tcxparser (TCX), gpxpy alone (GPX).

Usage: ``.venv/bin/python benchmarks/track.py [--reps N]`` (files from ../shared/tcx-gpx).
Each reader is timed as the best of ``--reps`` runs on the same bytes, in the same process.
What each does differs, so the numbers say what it costs to get the data out, not a race:

* ``drivers.track.read_tcx``: parse, every trackpoint into the SI frame (dedup, derived
  speed), laps;
* ``tcxreader``: parse to a list of TCXTrackPoint objects plus its summary stats;
* ``tcxparser``: objectify tree, then the HR, time and position lists (what it offers per
  point; they are not aligned when a point lacks a field);
* GPX: ``read_gpx`` against ``gpxpy.parse`` alone (the part of read_gpx that is gpxpy).

Ratios are against ``read_tcx`` / ``gpxpy.parse`` of the same run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import gpxpy  # noqa: E402
import tcxparser  # noqa: E402
from tcxreader.tcxreader import TCXReader  # noqa: E402

from drivers.track import read_gpx, read_tcx  # noqa: E402

DATA = ROOT.parent / "shared" / "tcx-gpx" / "GPSBabel__gpsbabel"
TCX_FILES = ["gtrnctr-lap_s.tcx", "history.tcx"]
GPX_FILES = ["garminconnect.gpx", "fitwrite-track.gpx"]


def best(fn: Callable[[], object], reps: int) -> float:
    """Best wall time of ``reps`` calls, seconds."""
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _tcxparser(path: Path) -> None:
    p = tcxparser.TCXParser(str(path))
    p.hr_values(), p.time_values(), p.position_values()


def synthetic_tcx(n: int) -> bytes:
    """A TCX run of ``n`` 1 Hz points with position, HR and the TPX extension (3 h ≈ 10 800)."""
    t0 = 1_700_000_000
    pts = []
    for i in range(n):
        t = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0 + i))
        pts.append(
            f"<Trackpoint><Time>{t}</Time><Position><LatitudeDegrees>{48 + i * 1e-5:.7f}"
            f"</LatitudeDegrees><LongitudeDegrees>{2 + i * 1e-5:.7f}</LongitudeDegrees>"
            f"</Position><AltitudeMeters>35.2</AltitudeMeters><DistanceMeters>{i * 3.1:.1f}"
            f"</DistanceMeters><HeartRateBpm><Value>{140 + i % 20}</Value></HeartRateBpm>"
            "<Extensions><ns3:TPX><ns3:Speed>3.1</ns3:Speed><ns3:RunCadence>86</ns3:RunCadence>"
            "</ns3:TPX></Extensions></Trackpoint>"
        )
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<TrainingCenterDatabase '
        'xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2" '
        'xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2"><Activities>'
        f'<Activity Sport="Running"><Id>{start}</Id><Lap StartTime="{start}">'
        f"<TotalTimeSeconds>{n}</TotalTimeSeconds><DistanceMeters>{n * 3.1}</DistanceMeters>"
        f"<Calories>0</Calories><Intensity>Active</Intensity><TriggerMethod>Manual"
        f"</TriggerMethod><Track>{''.join(pts)}</Track></Lap></Activity></Activities>"
        "</TrainingCenterDatabase>"
    ).encode()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name in TCX_FILES + ["synthetic-3h-run.tcx"]:
            if name.startswith("synthetic"):
                data = synthetic_tcx(10_800)
            else:
                data = (DATA / name).read_bytes()
            path = Path(tmp) / name  # both libraries want a path
            path.write_bytes(data)
            n = sum(len(a.records) for a in read_tcx(data))
            ours = best(lambda d=data: read_tcx(d), args.reps)
            rows = {
                "drivers.track.read_tcx": ours,
                "tcxreader": best(
                    lambda p=path: TCXReader().read(str(p), only_gps=False), args.reps
                ),
                "python-tcxparser": best(lambda p=path: _tcxparser(p), args.reps),
            }
            print(f"{name} ({len(data) / 1e3:.0f} kB, {n} points)")
            for label, t in rows.items():
                print(f"  {label:24s} {t * 1e3:8.1f} ms  {t / ours:5.2f}× read_tcx")
    for name in GPX_FILES:
        data = (DATA / name).read_bytes()
        base = best(lambda d=data: gpxpy.parse(d.decode()), args.reps)
        ours = best(lambda d=data: read_gpx(d), args.reps)
        print(f"{name} ({len(data) / 1e3:.0f} kB)")
        print(f"  {'gpxpy.parse':24s} {base * 1e3:8.1f} ms")
        print(f"  {'drivers.track.read_gpx':24s} {ours * 1e3:8.1f} ms  {ours / base:5.2f}× gpxpy")


if __name__ == "__main__":
    main()
