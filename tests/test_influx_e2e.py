"""End to end against a real influxd: ingest real FIT files, read back with InfluxQL."""

from __future__ import annotations

import gzip
import json

import pytest

from sensorhub.pipeline import Pipeline

from .shared import shared_dir

STRYD = "3schweinehunde__fit_parser/with_stryd.fit"
GARMIN920 = "GoldenCheetah__GoldenCheetah/Garmin920_withFirstbeat.fit"


def oracle(rel: str) -> dict:
    return json.loads(gzip.open(shared_dir("fit", "oracle", rel + ".json.gz")).read())


def all_points(influxd, db: str, measurement: str) -> list[list]:
    series = influxd.query(db, f'SELECT * FROM "{measurement}"')
    return [v for s in series for v in s["values"]]


@pytest.mark.influx
def test_real_files_arrive_with_the_values_fitparse_decodes(influx_cfg, influxd, db_name):
    files = [shared_dir("fit", STRYD), shared_dir("fit", GARMIN920)]
    report = Pipeline(influx_cfg, athlete="eva").ingest(files)
    assert not report.failed and report.flush.ok

    for rel in (STRYD, GARMIN920):
        o = oracle(rel)["record"]
        n = o["n_messages"]
        start, end = o["fields"]["timestamp"]["first"], o["fields"]["timestamp"]["last"]
        where = f"WHERE time >= '{start}Z' AND time <= '{end}Z'"
        assert influxd.count(db_name, "run", "hr_bpm", where) == o["fields"]["heart_rate"]["n"]
        assert len(influxd.query(db_name, f'SELECT * FROM "run" {where}')[0]["values"]) == n
        got = influxd.query(db_name, f'SELECT SUM("hr_bpm"), SUM("cadence_spm") FROM "run" {where}')
        hr_sum, cad_sum = got[0]["values"][0][1:]
        assert hr_sum == pytest.approx(o["fields"]["heart_rate"]["sum"])
        frac = o["fields"].get("fractional_cadence", {}).get("sum", 0.0)
        assert cad_sum == pytest.approx(2 * (o["fields"]["cadence"]["sum"] + frac))

    sessions = all_points(influxd, db_name, "session")
    assert len(sessions) == 2
    load = all_points(influxd, db_name, "load")
    assert len(load) > 100  # one point per day from the first run on


def shard_group_hours(influxd, db: str) -> list[str]:
    """The shard group duration of each retention policy of ``db``."""
    (series,) = influxd.query(db, f'SHOW RETENTION POLICIES ON "{db}"')
    col = series["columns"].index("shardGroupDuration")
    return [row[col] for row in series["values"]]


@pytest.mark.influx
def test_the_database_sensorhub_creates_has_year_long_shard_groups(influx_cfg, influxd, db_name):
    """InfluxDB's one-week default made a season of runs hundreds of shards (config.py)."""
    Pipeline(influx_cfg).ingest([shared_dir("fit", GARMIN920)])
    assert shard_group_hours(influxd, db_name) == ["8736h0m0s"]  # 52 weeks
    assert len(all_points(influxd, db_name, "session")) == 1


@pytest.mark.influx
def test_a_database_that_exists_is_left_as_it_is(influx_cfg, influxd, db_name):
    influxd.query(db_name, f'CREATE DATABASE "{db_name}"')  # the server's defaults: 1 week
    report = Pipeline(influx_cfg).ingest([shared_dir("fit", GARMIN920)])
    assert report.flush.ok, report.flush.errors
    assert shard_group_hours(influxd, db_name) == ["168h0m0s"]
    assert len(all_points(influxd, db_name, "session")) == 1


