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


def test_the_numpy_span_of_a_stored_body_is_the_span_of_its_lines():
    """``pack_spanned`` reads the times from the joined text (the outbox's hot path); any
    line it cannot read that way goes to :func:`span`: both answers are always equal."""
    import random

    from sensorhub.store.outbox import pack_spanned, span, unpack

    rng = random.Random(7)
    kinds = [
        lambda t: f"run,athlete=a hr_bpm={rng.random():.3f} {t}",
        lambda t: f'run,athlete=a\\ b s="x {rng.randint(0, 99)}" {t}',
        lambda t: f"run,athlete=a v=1 {t // 1000}",  # fewer digits
        lambda t: "run,athlete=a v=2",  # no time
        lambda t: f"run,athlete=a v=3 -{t}",  # before 1970
        lambda t: f'#influxql DELETE FROM "run" WHERE time <= {t}',
        lambda t: f'run,athlete=a s="one\\ntwo" {t}',  # an escaped newline: still one line
    ]
    for _ in range(300):
        n = rng.randint(1, 40)
        weights = [50, 10, rng.choice([0, 1]), rng.choice([0, 1]), rng.choice([0, 1])]
        weights += [rng.choice([0, 1]), 5]
        lines = [
            rng.choices(kinds, weights)[0](1_700_000_000_000 + rng.randint(0, 10**9))
            for _ in range(n)
        ]
        body, lo, hi = pack_spanned(lines)
        assert unpack(body, "gzip") == "\n".join(lines)
        assert (lo, hi) == span(lines), lines
