"""Athletes and devices stored in the journal (``sensorhub athletes``), on SQLite and a real
PostgreSQL (tests/pg.py), and the retention of submitted files' bytes (``blobs``).

What is relied on: the ``athletes`` table's round trip and its version counter; the merge rule
(config plus store, the stored athlete wins, ``athletes list`` says which); bad values and a
device another athlete has refused with one line, exit 2, nothing written; an edit of HR
limits or time zone changing the daily load already stored; ``sensorhub ingest`` and a worker
attributing a file to an athlete known only from the store, with no TOML file anywhere, and an
edit applying to a worker that is already running; a succeeded job's bytes deleted, a failed
job's kept, the same bytes submitted again ingested as a duplicate, and a worker killed right
after deleting the bytes finishing its job on the next run.
"""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest

from sensorhub.config import Athlete, load_config
from sensorhub.store import Journal
from sensorhub.store.roster import Roster, refresh_athletes

from .faults.harness import FIT, assert_one_clean_line, env_for, invoke, start_cli
from .test_jobs import ingest_jobs, pg_env, read_pg

ANA = sorted((FIT / "ana").glob("*.fit"))
ANA_SERIAL, BEN_SERIAL = "3901000001", "3901000002"  # fixtures/sensorhub.toml
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path) -> dict:
    """A fresh journal on one backend: ``env`` (demo config) and ``bare`` (no TOML file) for
    the CLI, ``where`` for :class:`Journal`."""
    home = tmp_path / "home"
    if request.param == "sqlite":
        where, extra = str(home / "journal.sqlite"), {}
    else:
        where = request.getfixturevalue("postgres").new_database()
        extra = {"SENSORHUB_JOURNAL_URL": where}
    return {
        "name": request.param,
        "where": where,
        "env": env_for(home, **extra),
        "bare": env_for(home, config=None, **extra),
    }


def stored(where: str) -> list:
    j = Journal(where)
    try:
        return Roster(j).all()
    finally:
        j.close()


def sessions(where: str) -> list[tuple[str, str, str]]:
    """(athlete, day, load) of every session, oldest first."""
    j = Journal(where)
    try:
        return [(r.athlete, r.day, r.load) for r in j.session_rows()]
    finally:
        j.close()


def daily(where: str, athlete: str) -> dict[str, float]:
    j = Journal(where)
    try:
        table = j.daily_load(athlete)
    finally:
        j.close()
    return {d.strftime("%Y-%m-%d"): float(v) for d, v in table["daily_load"].items()}


# -- the table ---------------------------------------------------------------------------------
def test_roster_round_trip_and_version(backend):
    j = Journal(backend["where"])
    try:
        roster = Roster(j)
        assert roster.version() == 0 and roster.all() == []  # no table read before a write
        with j.transaction():
            roster.upsert("eva", "Eva", "female", 50.0, 190.0, "Europe/Oslo", ["a1", "b2"])
            roster.upsert("abe", "", "male", None, None, "UTC", [])
        with j.transaction():  # replaces the row with the same id
            roster.upsert("eva", "Eva K", "female", 51.0, 191.0, "Europe/Oslo", ["a1"])
        got = {a.id: a for a in roster.all()}
        assert list(got) == ["abe", "eva"]
        assert got["eva"].fields() == {
            "id": "eva",
            "name": "Eva K",
            "sex": "female",
            "hr_rest": 51.0,
            "hr_max": 191.0,
            "tz": "Europe/Oslo",
            "devices": ["a1"],
        }
        assert got["abe"].hr_max is None and got["eva"].updated_at.endswith("+00:00")
        assert roster.version() == 3
        with j.transaction():
            assert roster.remove("abe") and not roster.remove("nobody")
        assert [a.id for a in roster.all()] == ["eva"] and roster.version() == 4
        with pytest.raises(RuntimeError), j.transaction():  # a failed write leaves nothing
            roster.upsert("zed", "", "male", None, None, "UTC", [])
            raise RuntimeError("abort")
        assert [a.id for a in roster.all()] == ["eva"] and roster.version() == 4
    finally:
        j.close()


