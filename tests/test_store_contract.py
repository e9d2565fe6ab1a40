"""One contract for the journal, run against both backends: SQLite (a file in tmp) and a real
PostgreSQL (tests/pg.py, a fresh database per test).

What the rest of sensorhub relies on: dedup of sources by sha256 and FIT file_id, sessions
(replace, prefix lookup, update, delete, reassign), the daily table's round trip, the dirty
marks' "clear only if unchanged", counters, the outbox (order per series, ack, park,
backoff, claims by several relays), alerts and their webhook queue, the symptom diary,
readiness results, transactions that roll back whole — and the same ingest of real FIT files
giving the same sessions and daily load on both.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sensorhub.cli import app
from sensorhub.config import load_config
from sensorhub.pipeline import Pipeline
from sensorhub.recompute import Recompute
from sensorhub.store import ConflictError, Journal, SessionRow, StoreError, open_journal
from sensorhub.store.journal import AmbiguousSession
from sensorhub.store.outbox import PARKED, QUEUED, Backoff, new_holder
from tests.shared import shared_dir

from .pg import PASSWORD

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def where(request: pytest.FixtureRequest, tmp_path) -> str:
    """The journal's location on one backend (a fresh, empty journal)."""
    if request.param == "sqlite":
        return str(tmp_path / "journal.sqlite")
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture
def j(where: str) -> Journal:
    journal = Journal(where)
    yield journal
    journal.close()


def _source(j: Journal, sha: str, file_id: str | None = None, **extra) -> int:
    row = dict(
        path=f"/data/{sha}.fit",
        sha256=sha,
        fit_file_id=file_id,
        kind="fit",
        athlete="ann",
        ingested_at="2024-05-01T00:00:00+00:00",
        n_sessions=1,
        n_records=10,
        partial=0,
        message=None,
    )
    return j.add_source(**{**row, **extra})


def _session(sid: str, source_id: int, start: str, athlete: str = "ann", **kw) -> SessionRow:
    t = pd.Timestamp(start, tz="UTC")
    return SessionRow(
        id=sid,
        athlete=athlete,
        sport="running",
        start=t,
        end=t + pd.Timedelta(minutes=45),
        day=t.strftime("%Y-%m-%d"),
        source_id=source_id,
        duration_s=2700.0,
        distance_m=8123.4567891234,
        trimp=61.25,
        load=61.25,
        load_method="trimp",
        summary={"records": 2700, "hr_mean_bpm": 141.5},
        **kw,
    )


# -- sources and sessions ------------------------------------------------------------------
def test_sources_dedup_by_sha_and_file_id(j: Journal) -> None:
    with j.transaction():
        a = _source(j, "aa" * 32, "fid-1")
        _source(j, "bb" * 32, None, partial=1)
    assert j.source_by_sha("aa" * 32)["id"] == a
    assert j.source_by_file_id("fid-1")["sha256"] == "aa" * 32
    assert dict(j.source(a))["path"] == f"/data/{'aa' * 32}.fit"
    assert j.source_by_sha("cc" * 32) is None
    assert j.source_counts() == (2, 1)
    for dup in ({"sha": "aa" * 32, "file_id": None}, {"sha": "dd" * 32, "file_id": "fid-1"}):
        with pytest.raises(ConflictError), j.transaction():
            j.bump("would_be_rolled_back")
            _source(j, dup["sha"], dup["file_id"])
    assert j.source_counts() == (2, 1)
    assert j.counters() == {}  # the whole transaction rolled back


