"""The points written to InfluxDB stay the same while the ingest path is made faster.

Ten files (six of different kinds from ../shared/fit, four demo fixtures) are ingested into a
fresh journal; every line the outbox holds is parsed into points (measurement, tags, fields,
timestamp) and each (series, field) is reduced to a count and a SHA-256 of its
(timestamp, value) pairs. ``tests/data/output_reference.json`` holds the same digest made by
the code of commit 0012ee1, before the speed work. Values are compared as parsed numbers, so
``1.0`` and ``1`` (both floats in line protocol) are the same point; strings and booleans as text.

Regenerate (only when the written output is meant to change):
``PYTHONPATH=<checkout> .venv/bin/python tests/test_output_identical.py --write``
"""

from __future__ import annotations

import hashlib
import json
import struct
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "data" / "output_reference.json"
NOW = pd.Timestamp("2026-11-20T12:00:00Z")
SHARED_FILES = (
    "3schweinehunde__fit_parser/with_stryd.fit",  # running, Stryd developer fields
    "dtcooper__python-fitparse/developer-types-sample.fit",  # running, developer types
    "GoldenCheetah__GoldenCheetah/FR55-CoreTemp-Walk.fit",  # walking, CIQ fields
    "alex-hhh__ActivityLog2/920xt-triathlon.fit",  # multisport: several sessions
    "GoldenCheetah__GoldenCheetah/GarminHRMswim.FIT",  # pool swim
    "sports-alliance__sports-lib/inverted-times.fit",  # timestamps going backwards
)
#: ``session`` fields written since the reference was made (left out of its comparison)
NEW_SESSION_FIELDS = ("start_ms", "end_ms")
FIXTURE_FILES = (
    "ana/2026-09-08-0722.fit",
    "ana/2026-09-10-0737.fit",
    "ben/2026-09-07-1812.fit",
    "cara/2026-10-19-0733.fit",
)


# -- parsing line protocol -----------------------------------------------------------------
def _split(text: str, sep: str, quotes: bool = False) -> list[str]:
    """Split at unescaped ``sep`` (outside double quotes when ``quotes``); escapes are kept."""
    out, cur, i, inside = [], [], 0, False
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            cur.append(text[i : i + 2])
            i += 2
            continue
        if quotes and c == '"':
            inside = not inside
        if c == sep and not inside:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    out.append("".join(cur))
    return out


def _unescape(s: str) -> str:
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            out.append({"n": "\n"}.get(s[i + 1], s[i + 1]))
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def parse_line(line: str) -> tuple[str, tuple, dict[str, object], int]:
    """``(measurement, ((tag, value), ...), {field: float | str | bool}, timestamp)``."""
    key, fields, stamp = _split(line, " ", quotes=True)
    head, *tags = _split(key, ",")
    values: dict[str, object] = {}
    for part in _split(fields, ",", quotes=True):
        name, raw = _split(part, "=", quotes=True)
        if raw.startswith('"'):
            values[_unescape(name)] = _unescape(raw[1:-1])
        elif raw in ("true", "false"):
            values[_unescape(name)] = raw == "true"
        else:
            assert not raw.endswith(("i", "u")), f"integer field in {line!r}"
            values[_unescape(name)] = float(raw)
    pairs = tuple(tuple(_unescape(x) for x in _split(t, "=")) for t in tags)
    return _unescape(head), pairs, values, int(stamp)


def digest(lines: list[str]) -> dict[str, dict]:
    """``{series: {"points": n, "fields": {field: [count, sha256]}}}`` of these lines."""
    cols: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    points: dict[str, list[int]] = defaultdict(list)
    for line in lines:
        m, tags, fields, t = parse_line(line)
        series = ",".join([m] + [f"{k}={v}" for k, v in tags])
        points[series].append(t)
        for name, v in fields.items():
            cols[series][name].append((t, v))
    out = {}
    for series, stamps in sorted(points.items()):
        fields = {}
        for name, pairs in sorted(cols[series].items()):
            h = hashlib.sha256()
            for t, v in sorted(pairs, key=lambda p: (p[0], repr(p[1]))):
                h.update(struct.pack("<q", t))
                h.update(struct.pack("<d", v) if isinstance(v, float) else repr(v).encode())
            fields[name] = [len(pairs), h.hexdigest()[:16]]
        out[series] = {"points": len(stamps), "stamps": _sha(sorted(stamps)), "fields": fields}
    return out


def _sha(stamps: list[int]) -> str:
    return hashlib.sha256(struct.pack(f"<{len(stamps)}q", *stamps)).hexdigest()[:16]


# -- what the ingest path writes ---------------------------------------------------------------
def written_lines(paths: list[Path], home: Path) -> list[str]:
    """Every line the outbox holds after ingesting ``paths`` (InfluxDB not configured)."""
    from sensorhub.config import load_config
    from sensorhub.pipeline import Pipeline

    cfg = load_config(ROOT / "fixtures" / "sensorhub.toml", home)
    pipe = Pipeline(cfg, now=NOW)
    report = pipe.ingest(paths)
    assert not report.failed, [f.line() for f in report.failed]
    lines = [ln for b in pipe.journal.outbox.batches() for ln in b.body.split("\n") if ln]
    pipe.journal.close()
    return lines


def inputs(shared: Path) -> list[Path]:
    return [shared / f for f in SHARED_FILES] + [
        ROOT / "fixtures" / "fit" / f for f in FIXTURE_FILES
    ]