def test_a_config_reads_the_store_again_only_when_it_changed(backend, tmp_path):
    cfg = load_config(home=tmp_path / "cfg")
    j, other = Journal(backend["where"]), Journal(backend["where"])
    try:
        assert refresh_athletes(cfg, j) and cfg.stored_athletes == []
        assert not refresh_athletes(cfg, j)  # unchanged: one counter read, no rows
        with other.transaction():  # another process adds an athlete
            Roster(other).upsert("eva", "", "female", None, 185.0, "UTC", ["x9"])
        assert refresh_athletes(cfg, j)
        assert cfg.athlete("eva").hr_max == 185.0 and cfg.athlete_for_device("x9").id == "eva"
    finally:
        j.close()
        other.close()


def test_merge_rule_the_stored_athlete_wins_whole():
    cfg = load_config(Path(__file__).parents[1] / "fixtures" / "sensorhub.toml", home="/tmp/x")
    cfg.use_stored_athletes(
        [
            {"id": "ana", "hr_max": 200.0, "tz": "UTC", "devices": ["new-pod"]},
            {"id": "eva", "tz": "Europe/Oslo", "devices": ["e1"]},
            {"id": "bad", "tz": "Mars/Base"},  # a row that no longer validates is left out
        ]
    )
    assert [a.id for a in cfg.roster()] == ["ana", "ben", "cara", "eva"]
    assert cfg.athlete("ana").hr_max == 200.0 and cfg.athlete("ana").sex == "male"  # whole row
    assert cfg.athlete_origin("ana") == "store (overrides config)"
    assert cfg.athlete_origin("ben") == "config" and cfg.athlete_origin("eva") == "store"
    assert cfg.athlete_origin("bad") == "" and cfg.athlete("bad") == Athlete(id="bad")
    assert cfg.athlete_for_device("new-pod").id == "ana"
    assert cfg.athlete_for_device(ANA_SERIAL) is None  # the config's devices of ana are replaced
    assert cfg.athlete_for_device(BEN_SERIAL).id == "ben"


# -- the command -------------------------------------------------------------------------------
def test_add_edit_list_remove(backend):
    env = backend["env"]
    run = invoke(
        "athletes", "add", "eva", "--name", "Eva", "--sex", "female", "--hr-rest", "50",
        "--hr-max", "190", "--tz", "Europe/Oslo", "--device", "e1", "--device", "e2", env=env,
    )  # fmt: skip
    assert run.code == 0, run.text
    run = invoke("athletes", "edit", "eva", "--hr-max", "185", "--remove-device", "e1",
                 "--add-device", "e3", env=env)  # fmt: skip
    assert run.code == 0, run.text
    (eva,) = stored(backend["where"])
    assert eva.fields() == {  # only what edit named changed
        "id": "eva", "name": "Eva", "sex": "female", "hr_rest": 50.0, "hr_max": 185.0,
        "tz": "Europe/Oslo", "devices": ["e2", "e3"],
    }  # fmt: skip
    run = invoke("athletes", "edit", "ben", "--tz", "Europe/Paris", env=env)  # a config athlete
    assert run.code == 0 and "overrides config" in run.out, run.text
    listed = invoke("athletes", "list", "--csv", env=env)
    assert listed.code == 0, listed.text
    origin = {ln.split(",")[0]: ln.split(",")[1] for ln in listed.out.splitlines()[1:]}
    assert origin == {
        "ana": "config", "ben": "store (overrides config)", "cara": "config", "eva": "store"
    }  # fmt: skip
    ben = next(a for a in stored(backend["where"]) if a.id == "ben")
    assert ben.devices == (BEN_SERIAL,) and ben.hr_max == 192.0  # copied from the config
    assert invoke("athletes", "remove", "ben", env=env).code == 0
    assert invoke("athletes", "remove", "eva", env=env).code == 0
    assert stored(backend["where"]) == []
    assert "ben,config," in invoke("athletes", "--csv", env=env).out  # the config's again