@pytest.mark.influx
def test_reingest_changes_nothing(influx_cfg, influxd, db_name):
    f = shared_dir("fit", GARMIN920)
    Pipeline(influx_cfg).ingest([f])
    before = {m: all_points(influxd, db_name, m) for m in ("run", "session", "load")}
    report = Pipeline(influx_cfg).ingest([f])
    assert report.files[0].status == "duplicate"
    after = {m: all_points(influxd, db_name, m) for m in ("run", "session", "load")}
    assert before == after


@pytest.mark.influx
def test_influx_down_then_back_every_point_arrives_once(home, own_influxd, db_name):
    from sensorhub.config import load_config

    server = own_influxd
    cfg = load_config(home=home)
    Pipeline(cfg).ingest([shared_dir("fit", GARMIN920)])
    server.stop()  # InfluxDB goes away between two syncs
    report = Pipeline(cfg).ingest([shared_dir("fit", STRYD)])
    assert report.files[0].status == "ingested"
    assert not report.flush.ok and "unreachable" in report.flush.errors[0]
    waiting = Pipeline(cfg).journal.outbox.stats()
    assert waiting["points"] > 4900

    server.start()
    flushed = Pipeline(cfg).flush()
    assert flushed.ok and flushed.sent_points == waiting["points"]
    n_run = len(all_points(server, db_name, "run"))
    assert (
        n_run == oracle(STRYD)["record"]["n_messages"] + oracle(GARMIN920)["record"]["n_messages"]
    )
    assert Pipeline(cfg).flush().sent_points == 0  # nothing left, nothing sent twice


@pytest.mark.influx
def test_writer_ships_the_moment_influxdb_is_back(own_influxd, db_name, tmp_path):
    """Connection refused stops the flush but sets no backoff: the next flush tries again."""
    from sensorhub.config import InfluxConfig
    from sensorhub.store import InfluxWriter, Journal

    from .faults.points import load_lines, run_lines

    journal = Journal(tmp_path / "journal.sqlite")
    journal.outbox.enqueue("run", run_lines(250), 100)
    journal.outbox.enqueue("load", load_lines(1.0, days=10), 100)
    cfg = InfluxConfig(url=own_influxd.url, database=db_name)
    own_influxd.stop()
    down = InfluxWriter(cfg).flush(journal)
    assert not down.ok and down.requests == 1 and "unreachable" in down.errors[0]
    assert down.retry_at is None and journal.outbox.stats()["batches"] == 4
    own_influxd.start()
    up = InfluxWriter(cfg).flush(journal)
    assert up.ok and up.sent_points == 260
    assert own_influxd.count(db_name, "run", "hr_bpm") == 250
    assert own_influxd.count(db_name, "load", "daily_load") == 10


@pytest.mark.influx
@pytest.mark.parametrize("send_gzip", [False, True])
def test_each_stored_body_is_inflated_at_most_once_a_send(
    influxd, db_name, tmp_path, monkeypatch, send_gzip
):
    """A stored gzip body is decompressed once per send as plain text and never when sent as
    is (``_ship`` used to inflate it once to look for ``#influxql`` and again to post it)."""
    from sensorhub.config import InfluxConfig
    from sensorhub.store import InfluxWriter, Journal

    from .faults.points import load_lines, run_lines

    journal = Journal(tmp_path / "journal.sqlite")
    journal.outbox.enqueue("run", run_lines(250), 100)
    journal.outbox.enqueue("load", load_lines(1.0, days=10), 100)
    inflated: list[int] = []
    real = gzip.decompress
    monkeypatch.setattr(gzip, "decompress", lambda b: inflated.append(len(b)) or real(b))
    writer = InfluxWriter(InfluxConfig(url=influxd.url, database=db_name))
    monkeypatch.setattr(writer, "send_gzip", send_gzip)
    report = writer.flush(journal)
    assert report.ok and report.sent_points == 260 and report.requests >= 4
    assert len(inflated) == (0 if send_gzip else 4)
    assert influxd.count(db_name, "run", "hr_bpm") == 250
    assert influxd.count(db_name, "load", "daily_load") == 10
    journal.close()
