"""The PostgreSQL journal's writers' lock, narrowed (sensorhub/store/backends.py docstring).

Transactions of one athlete (:func:`athlete_scope`, what a worker's job runs in) write beside
other athletes' ones; the same athlete's, and every unscoped writer, still run alone; outbox
ids still follow commit order, so a relay never sees a newer batch of a series committed
while an older one is invisible. A real PostgreSQL server (tests/pg.py).
"""

from __future__ import annotations

import threading
import time
from contextlib import nullcontext

import pytest

from sensorhub.store import Journal
from sensorhub.store.backends import athlete_scope

HOLD_S = 1.5  # how long the first transaction stays open


def _lines(n: int, tag: str) -> list[str]:
    return [f"run,athlete={tag} v={i} {1_700_000_000_000 + i}" for i in range(n)]


@pytest.fixture
def url(postgres) -> str:
    return postgres.new_database()


def _hold(url: str, athlete: str | None, measurement: str, opened, events) -> None:
    """A transaction that queues 3 batches of series ``s``, then stays open ``HOLD_S``."""
    j = Journal(url)
    try:
        with athlete_scope(athlete) if athlete else nullcontext(), j.transaction():
            j.outbox.enqueue(measurement, _lines(3, measurement), 1, series="s")
            opened.set()
            time.sleep(HOLD_S)
            # the server releases the lock at COMMIT, possibly before this thread records
            # its commit: the moment it starts committing is what the second must wait for
            events.append(("committing", measurement, time.monotonic()))
        events.append(("commit", measurement, time.monotonic()))
    finally:
        j.close()


def _second(url: str, athlete: str | None, measurement: str, events) -> None:
    j = Journal(url)
    try:
        with athlete_scope(athlete) if athlete else nullcontext(), j.transaction():
            events.append(("in", measurement, time.monotonic()))
            j.outbox.enqueue(measurement, _lines(3, measurement), 1, series="s")
        events.append(("commit", measurement, time.monotonic()))
    finally:
        j.close()


def _race(url: str, first: str | None, second: str | None) -> tuple[list, list[str]]:
    """``first``'s transaction opens and holds; ``second``'s runs meanwhile. The events and
    the outbox's measurements in id order."""
    events: list = []
    opened = threading.Event()
    t = threading.Thread(target=_hold, args=(url, first, "m1", opened, events))
    t.start()
    assert opened.wait(30)
    _second(url, second, "m2", events)
    t.join(30)
    j = Journal(url)
    try:
        order = [r[0] for r in j.db.execute("SELECT measurement FROM outbox ORDER BY id")]
    finally:
        j.close()
    return events, order


def test_two_athletes_write_at_once_and_outbox_ids_follow_commit_order(url):
    events, order = _race(url, "x", "y")
    commits = [e[1] for e in events if e[0] == "commit"]
    assert commits == ["m2", "m1"], events  # y did not wait for x's open transaction
    assert order == ["m2"] * 3 + ["m1"] * 3  # ids in commit order, not in insert order


@pytest.mark.parametrize(("first", "second"), [("x", "x"), ("x", None), (None, "x"), (None, None)])
def test_the_same_athlete_and_unscoped_writers_still_run_alone(url, first, second):
    events, order = _race(url, first, second)
    commit1 = next(e[2] for e in events if e[:2] == ("committing", "m1"))
    entered2 = next(e[2] for e in events if e[:2] == ("in", "m2"))
    assert entered2 >= commit1, events  # the second began only once the first committed
    assert order == ["m1"] * 3 + ["m2"] * 3
