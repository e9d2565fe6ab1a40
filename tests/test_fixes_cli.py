"""Fixing mistakes from the command line: delete, reassign, reprocess, athletes; athlete
ids are case-normalised with a warning."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from sensorhub.cli import app
from sensorhub.config import load_config
from sensorhub.pipeline import Pipeline
from sensorhub.store import Journal
from tests.fitbuild import write_run
from tests.test_dedup import ship

T0 = 1_767_000_000_000


def _run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def two_runs(tmp_path, home):
    a = write_run(tmp_path / "a.fit", list(range(300)), t0_ms=T0)
    b = write_run(tmp_path / "b.fit", list(range(300)), t0_ms=T0 + 86_400_000, hr=140)
    assert _run("ingest", str(a), str(b), "--athlete", "Ana").exit_code == 0
    return home


def test_athlete_ids_are_lower_case_everywhere(two_runs):
    cfg = load_config(home=two_runs)
    journal = Journal(cfg.journal_path)
    assert {r.athlete for r in journal.session_rows()} == {"ana"}
    res = _run("athletes")
    assert res.exit_code == 0 and "ana" in res.output and " 2 " in res.output
    res = _run("sessions", "--athlete", "ANA")
    assert "taken as 'ana'" in res.output or "taken as 'ana'" in (res.stderr or "")


def test_delete_removes_the_session_its_load_and_its_points(two_runs, influxd, db_name):
    cfg = load_config(home=two_runs)
    journal = Journal(cfg.journal_path)
    first, second = journal.session_rows()
    res = _run("sessions", "delete", first.id[:6])
    assert res.exit_code == 0 and f"{first.id}: deleted" in res.output
    journal = Journal(cfg.journal_path)
    assert [r.id for r in journal.session_rows()] == [second.id]
    daily = journal.daily_load("ana")["daily_load"]
    assert daily.sum() == pytest.approx(second.load)
    ship(influxd, db_name, journal)  # the writes, then the deletes, in outbox order
    assert influxd.count(db_name, "session", "load") == 1
    assert influxd.count(db_name, "run", "hr_bpm") == 300
    assert _run("sessions", "delete", "zzzz").exit_code == 2


def test_deleting_the_last_session_deletes_the_load_days_after_it(two_runs, influxd, db_name):
    """The daily table ends 42 rest days after the last session: deleting the last session
    shortens it, and InfluxDB loses the days the journal no longer has (they once stayed
    there with the old numbers)."""
    cfg = load_config(home=two_runs)
    journal = Journal(cfg.journal_path)
    ship(influxd, db_name, journal)
    before = len(journal.daily_load("ana"))
    assert influxd.count(db_name, "load", "daily_load") == before
    _, last = journal.session_rows()
    assert _run("sessions", "delete", last.id).exit_code == 0
    journal = Journal(cfg.journal_path)
    table = journal.daily_load("ana")
    assert len(table) == before - 1  # one session day earlier, the same 42-day tail
    ship(influxd, db_name, journal)
    assert influxd.count(db_name, "load", "daily_load") == len(table)
    (series,) = influxd.query(db_name, 'SELECT LAST("daily_load") FROM "load"')
    last_day = table.index.max().tz_localize(cfg.athlete("ana").tz).tz_convert("UTC")
    assert series["values"][0][0] == int(last_day.value // 1_000_000)


def test_reassign_moves_points_and_load(two_runs, influxd, db_name):
    cfg = load_config(home=two_runs)
    first, _ = Journal(cfg.journal_path).session_rows()
    res = _run("sessions", "reassign", first.id, "--athlete", "Ben")
    assert res.exit_code == 0 and "ana -> ben" in res.output
    journal = Journal(cfg.journal_path)
    assert [a for a, *_ in journal.athlete_counts()] == ["ana", "ben"]
    assert journal.daily_load("ben")["daily_load"].sum() == pytest.approx(first.load)
    ship(influxd, db_name, journal)
    where = "WHERE athlete='ben'"
    assert influxd.count(db_name, "run", "hr_bpm", where) == 300
    assert influxd.count(db_name, "run", "hr_bpm", "WHERE athlete='ana'") == 300


def test_reprocess_after_new_hr_limits_recomputes_trimp(two_runs, tmp_path):
    cfg = load_config(home=two_runs)
    before = Journal(cfg.journal_path).session_rows()
    assert {r.load_method for r in before} == {"duration"}  # no HR limits known yet
    conf = tmp_path / "c.toml"
    conf.write_text('[[athletes]]\nid = "ana"\nhr_rest = 50\nhr_max = 190\n')
    res = _run("--config", str(conf), "reprocess", "--athlete", "ana")
    assert res.exit_code == 0 and "2 session(s) changed" in res.output
    pipe = Pipeline(load_config(conf, two_runs))
    after = pipe.journal.session_rows()
    assert {r.load_method for r in after} == {"trimp"} and all(r.trimp > 0 for r in after)
    assert pipe.journal.daily_load("ana")["daily_load"].sum() == pytest.approx(
        sum(r.load for r in after)
    )
    assert "0 session(s) changed" in _run("--config", str(conf), "reprocess").output


def test_a_load_number_that_became_nan_is_not_left_in_influxdb(two_runs, influxd, db_name):
    """Deleting the first session shortens the history: on some days acute, chronic,
    monotony or strain have no value any more. Line protocol cannot write "no value" and
    InfluxDB keeps a point's other fields, so those days' points kept the old numbers; they
    are now deleted and rewritten."""
    cfg = load_config(home=two_runs)
    journal = Journal(cfg.journal_path)
    ship(influxd, db_name, journal)
    old = journal.daily_load("ana")
    first, _ = journal.session_rows()
    assert _run("sessions", "delete", first.id).exit_code == 0
    journal = Journal(cfg.journal_path)
    table = journal.daily_load("ana")
    cols = ["acute", "chronic", "monotony", "strain"]
    gone = table[cols].isna() & old.reindex(table.index)[cols].notna()
    days = table.index[gone.any(axis=1)]
    assert len(days) >= 1  # the case this test is about happens with this history
    ship(influxd, db_name, journal)
    tz = cfg.athlete("ana").tz
    for day in days:
        t_ns = day.tz_localize(tz).tz_convert("UTC").value
        fields = ", ".join(f'"{c}"' for c in ["daily_load", *cols])
        (series,) = influxd.query(db_name, f'SELECT {fields} FROM "load" WHERE time = {t_ns}')
        (row,) = series["values"]
        assert row[1] == pytest.approx(table.loc[day, "daily_load"])
        for col, value in zip(cols, row[2:], strict=True):
            if gone.loc[day, col]:
                assert value is None, f"{day:%Y-%m-%d} {col} still {value} in InfluxDB"
    assert influxd.count(db_name, "load", "daily_load") == len(table)