def test_a_stored_athlete_is_known_to_other_commands(backend):
    env = backend["env"]
    assert_one_clean_line(invoke("load", "--athlete", "eva", env=env), 1, "'eva'", "unknown")
    assert invoke("athletes", "add", "eva", env=env).code == 0
    run = invoke("load", "--athlete", "eva", env=env)
    assert run.code == 0 and "no sessions yet" in run.text, run.text


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("add", "eva", "--tz", "Europe/Madird"), ("unknown time zone", "Europe/Madird")),
        (("add", "Eva Smith"), ("athlete id", "not valid")),
        (("add", "eva", "--hr-rest", "60", "--hr-max", "55"), ("hr_max", "above hr_rest")),
        (("add", "eva", "--sex", "other"), ("sex",)),
        (("add", "ana"), ("already known", "athletes edit ana")),
        (("add", "eva", "--device", BEN_SERIAL), (BEN_SERIAL, "'ben'", "'eva'")),
        (("edit", "ana", "--add-device", BEN_SERIAL), (BEN_SERIAL, "'ben'", "'ana'")),
        (("edit", "nobody", "--tz", "UTC"), ("'nobody'", "not known")),
        (("edit", "ana", "--remove-device", "zz"), ("no device", "zz")),
        (("remove", "ana"), ("config file only",)),
    ],
)
def test_bad_values_are_one_line_exit_2_and_nothing_written(backend, args, words):
    run = invoke("athletes", *args, env=backend["env"])
    assert_one_clean_line(run, 2, *words)
    assert stored(backend["where"]) == []


def test_an_hr_or_time_zone_edit_changes_the_stored_daily_load(backend):
    env = backend["env"]
    files = ANA[:3]
    assert invoke("ingest", *files, env=env).code == 0
    before, days_before = daily(backend["where"], "ana"), [s[1] for s in sessions(backend["where"])]
    run = invoke("athletes", "edit", "ana", "--hr-max", "170", env=env)
    assert run.code == 0 and "3 session(s) recomputed" in run.out, run.text
    after = daily(backend["where"], "ana")
    assert after.keys() == before.keys()
    assert all(after[d] > before[d] for d in before if before[d] > 0)  # lower max: harder
    # UTC-11: morning runs in Madrid are the evening before there
    run = invoke("athletes", "edit", "ana", "--tz", "Pacific/Pago_Pago", env=env)
    assert run.code == 0 and "3 session(s) moved" in run.out, run.text
    days_after = [s[1] for s in sessions(backend["where"])]
    assert days_after != days_before
    moved = daily(backend["where"], "ana")
    assert min(moved) == days_after[0] < min(after)
    assert sorted(v for v in moved.values() if v) == sorted(v for v in after.values() if v)
    j = Journal(backend["where"])
    try:
        assert j.dirty() == {}
        load = [b.body for b in j.outbox.batches() if b.measurement == "load"]
    finally:
        j.close()
    # InfluxDB: the points at Madrid's midnights are deleted before those at Pago Pago's
    deletes = [i for i, body in enumerate(load) if 'DELETE FROM "load"' in body]
    assert deletes and "athlete" in load[deletes[-1]]
    assert any("load,athlete=ana " in body for body in load[deletes[-1] + 1 :])


def test_ingest_attributes_a_device_known_only_from_the_store(backend):
    bare = backend["bare"]  # no TOML file at all
    run = invoke("athletes", "add", "eva", "--tz", "Europe/Madrid", "--hr-max", "188",
                 "--hr-rest", "48", "--sex", "female", "--device", ANA_SERIAL, env=bare)  # fmt: skip
    assert run.code == 0, run.text
    run = invoke("ingest", ANA[0], env=bare)
    assert run.code == 0, run.text
    ((athlete, day, load),) = sessions(backend["where"])
    assert athlete == "eva" and day == "2026-09-08"
    # the same file under the config's ana (same HR limits): the same load
    ref = env_for(backend["env"]["SENSORHUB_HOME"] + "-ref")
    assert invoke("ingest", ANA[0], env=ref).code == 0
    ((_, ref_day, ref_load),) = sessions(str(Path(ref["SENSORHUB_HOME"]) / "journal.sqlite"))
    assert (day, load) == (ref_day, ref_load)


# -- workers and the bytes of submitted files (PostgreSQL) -------------------------------------
def blob_count(url: str) -> int:
    with psycopg.connect(url) as db:
        return db.execute("SELECT COUNT(*) FROM blobs").fetchone()[0]