def test_sessions_add_replace_find_update_delete_reassign(j: Journal) -> None:
    with j.transaction():
        src = _source(j, "aa" * 32, n_sessions=2)
        j.add_session(_session("abcd1234", src, "2024-05-02T06:00:00"))
        j.add_session(_session("abcd9999", src, "2024-05-01T06:00:00"))
    rows = j.session_rows("ann")
    assert [r.id for r in rows] == ["abcd9999", "abcd1234"]  # oldest first
    assert rows[1].end == pd.Timestamp("2024-05-02T06:45:00", tz="UTC")
    assert rows[1].distance_m == 8123.4567891234  # doubles, not 4-byte floats
    assert rows[1].summary == {"records": 2700, "hr_mean_bpm": 141.5}
    replaced = _session("abcd1234", src, "2024-05-02T06:00:00", rpe=6.0)
    replaced.trimp = 70.0
    j.add_session(replaced)
    assert j.session("abcd1234").trimp == 70.0 and j.session_count() == 2
    with pytest.raises(AmbiguousSession):
        j.find_session("abcd")  # two match
    with pytest.raises(AmbiguousSession):
        j.find_session("abc")  # too short
    with pytest.raises(AmbiguousSession):
        j.find_session("abc%")  # % is not a wildcard
    assert j.find_session("ABCD12").id == "abcd1234"
    j.update_session("abcd1234", rpe=7.0, summary={"note": "windy"})
    got = j.session("abcd1234")
    assert (got.rpe, got.summary) == (7.0, {"note": "windy"})
    near = j.sessions_near("ann", got.start, got.end, slack_h=1)
    assert [s.id for s, _ in near] == ["abcd1234"] and near[0][1]["sha256"] == "aa" * 32
    j.mark_duplicate(src, ["zzzz0001"])
    j.mark_duplicate(src, ["zzzz0002", "zzzz0001"])
    assert j.duplicates() == {
        "zzzz0001": [f"/data/{'aa' * 32}.fit"],
        "zzzz0002": [f"/data/{'aa' * 32}.fit"],
    }
    j.reassign_session("abcd9999", "bob", "2024-04-30")
    assert [(r.id, r.day) for r in j.session_rows("bob")] == [("abcd9999", "2024-04-30")]
    assert j.athletes() == ["ann", "bob"]
    assert j.athlete_counts() == [
        ("ann", 1, "2024-05-02", "2024-05-02"),
        ("bob", 1, "2024-04-30", "2024-04-30"),
    ]
    j.delete_session("abcd9999")
    assert j.session("abcd9999") is None
    assert j.source(src)["n_sessions"] == 1
    table = j.session_table("ann")
    assert table["start"].dt.tz is not None and table.loc[0, "note"] == "windy"
    assert [r.id for r in j.sessions_of_source(src)] == ["abcd1234"]


def test_daily_load_round_trip(j: Journal) -> None:
    days = pd.to_datetime(["2024-05-01", "2024-05-02", "2024-05-03"])
    table = pd.DataFrame(
        {
            "daily_load": [61.25, 0.0, np.nan],
            "acwr": [np.nan, 1.1234567890123, 0.9],
            "acwr_status": ["warming_up", "ok", "ok"],
        },
        index=days,
    )
    with j.transaction():
        j.replace_daily_load("ann", table)
        j.replace_daily_load("ann", table)  # replaces, no duplicate keys
    got = j.daily_load("ann")
    assert list(got.index) == list(days) and got.index.name == "day"
    assert got["daily_load"].tolist()[:2] == [61.25, 0.0] and np.isnan(got["daily_load"].iloc[2])
    assert got["acwr"].iloc[1] == 1.1234567890123
    assert got["acwr_status"].tolist() == ["warming_up", "ok", "ok"]
    assert j.daily_load("nobody").empty


def test_dirty_marks_keep_the_earliest_day_and_clear_only_if_unchanged(j: Journal) -> None:
    j.mark_dirty("ann", "2024-05-03")
    j.mark_dirty("ann", "2024-05-01")
    j.mark_dirty("ann", "2024-05-02")
    assert j.dirty() == {"ann": ("2024-05-01", 3)}
    since, marks = j.dirty()["ann"]
    j.mark_dirty("ann", "2024-05-04")  # marked again after it was read
    j.clear_dirty("ann", marks)
    assert j.dirty() == {"ann": ("2024-05-01", 4)}
    j.clear_dirty("ann", 4)
    assert j.dirty() == {}
    # cleared by another process meanwhile (its recompute may have read newer sessions):
    # this late, possibly older result leaves the athlete marked for one more recompute
    j.clear_dirty("ann", 4)
    assert j.dirty() == {"ann": ("0001-01-01", 1)}


def test_counters_and_device_hr(j: Journal) -> None:
    j.bump("files")
    j.bump("files", 41)
    j.bump("points", 3_000_000_000)  # beyond 32 bits
    assert j.counters() == {"files": 42, "points": 3_000_000_000}
    j.set_device_hr("ann", 50.0, 190.0, "f")
    j.set_device_hr("ann", None, 188.0, None)  # what a later file did not say is kept
    assert j.device_hr("ann") == (50.0, 188.0, "f")
    assert j.device_hr("bob") == (None, None, None)


