"""The outbox table itself: an old journal's outbox is migrated in place."""

from __future__ import annotations

import sqlite3

from sensorhub.store import Journal

OLD = """
CREATE TABLE outbox (id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, measurement TEXT NOT NULL,
    n_points INTEGER NOT NULL, body TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT);
INSERT INTO outbox VALUES (1, '2026-03-01', 'load', 1, 'load,athlete=a daily_load=1 1', 2, 'x');
"""


def test_a_journal_from_before_series_and_states_keeps_its_batches(tmp_path):
    path = tmp_path / "journal.sqlite"
    sqlite3.connect(path).executescript(OLD)
    j = Journal(path)
    (slot,) = j.outbox.slots()
    assert (slot.series, slot.state, slot.attempts) == ("load", "queued", 2)
    assert j.outbox.stats()["batches"] == 1 and j.outbox.body(1).startswith("load,athlete=a")
    j.outbox.enqueue("run", ["run,athlete=a hr_bpm=1 1"], 10, series="run|a")
    assert [s.series for s in j.outbox.slots()] == ["load", "run|a"]
    j.close()


def test_a_batch_knows_the_times_of_its_points():
    """The scheduler lets batches of one series pass each other only on disjoint times:
    a batch's range is its smallest and largest point time; unknown when a line is an
    InfluxQL statement or has no time (the server's clock would set it)."""
    from sensorhub.store.outbox import span

    assert span(["run,athlete=a v=1 1700000000005", 'run,athlete=a s="x 9" 1700000000001']) == (
        1700000000001,
        1700000000005,
    )
    assert span(["run,athlete=a v=1 17", "run,athlete=a v=2"]) == (None, None)
    assert span(['run,athlete=a s="x 12"']) == (None, None)
    assert span(['#influxql DELETE FROM "run" WHERE time >= 1 AND time <= 9']) == (None, None)
    assert span(["m v=1 999", "m v=2 1000", "m v=3 -5"]) == (None, None)  # before 1970
    assert span(["m v=1 999", "m v=2 1000"]) == (999, 1000)  # not text order