def test_a_worker_uses_the_store_and_drops_the_bytes_of_done_jobs(postgres, tmp_path):
    url = postgres.new_database()
    env = pg_env(tmp_path / "home", url, config=None)  # no TOML file anywhere
    run = invoke("athletes", "add", "eva", "--tz", "Europe/Madrid", "--device", ANA_SERIAL,
                 env=env)  # fmt: skip
    assert run.code == 0, run.text
    bad = tmp_path / "broken.fit"
    bad.write_bytes(b"\x0e\x10not a fit file at all" * 4)
    sub = invoke("submit", ANA[0], bad, env=env)
    assert "queued for eva" in sub.out, sub.text  # the device's athlete, from the store
    assert blob_count(url) == 2
    work = invoke("worker", "--until-idle", env=env)
    assert work.code == 0, work.text
    state = read_pg(url)
    assert sorted(j[1] for j in ingest_jobs(state)) == ["failed", "succeeded"]
    assert [s[1] for s in state["sessions"]] == ["eva"] and state["daily_load"]
    with psycopg.connect(url) as db:  # the failed job's bytes stay (retry), with the reason
        kept = db.execute("SELECT name, reason FROM blobs").fetchall()
    assert [k[0] for k in kept] == [str(bad)] and kept[0][1]
    # the same bytes again: queued again (the bytes were dropped), ingested as a duplicate
    again = invoke("submit", ANA[0], env=env)
    assert again.code == 0 and "queued for eva" in again.out, again.text
    assert invoke("worker", "--until-idle", env=env).code == 0
    state = read_pg(url)
    assert [j[1] for j in ingest_jobs(state)].count("succeeded") == 2
    assert len(state["sources"]) == 1 and len(state["sessions"]) == 1
    assert blob_count(url) == 1


def test_a_worker_killed_after_dropping_the_bytes_finishes_its_job(postgres, tmp_path):
    url = postgres.new_database()
    env = pg_env(tmp_path / "home", url)
    assert invoke("submit", ANA[0], env=env).code == 0
    killed = start_cli(
        "worker", "--until-idle", env=env | {"SENSORHUB_KILL_AT": "job.after_blob_delete"}
    )
    assert killed.wait(timeout=120) < 0  # SIGKILL: the job stays "doing"
    assert blob_count(url) == 0
    again = start_cli("worker", "--until-idle", env=env)  # requeues the stalled job, runs it
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, out + err
    state = read_pg(url)
    assert [j[1] for j in ingest_jobs(state)] == ["succeeded"], state["jobs"]
    assert len(state["sessions"]) == 1 and state["dirty"] == 0 and state["daily_load"]


def test_an_edit_applies_to_a_running_worker(postgres, tmp_path):
    url = postgres.new_database()
    env = pg_env(tmp_path / "home", url, config=None)
    assert invoke("athletes", "add", "eva", "--device", ANA_SERIAL, env=env).code == 0
    worker = start_cli("worker", env=env)  # keeps running, reads the store per job
    try:
        assert invoke("submit", ANA[0], env=env).code == 0
        first = wait_for_sessions(url, 1)
        run = invoke("athletes", "edit", "eva", "--hr-max", "170", "--hr-rest", "45",
                     "--sex", "female", env=env)  # fmt: skip
        assert run.code == 0, run.text
        assert invoke("submit", ANA[1], env=env).code == 0
        both = wait_for_sessions(url, 2)
    finally:
        worker.terminate()
        worker.communicate(timeout=60)
    # the reference: the same two files with eva's edited values in a TOML file, on SQLite
    cfg = tmp_path / "eva.toml"
    cfg.write_text(
        '[[athletes]]\nid = "eva"\nsex = "female"\nhr_rest = 45\nhr_max = 170\n'
        f'devices = ["{ANA_SERIAL}"]\n'
    )
    ref = env_for(tmp_path / "ref", config=cfg)
    assert invoke("ingest", ANA[1], env=ref).code == 0
    ref_load = sessions(str(tmp_path / "ref" / "journal.sqlite"))[0][2]
    second = both[1]  # ANA[1] is the later run (the first one was reprocessed by the edit)
    assert second[0] == "eva" and second[2] == pytest.approx(ref_load, rel=1e-12)
    assert first[0][2] != pytest.approx(ref_load)  # the first file had the old HR limits


def wait_for_sessions(url: str, n: int, timeout: float = 90) -> list[tuple]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with psycopg.connect(url) as db:
            rows = db.execute(
                "SELECT athlete, day, load FROM sessions s WHERE NOT EXISTS"
                " (SELECT 1 FROM dirty d WHERE d.athlete = s.athlete) ORDER BY start"
            ).fetchall()
        if len(rows) >= n:
            return [tuple(r) for r in rows]
        time.sleep(0.3)
    raise AssertionError(f"fewer than {n} sessions after {timeout} s")
