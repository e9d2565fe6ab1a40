"""One activity, one session: the same run stored twice (re-saves, chained files, truncated
copies) gives one session and its load once, in the journal and in InfluxDB."""

from __future__ import annotations

from pathlib import Path

import pytest

from sensorhub.config import InfluxConfig, load_config
from sensorhub.pipeline import Pipeline
from sensorhub.store import InfluxWriter
from sensorhub.store.lineprotocol import INFLUXQL_MARK
from tests.fitbuild import write_run
from tests.shared import shared_dir

GC = "GoldenCheetah__GoldenCheetah"
MUK = "muktihari__fit"


def ship(influxd, db: str, journal) -> None:
    """Ship the outbox with the real writer: line protocol to /write, ``#influxql`` deletes
    to /query, in outbox order (docs/schema.md, "Corrections")."""
    report = InfluxWriter(InfluxConfig(url=influxd.url, database=db)).flush(journal)
    assert report.ok and report.left_batches == 0, report.errors
    assert not any(b.body.startswith(INFLUXQL_MARK) for b in journal.outbox.batches())


def _count(influxd, db: str, measurement: str, where: str = "") -> int:
    series = influxd.query(db, f'SELECT COUNT(*) FROM "{measurement}" {where}')
    return max((v for s in series for v in s["values"][0][1:] if v is not None), default=0)


def _ingest_one_by_one(cfg, files: list[Path]) -> Pipeline:
    pipe = Pipeline(cfg)
    for f in files:
        pipe.ingest([f])
    return pipe


@pytest.mark.parametrize(
    "names,kept",
    [
        ([f"{GC}/Fr955v19.28andStryd-saved.fit", f"{GC}/Fr955v19.28andStryd.fit"], 1),
        ([f"{GC}/Fr955v19.28andStryd.fit", f"{GC}/Fr955v19.28andStryd-saved.fit"], 0),
        ([f"{GC}/3386684871-saved.fit", f"{GC}/3386684871.fit"], 1),  # saved: 2 h off
        ([f"{GC}/3386684871.fit", f"{GC}/3386684871-saved.fit"], 0),
    ],
)
def test_resaved_copy_is_one_session_keeping_the_watch_file(
    names, kept, cfg, influxd, db_name
) -> None:
    files = [shared_dir("fit", n) for n in names]
    pipe = _ingest_one_by_one(cfg, files)
    rows = pipe.journal.session_rows()
    assert len(rows) == 1
    solo = Pipeline(load_config(home=cfg.home.parent / "solo2"))
    solo.ingest([files[kept]])
    (ref,) = solo.journal.session_rows()
    assert (rows[0].id, rows[0].start, rows[0].load) == (ref.id, ref.start, ref.load)
    assert pipe.journal.duplicates() == {ref.id: [str(files[1 - kept])]}
    daily = pipe.journal.daily_load("default")["daily_load"]
    assert daily.sum() == pytest.approx(ref.load)
    ship(influxd, db_name, pipe.journal)
    assert _count(influxd, db_name, "session") == 1
    assert _count(influxd, db_name, "run", "WHERE time > 0") == ref.summary["records"]
    again = pipe.ingest([files[1 - kept]]).files[0]
    assert again.status == "duplicate"


def test_chained_fit_counts_the_swim_once(cfg, influxd, db_name) -> None:
    swim, sup, chained = (
        shared_dir("fit", MUK, n)
        for n in ("activity_poolswim.fit", "Activity.fit", "chained_Activity_activity_poolswim.fit")
    )
    pipe = _ingest_one_by_one(cfg, [swim, sup, chained])
    rows = pipe.journal.session_rows()
    assert sorted(r.sport for r in rows) == ["stand_up_paddleboarding", "swimming"]
    swim_row = next(r for r in rows if r.sport == "swimming")
    assert swim_row.summary["records"] == 841  # the chained file's richer copy (HR, GPS)
    day = pipe.journal.daily_load("default")["daily_load"]
    assert day.max() == pytest.approx(sum(r.load for r in rows))
    assert round(day.max()) == 74  # was 88 with the swim counted twice
    ship(influxd, db_name, pipe.journal)
    assert _count(influxd, db_name, "session") == 2
    where = "WHERE sport='swimming'"
    assert _count(influxd, db_name, "run", where) == 841


def test_complete_file_replaces_a_truncated_copy(tmp_path, cfg, influxd, db_name) -> None:
    full = write_run(tmp_path / "run.fit", list(range(720)))
    cut = tmp_path / "cut.fit"
    cut.write_bytes(full.read_bytes()[: int(full.stat().st_size * 0.22)])
    pipe = Pipeline(cfg)
    first = pipe.ingest([cut]).files[0]
    assert first.partial
    ship(influxd, db_name, pipe.journal)
    result = pipe.ingest([full]).files[0]
    assert result.status == "ingested" and "replaces" in result.message
    (row,) = pipe.journal.session_rows()
    assert row.duration_s == pytest.approx(719) and not row.partial
    assert pipe.journal.daily_load("default")["daily_load"].sum() == pytest.approx(row.load)
    ship(influxd, db_name, pipe.journal)
    assert _count(influxd, db_name, "run") == 720
    assert _count(influxd, db_name, "session") == 1
    assert influxd.query(db_name, 'SELECT "partial" FROM "session"')[0]["values"][0][1] is False
    assert pipe.ingest([cut]).files[0].status == "duplicate"


def test_other_runs_of_the_day_stay_apart(tmp_path, cfg) -> None:
    t0 = 1_767_000_000_000
    a = write_run(tmp_path / "a.fit", list(range(300)), t0_ms=t0)
    b = write_run(tmp_path / "b.fit", list(range(300)), t0_ms=t0 + 3_600_000, hr=120)
    c = write_run(tmp_path / "c.fit", list(range(300)), t0_ms=t0 + 7_200_000, serial=99)
    pipe = Pipeline(cfg, athlete="ana")
    results = pipe.ingest([a, b, c]).files
    # b: an hour later, other HR: another run. c: a's trace exactly 2 h later: a shifted copy.
    assert [r.status for r in results] == ["ingested", "ingested", "duplicate"]
    assert results[2].message == f"duplicate of {results[0].session_ids[0]}"
    assert len(pipe.journal.session_rows()) == 2
    other = Pipeline(cfg, athlete="ben").ingest([tmp_path / "a.fit"]).files[0]
    assert other.status == "duplicate"  # same bytes: already ingested, whoever it is for
