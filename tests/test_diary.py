"""The symptom diary and plan state in a real journal, and check-ins stored as a source."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from sensorhub.plans import Checkin, PlanEvent, PlanState
from sensorhub.recorder import Recorder
from sensorhub.sources.checkin import checkin_source, checkin_values
from sensorhub.store import Journal

DAY = dt.date(2026, 11, 3)


@pytest.fixture
def journal(cfg):
    j = Journal(cfg.journal_path)
    yield j
    j.close()


def rating(pain: float = 3, when: str = "next-morning", **kw) -> Checkin:
    return Checkin(day=kw.pop("day", DAY), when=when, site="achilles", side="L", pain=pain, **kw)


def test_add_list_edit_delete_and_one_row_per_slot(journal):
    d = journal.diary
    with journal.transaction():
        a, replaced_a = d.add_checkin("cara", checkin_values(rating(3, stiffness=4)))
        b, _ = d.add_checkin("cara", checkin_values(rating(1, when="after")))
        again, replaced = d.add_checkin("cara", checkin_values(rating(2, note="better")))
    assert (replaced_a, again, replaced) == (False, a, True)  # same slot: the later rating wins
    rows = d.checkins("cara")
    assert [(r.id, r.when, r.pain, r.note) for r in rows] == [
        (a, "next-morning", 2.0, "better"),
        (b, "after", 1.0, None),
    ]
    with journal.transaction():
        edited = d.edit_checkin(b, checkin_values(rating(5, when="during")))
    assert (edited.when, edited.pain) == ("during", 5.0)
    with pytest.raises(ValueError, match=f"check-in {a} already rates next-morning"):
        d.edit_checkin(b, checkin_values(rating(5)))
    with journal.transaction():
        gone = d.delete_checkin(a)
    assert gone.pain == 2.0 and [r.id for r in d.checkins()] == [b]
    with pytest.raises(KeyError):
        d.delete_checkin(a)
    frame = d.checkins_frame("cara")
    assert list(frame.columns) == [
        "id",
        "day",
        "when",
        "site",
        "side",
        "pain",
        "stiffness",
        "note",
        "session_id",
    ]
    assert d.checkins_frame("nobody").empty


def test_plan_state_round_trip_and_audit_log(journal):
    d = journal.diary
    state = PlanState("cara", "achilles-silbernagel", dt.date(2026, 10, 19))
    with journal.transaction():
        d.set_plan_state("cara", state.to_dict(), "achilles-silbernagel")
        d.add_plan_event("cara", "start", "2026-10-19", detail="achilles-silbernagel")
    ev = PlanEvent(
        dt.date(2026, 11, 1), "advance", by="J. Ortiz (physio)", why="hop test in clinic"
    )
    with journal.transaction():
        d.set_plan_state("cara", state.with_event(ev).to_dict())  # keeps the stored plan
        d.add_plan_event("cara", "advance", "2026-11-01", by=ev.by, why=ev.why)
    row = d.plan_state("cara")
    assert PlanState.from_dict(row["state"]) == state.with_event(ev)
    assert row["plan_source"] == "achilles-silbernagel" and row["plan_toml"] is None
    assert [(e["kind"], e["by"]) for e in d.plan_events("cara")] == [
        ("start", None),
        ("advance", "J. Ortiz (physio)"),
    ]
    assert d.plan_athletes() == ["cara"] and d.plan_state("ana") is None
    with pytest.raises(KeyError, match="no plan started"):
        d.set_plan_state("ana", state.to_dict())


def test_a_checkin_source_stores_row_point_and_mark_in_one_transaction(cfg, journal):
    c = rating(4, stiffness=3, note="stiff on the stairs")
    src = checkin_source("cara", c, tz="Europe/London")
    res = Recorder(cfg, journal).record(src)
    assert res.status == "stored" and res.points == 1
    (row,) = journal.diary.checkins("cara")
    assert (row.pain, row.stiffness, row.note, row.source_id) == (4.0, 3.0, c.note, 1)
    assert journal.dirty()["cara"][0] == "2026-11-03"
    (batch,) = [b for b in journal.outbox.batches() if b.measurement == "symptom"]
    noon_london = pd.Timestamp("2026-11-03 12:00", tz="Europe/London")
    assert batch.body == (
        "symptom,athlete=cara,side=L,site=achilles,when=next-morning "
        f"pain=4.0,stiffness=3.0,deleted=0.0,checkin_id={float(row.id)} "
        f"{noon_london.value // 1_000_000}"
    )
    assert Recorder(cfg, journal).record(src).status == "duplicate"
    # imported rows: the same origin and values are the same source
    imp = checkin_source("cara", c, origin="cara.csv:5")
    assert Recorder(cfg, journal).record(imp).status == "stored"
    assert Recorder(cfg, journal).record(checkin_source("cara", c, origin="cara.csv:5")).status == (
        "duplicate"
    )
    assert len(journal.diary.checkins("cara")) == 1  # same slot, one row


def test_session_start_is_the_point_time_and_part_of_the_slot(cfg, journal):
    start = pd.Timestamp("2026-11-02 07:36", tz="UTC")
    with_session = rating(2, when="after", day=dt.date(2026, 11, 2), session_id="abc123")
    without = rating(2, when="after", day=dt.date(2026, 11, 2))
    Recorder(cfg, journal).record(checkin_source("cara", with_session, session_start=start))
    Recorder(cfg, journal).record(checkin_source("cara", without))
    assert len(journal.diary.checkins("cara")) == 2
    times = sorted(int(b.body.rsplit(" ", 1)[1]) for b in journal.outbox.batches())
    noon_utc = pd.Timestamp("2026-11-02 12:00", tz="UTC")
    assert times == [start.value // 1_000_000, noon_utc.value // 1_000_000]