# -- the outbox ----------------------------------------------------------------------------
def _lines(n: int, tag: str) -> list[str]:
    return [f"run,athlete={tag} hr={i}i {1_700_000_000_000 + i}" for i in range(n)]


def test_outbox_order_ack_park_backoff(j: Journal) -> None:
    ob = j.outbox
    with j.transaction():
        assert ob.enqueue("run", _lines(5, "ann"), batch_points=2, series="run|ann") == 3
        assert ob.enqueue("load", _lines(1, "ann"), batch_points=2) == 1
    batches = ob.batches()
    assert [(b.series, b.n_points) for b in batches] == [
        ("run|ann", 2),
        ("run|ann", 2),
        ("run|ann", 1),
        ("load", 1),
    ]
    assert batches[0].body == "\n".join(_lines(2, "ann"))
    body, enc = ob.raw_body(batches[0].id)
    assert enc == "gzip" and isinstance(body, bytes)
    mark = ob.last_id()
    assert ob.waiting_upto(mark) == 4
    ob.ack(batches[0].id)
    ob.failed(batches[1].id, "400 http://u:pw@x/?p=pw bad", next_attempt_at=50.0)
    ob.failed(batches[1].id, "400 again", next_attempt_at=20.0)  # the later "not before" wins
    slot = next(s for s in ob.slots() if s.id == batches[1].id)
    assert (slot.attempts, slot.next_attempt_at) == (2, 50.0)
    ob.failed(batches[1].id, "400 refused", park=True)
    st = ob.stats()
    assert (st["batches"], st["parked"], st["points"]) == (3, 1, 4)
    assert "pw" not in str(st) and st["parked_last_error"] == "400 refused"
    ob.ack(batches[2].id, keep=True)  # newer than a parked batch of its series: kept
    assert [s.state for s in ob.slots((QUEUED, PARKED, "kept"))] == [PARKED, "kept", QUEUED]
    assert ob.release_kept("run|ann") == 0  # the parked batch still needs it
    assert ob.discard_parked("run|ann") == 1
    assert ob.stats()["kept"] == 0 and ob.waiting_upto(mark) == 1
    ob.set_backoff("http://influx", Backoff(2, 123.5, "overloaded", None, "503 token=abc"))
    ob.set_backoff("http://influx", Backoff(3, 124.5, "overloaded", None, "503 again"))
    assert ob.backoff("http://influx") == Backoff(3, 124.5, "overloaded", None, "503 again")
    ob.clear_backoff("http://influx")
    assert ob.backoff("http://influx") is None


def test_claim_gives_series_heads_in_order(j: Journal) -> None:
    ob = j.outbox
    ob.enqueue("run", _lines(6, "ann"), batch_points=2, series="run|ann")
    ob.enqueue("run", _lines(2, "bob"), batch_points=1, series="run|bob")
    ob.enqueue("load", _lines(1, "ann"), batch_points=5)
    sent: list[tuple[str, int]] = []
    while True:
        with ob.claim(new_holder(), limit=10, per_series=2, now=100.0) as got:
            if not got:
                break
            for b in got:
                sent.append((b.series, b.id))
                ob.ack(b.id)
    assert len(sent) == 6
    for series in ("run|ann", "run|bob", "load"):
        ids = [i for s, i in sent if s == series]
        assert ids == sorted(ids)
    # a head not yet due holds back its whole series; a parked one does not
    ob.enqueue("run", _lines(4, "cat"), batch_points=1, series="run|cat")
    ob.enqueue("run", _lines(2, "dan"), batch_points=1, series="run|dan")
    cat = [b.id for b in ob.batches() if b.series == "run|cat"]
    dan = [b.id for b in ob.batches() if b.series == "run|dan"]
    ob.failed(cat[0], "400", next_attempt_at=500.0)
    ob.failed(dan[0], "400", park=True)
    with ob.claim(new_holder(), limit=10, now=100.0) as got:
        assert [b.id for b in got] == [dan[1]]
    with ob.claim(new_holder(), limit=10, now=600.0) as got:
        assert [b.id for b in got] == [cat[0], dan[1]]