def test_written_points_equal_the_reference(tmp_path: Path) -> None:
    from tests.shared import shared_dir

    got = digest(written_lines(inputs(shared_dir("fit")), tmp_path))
    want = json.loads(REFERENCE.read_text())
    assert sorted(got) == sorted(want), "series differ"
    for series in want:
        assert got[series]["points"] == want[series]["points"], series
        assert got[series]["stamps"] == want[series]["stamps"], series
        fields = dict(got[series]["fields"])
        if series.startswith("session,"):
            # added after the reference (issue 15, the Run board's session variables): the
            # session's span in ms, the same instants as the point's time and its end
            for name in NEW_SESSION_FIELDS:
                assert name in fields, (series, name)
                del fields[name]
        assert fields == want[series]["fields"], series


def test_digest_tells_values_apart() -> None:
    """The digest sees a changed value, a changed timestamp and a float written differently."""
    base = digest(["run,athlete=a hr=150.0,s=3.25 1000", "run,athlete=a hr=151.0 2000"])
    assert digest(["run,athlete=a hr=150,s=3.25 1000", "run,athlete=a hr=151 2000"]) == base
    assert digest(["run,athlete=a hr=150.0,s=3.26 1000", "run,athlete=a hr=151.0 2000"]) != base
    assert digest(["run,athlete=a hr=150.0,s=3.25 1001", "run,athlete=a hr=151.0 2000"]) != base
    assert parse_line('s,a=x\\ y f="q \\"z\\", w",b=true 5') == (
        "s",
        (("a", "x y"),),
        {"f": 'q "z", w', "b": True},
        5,
    )


# -- stored compressed, shipped the same ---------------------------------------------------------
def test_gzip_and_old_plain_batches_read_and_ship_the_same(influx_cfg, influxd, db_name) -> None:
    """A batch stored before compression (plain text) and gzip batches read back as the same
    text and land in InfluxDB, sent plain and sent as gzip."""
    from sensorhub.store import InfluxWriter, Journal

    journal = Journal(influx_cfg.journal_path)
    lines = [
        f'run,athlete=a hr_bpm={100 + i}.0,note="x y" {1767225600000 + i * 1000}' for i in range(30)
    ]
    journal.db.execute(
        "INSERT INTO outbox (created_at, measurement, n_points, body, series, encoding)"
        " VALUES ('2026-01-01', 'run', 10, ?, 'run', 'identity')",
        ("\n".join(lines[:10]),),
    )
    journal.outbox.enqueue("run", lines[10:], 10)
    stored = [journal.outbox.raw_body(b.id) for b in journal.outbox.batches()]
    assert [enc for _, enc in stored] == ["identity", "gzip", "gzip"]
    assert stored[0][0] == "\n".join(lines[:10]).encode()
    assert [ln for b in journal.outbox.batches() for ln in b.body.split("\n")] == lines
    assert journal.outbox.body(2) == "\n".join(lines[10:20])

    plain = InfluxWriter(influx_cfg.influx)
    assert plain.flush(journal, max_batches=2).sent_points == 20
    zipped = InfluxWriter(influx_cfg.influx)
    zipped.send_gzip = True
    report = zipped.flush(journal)
    assert report.ok and report.sent_points == 10 and report.requests == 1
    assert influxd.count(db_name, "run", "hr_bpm") == 30
    rows = influxd.query(db_name, "SELECT hr_bpm, note FROM run WHERE hr_bpm = 125")
    assert [v[1:] for r in rows for v in r["values"]] == [[125.0, "x y"]]
    journal.close()


def test_background_delivery_ships_while_files_are_stored(influx_cfg, influxd, db_name) -> None:
    """``Delivery.start()`` ships committed batches from its own thread and connection while
    the pipeline stores more; after ``stop()`` and the final ship InfluxDB holds every point."""
    import time

    from sensorhub.pipeline import Pipeline

    pipe = Pipeline(influx_cfg, now=NOW)
    assert pipe.delivery.start() and not pipe.delivery.start()  # one thread only
    files = [ROOT / "fixtures" / "fit" / f for f in FIXTURE_FILES[:3]]
    stored = [pipe.ingest_file(f).points for f in files]
    end = time.monotonic() + 60
    while pipe.journal.outbox.stats()["batches"] and time.monotonic() < end:
        time.sleep(0.05)  # waits for the thread to empty the outbox, not a timing assertion
    shipped = pipe.delivery.stop()
    assert pipe.journal.outbox.stats()["batches"] == 0 and shipped.points == sum(stored)
    pipe.recompute.pending()
    report = pipe.delivery.ship().influx
    assert report is not None and report.ok
    assert influxd.count(db_name, "session", "duration_s") == 3
    assert influxd.count(db_name, "run", "hr_bpm") == sum(stored) - 3  # every run point has HR
    pipe.journal.close()


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: tests/test_output_identical.py --write")
    with tempfile.TemporaryDirectory() as d:
        ref = digest(written_lines(inputs(ROOT.parent / "shared" / "fit"), Path(d)))
    REFERENCE.parent.mkdir(exist_ok=True)
    REFERENCE.write_text(json.dumps(ref, indent=0, sort_keys=True) + "\n")
    print(f"{REFERENCE}: {len(ref)} series, {sum(s['points'] for s in ref.values())} points")