def test_claims_of_two_relays(where: str) -> None:
    """Two relays claiming at once get disjoint batches and never two batches of one series
    at once (PostgreSQL: row locks; SQLite: the second waits for the shipping lease)."""
    a, b = Journal(where), Journal(where)
    for s in range(4):
        a.outbox.enqueue("run", _lines(3, f"a{s}"), batch_points=1, series=f"run|a{s}")
    with a.outbox.claim("relay-a", limit=2, per_series=2, now=100.0) as first:
        with b.outbox.claim("relay-b", limit=10, per_series=2, now=100.0) as second:
            held = {x.series for x in first}
            assert len(first) == 4 and len(held) == 2
            assert not held & {x.series for x in second}
            if a.backend == "postgresql":
                assert {x.series for x in second} == {f"run|a{s}" for s in range(4)} - held
            else:
                assert second == []
            for x in second:
                b.outbox.ack(x.id)
        for x in first:
            a.outbox.ack(x.id)
    assert a.outbox.stats()["batches"] == 12 - 4 - (4 if a.backend == "postgresql" else 0)
    a.close()
    b.close()


def test_relays_racing_keep_per_series_order(where: str) -> None:
    """Three relays draining 5 series concurrently: every batch acknowledged once, each
    series' batches in id order."""
    setup = Journal(where)
    for s in range(5):
        setup.outbox.enqueue("run", _lines(12, f"s{s}"), batch_points=1, series=f"run|s{s}")
    setup.close()
    acked: list[tuple[str, int]] = []
    guard = threading.Lock()

    def relay(name: str) -> None:
        j = Journal(where)
        idle = 0
        while idle < 20:
            with j.outbox.claim(name, limit=2, per_series=2, now=time.time()) as got:
                for x in got:
                    j.outbox.ack(x.id)
                    with guard:
                        acked.append((x.series, x.id))
                time.sleep(0.002)  # the send
            idle = 0 if got else idle + 1
            if not got:
                time.sleep(0.005)
        j.close()

    threads = [threading.Thread(target=relay, args=(f"r{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(acked) == 60 and len({i for _, i in acked}) == 60
    for s in range(5):
        ids = [i for series, i in acked if series == f"run|s{s}"]
        assert ids == sorted(ids) and len(ids) == 12


def test_shipping_lease_is_exclusive(j: Journal, where: str) -> None:
    other = Journal(where)
    assert j.outbox.take_lease("host-x:1:a", 30)
    assert not other.outbox.take_lease("host-x:2:b", 30)  # another host: trust the expiry
    j.outbox.release_lease("host-x:1:a")
    assert other.outbox.take_lease("host-x:2:b", 30)
    other.close()


# -- alerts, diary, readiness ---------------------------------------------------------------
def test_alerts_and_webhook_queue(j: Journal) -> None:
    t = pd.Timestamp("2024-05-03T00:00:00", tz="UTC")
    al = j.alerts
    with j.transaction():
        aid = al.add(
            "ann",
            {
                "rule": "acwr_high",
                "severity": "warn",
                "opened_at": t,
                "value": 1.61,
                "threshold": 1.5,
                "peak": 1.61,
                "message": "ACWR 1.61",
            },
        )
    assert al.open_alert("ann", "acwr_high")["id"] == aid
    with pytest.raises(ConflictError), j.transaction():
        al.add(
            "ann",
            {
                "rule": "acwr_high",
                "severity": "warn",
                "opened_at": t,
                "message": "the same alert twice",
            },
        )
    al.update_peak(aid, 1.72)
    al.update(aid, message="ACWR 1.72", ref="s1")
    al.clear(aid, t + pd.Timedelta(days=2), 1.2)
    assert al.open_alert("ann", "acwr_high") is None
    got = dict(al.get(aid))
    assert (got["peak"], got["message"], got["cleared_value"]) == (1.72, "ACWR 1.72", 1.2)
    assert len(al.of_rule("ann", "acwr_high")) == 1
    assert al.frame("ann")["rule"].tolist() == ["acwr_high"] and al.frame(open_only=True).empty
    w1 = al.queue_webhook(aid, '{"a": 1}', t)
    w2 = al.queue_webhook(aid, '{"a": 2}', t)
    assert [w.id for w in al.due_webhooks(t, 5)] == [w1, w2]
    al.webhook_failed(w1, "503", t + pd.Timedelta(minutes=5))
    al.postpone_webhooks([w2], t + pd.Timedelta(minutes=1))
    assert al.due_webhooks(t, 5) == []
    assert [w.id for w in al.due_webhooks(t + pd.Timedelta(minutes=10), 5)] == [w1, w2]
    al.webhook_sent(w2)
    st = al.webhook_stats()
    assert (st["waiting"], st["max_attempts"], st["last_error"]) == (1, 1, "503")
    assert j.counters()["webhook_sent"] == 1
    al.delete(aid)
    assert al.get(aid) is None and al.webhook_stats()["waiting"] == 0


def test_diary_checkins_and_plan_state(j: Journal) -> None:
    d = j.diary
    v = {
        "day": "2024-05-03",
        "when": "after",
        "site": "achilles",
        "side": "left",
        "pain": 3.0,
        "stiffness": 1.0,
        "note": None,
        "session_id": None,
    }
    cid, replaced = d.add_checkin("ann", v)
    assert not replaced
    again, replaced = d.add_checkin("ann", {**v, "pain": 4.0})  # same slot, no session
    assert (again, replaced) == (cid, True) and d.checkin(cid).pain == 4.0
    other, _ = d.add_checkin("ann", {**v, "session_id": "abcd1234"})
    assert other != cid
    with pytest.raises(ValueError):
        d.edit_checkin(other, {**v, "session_id": None})  # cid holds that slot
    d.edit_checkin(other, {**v, "session_id": "abcd1234", "pain": 2.0})
    assert d.checkins_frame("ann")["pain"].tolist() == [4.0, 2.0]
    assert d.delete_checkin(cid).pain == 4.0 and [c.id for c in d.checkins()] == [other]
    with pytest.raises(KeyError):
        d.set_plan_state("ann", {"stage": 1})
    d.set_plan_state("ann", {"stage": 1}, plan_source="achilles", plan_toml=None)
    d.set_plan_state("ann", {"stage": 2})
    d.set_plan_state("bob", {"stage": 1}, plan_source="x.toml", plan_toml="[plan]")
    assert d.plan_state("ann")["state"] == {"stage": 2}
    assert d.plan_state("ann")["plan_source"] == "achilles"
    assert d.plan_athletes() == ["ann", "bob"]
    d.add_plan_event("ann", "back", "2024-05-04", by="dr. who", why="pain 5")
    (ev,) = d.plan_events("ann")
    assert (ev["by"], ev["why"], ev["kind"]) == ("dr. who", "pain 5", "back")


def test_readiness_results(j: Journal) -> None:
    r = j.readiness
    t = pd.Timestamp("2024-05-03T08:00:00", tz="UTC")
    legs = {"L": {"height_m": 0.21}, "R": {"height_m": 0.25}}
    r.add("ann", "hop", "shank", t, "2024-05-03", legs, {"lsi_height_pct": 84.0}, "L", 2.0)
    r.add("ann", "balance", "sacrum", t + pd.Timedelta(hours=1), "2024-05-03", legs, {})
    res = r.results("ann")
    assert res["kind"].tolist() == ["hop", "balance"]
    assert res["lsi_height_pct"].iloc[0] == 84.0 and np.isnan(res["lsi_height_pct"].iloc[1])
    assert r.rows("ann")[0]["legs"] == legs and r.list()["legs"].iloc[0] == legs


# -- transactions ---------------------------------------------------------------------------
def test_transactions_are_atomic_and_invisible_until_commit(j: Journal, where: str) -> None:
    reader = Journal(where)
    with j.transaction():
        j.bump("files")
        assert reader.counters() == {}  # not committed yet
    assert reader.counters() == {"files": 1}
    with pytest.raises(RuntimeError), j.transaction():
        j.bump("files")
        raise RuntimeError("crash mid-transaction")
    assert reader.counters() == {"files": 1}
    reader.close()


def test_writers_run_one_after_another(where: str) -> None:
    """A second writer waits for the first one's commit (SQLite BEGIN IMMEDIATE; PostgreSQL
    the writers' lock), so it reads what the first one wrote."""
    a = Journal(where)
    order: list[str] = []
    started = threading.Event()

    def second() -> None:
        b = Journal(where)  # SQLite connections stay in their thread
        started.wait()
        with b.transaction():
            order.append(f"b saw {b.counters().get('x', 0)}")
        b.close()

    t = threading.Thread(target=second)
    t.start()
    with a.transaction():
        a.bump("x")
        started.set()
        time.sleep(0.3)
        order.append("a commits")
    t.join(timeout=30)
    assert order == ["a commits", "b saw 1"]
    a.close()


# -- configuration and faults ---------------------------------------------------------------
def test_journal_url_selects_the_backend(home, monkeypatch, postgres) -> None:
    cfg = load_config(home=home)
    assert open_journal(cfg).backend == "sqlite"
    assert (home / "journal.sqlite").exists()
    other = home.parent / "elsewhere" / "j.sqlite"
    monkeypatch.setenv("SENSORHUB_JOURNAL_URL", f"sqlite://{other}")
    open_journal(load_config(home=home)).close()
    assert other.exists()
    monkeypatch.setenv("SENSORHUB_JOURNAL_URL", postgres.new_database())
    j = open_journal(load_config(home=home))
    assert j.backend == "postgresql" and PASSWORD not in str(j.path)
    j.reopen().close()
    j.close()


@pytest.mark.parametrize("fault", ["refused", "wrong password", "no database"])
def test_unreachable_or_refused_postgres_is_one_line_without_the_password(
    fault, home, monkeypatch, postgres
) -> None:
    from .influxd import free_port

    url = {
        "refused": f"postgresql://eva:{PASSWORD}@127.0.0.1:{free_port()}/x",
        "wrong password": postgres.url("postgres").replace(PASSWORD, PASSWORD + "-nope"),
        "no database": postgres.url("no_such_db"),
    }[fault]
    with pytest.raises(StoreError) as err:
        Journal(url)
    text = str(err.value)
    assert "\n" not in text and PASSWORD not in text and "***" in text, text
    monkeypatch.setenv("SENSORHUB_JOURNAL_URL", url)
    result = CliRunner().invoke(app, ["sessions"])
    assert result.exit_code != 0
    assert PASSWORD not in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


@pytest.mark.parametrize("url", ["mysql://eva:s3cret@db/x", "postgresql:/nohost s3cret", "s3cret"])
def test_a_bad_journal_url_is_one_line_without_the_password(url, home, monkeypatch) -> None:
    monkeypatch.setenv("SENSORHUB_JOURNAL_URL", url)
    result = CliRunner().invoke(app, ["sessions"])
    assert result.exit_code == 2
    assert "s3cret" not in result.output and "journal" in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


# -- the whole ingest: same sessions and daily load on both ---------------------------------
def _fit_files() -> list:
    gc = shared_dir("fit", "GoldenCheetah__GoldenCheetah")
    names = [
        "2018-10-03-07-45-28.fit",
        "2018-10-03-08-05-11.fit",
        "2018-10-03-08-23-16.fit",
        "2018-10-03-08-36-06.fit",
        "Move_2020_01_15_19_27_16_Running.fit",
        "FR55-CoreTemp-Walk.fit",
        "10kUNLP2014-Garmin15.fit",
        "20130716_202738.fit",
        "2012_01_11_11_51_01.fit",
        "2012_02_05_09_03_59.fit",
    ]
    return [gc / n for n in names if (gc / n).exists()]


@pytest.mark.shared
def test_pipeline_ingest_is_the_same_on_both_backends(tmp_path, home, postgres) -> None:
    files = _fit_files()
    assert len(files) >= 8
    now = pd.Timestamp("2026-01-01T00:00:00", tz="UTC")
    results = {}
    for backend in BACKENDS:
        cfg = load_config(home=tmp_path / backend)
        where = str(cfg.journal_path) if backend == "sqlite" else postgres.new_database()
        pipe = Pipeline(cfg, journal=Journal(where), now=now)
        report = pipe.ingest(files)
        assert not report.failed, [f.line() for f in report.failed]
        j = pipe.journal
        sessions = [
            (r.id, r.athlete, r.sport, r.start, r.end, r.day, r.load, r.load_method, r.summary)
            for r in j.session_rows()
        ]
        results[backend] = (sessions, {a: j.daily_load(a) for a in j.athletes()}, j.outbox.stats())
    (s_sql, d_sql, o_sql), (s_pg, d_pg, o_pg) = results["sqlite"], results["postgresql"]
    assert len(s_sql) >= 8 and s_sql == s_pg
    assert d_sql.keys() == d_pg.keys()
    for a in d_sql:
        pd.testing.assert_frame_equal(d_sql[a], d_pg[a])
    assert (o_sql["batches"], o_sql["points"]) == (o_pg["batches"], o_pg["points"])


# -- relays: several flushes at once on PostgreSQL ------------------------------------------
def test_two_relays_ship_everything_once_newest_value_last(postgres, influxd, db_name) -> None:
    """Two ``flush`` relays on one PostgreSQL outbox: both ship (no lease to wait for), every
    batch is acknowledged once, and per series the newest value ends in InfluxDB (6 series,
    each written 5 times at the same timestamps, oldest first)."""
    from sensorhub.config import InfluxConfig
    from sensorhub.store import InfluxWriter

    url = postgres.new_database()
    j = Journal(url)
    for version in range(5):
        with j.transaction():
            for s in range(6):
                lines = [
                    f"relay,athlete=a{s} v={version}i,k={k}i {1_700_000_000_000 + k}"
                    for k in range(40)
                ]
                j.outbox.enqueue("relay", lines, batch_points=20, series=f"relay|a{s}")
    assert j.outbox.stats()["batches"] == 60
    reports = []

    def relay() -> None:
        mine = Journal(url)
        writer = InfluxWriter(InfluxConfig(url=influxd.url, database=db_name))
        reports.append(writer.flush(mine))
        mine.close()

    threads = [threading.Thread(target=relay) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(not r.skipped and not r.errors for r in reports), [r.errors for r in reports]
    assert sum(r.sent_batches for r in reports) == 60
    acked = [i for r in reports for i in r.acked_ids]
    assert len(acked) == len(set(acked)) == 60
    assert j.outbox.stats()["batches"] == 0
    rows = influxd.query(db_name, "SELECT COUNT(v), MIN(v), MAX(v) FROM relay GROUP BY athlete")
    assert len(rows) == 6
    for series in rows:
        count, low, high = series["values"][0][1:]
        assert (count, low, high) == (40, 4, 4), series  # the newest version everywhere
    j.close()


@pytest.mark.shared
def test_ingest_into_postgres_ships_to_influxdb(postgres, influx_cfg, influxd, db_name) -> None:
    """Several files into PostgreSQL with InfluxDB configured: the background shipping thread
    opens its own PostgreSQL connection, the flush claims batches, the outbox ends empty."""
    files = _fit_files()[:4]
    pipe = Pipeline(influx_cfg, journal=Journal(postgres.new_database()))
    report = pipe.ingest(files)
    assert not report.failed and report.flush.ok, report.flush.errors
    j = pipe.journal
    assert j.outbox.stats()["batches"] == 0
    rows = influxd.query(db_name, "SELECT COUNT(load) FROM session")
    assert rows[0]["values"][0][1] == j.session_count() >= 3


def test_a_lost_connection_is_a_store_error(postgres) -> None:
    """The server ending the session (restart, failover, idle kill): one line, masked."""
    j = Journal(postgres.new_database())
    j.bump("files")
    postgres.admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        f" WHERE datname = '{str(j.path).rsplit('/', 1)[1]}'"
    )
    for act in (j.counters, lambda: j.transaction().__enter__()):
        with pytest.raises(StoreError) as err:
            act()
        assert "\n" not in str(err.value) and PASSWORD not in str(err.value)
    again = j.reopen()
    assert again.counters() == {"files": 1}  # committed before the loss: kept
    again.close()


@pytest.mark.shared
def test_three_ingests_of_the_same_files_at_once_store_each_once(postgres, tmp_path) -> None:
    """Three ``sensorhub ingest`` processes on one PostgreSQL journal, the same files in
    different orders: one source per file, no deadlock, the daily load of one sequential run."""
    import os
    import subprocess
    import sys

    files = [str(f) for f in _fit_files()[:5]]
    url = postgres.new_database()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENSORHUB_")}
    env |= {"SENSORHUB_HOME": str(tmp_path / "h"), "SENSORHUB_JOURNAL_URL": url}
    orders = [files, files[::-1], files[2:] + files[:2]]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "sensorhub.cli", "ingest", *order],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for order in orders
    ]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    assert not any("Traceback" in o or "deadlock" in o for o in outputs), outputs
    j = Journal(url)
    assert j.source_counts()[0] == len(files)
    Recompute(load_config(home=tmp_path / "h"), j).pending()  # what the next command does
    solo = Pipeline(load_config(home=tmp_path / "solo"))
    solo.ingest(files)
    assert [r.id for r in j.session_rows()] == [r.id for r in solo.journal.session_rows()]
    for a in solo.journal.athletes():
        pd.testing.assert_frame_equal(j.daily_load(a), solo.journal.daily_load(a))
    j.close()
