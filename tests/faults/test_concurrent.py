"""Several ``sensorhub`` processes on one state dir at once: ``watch`` + ``ingest`` + ``flush``,
and three ``ingest``s on overlapping files, shipping through the fault proxy to the real
influxd. Nothing fails (a file another process just stored is "already there"), every
point reaches InfluxDB exactly once per series and time, and one process ships at a time.
Slow-ish: 4–5 interpreters in parallel on two cores (about 10 s).
"""

from __future__ import annotations

import shutil
import signal
import time

import pytest

from sensorhub.store import Journal

from .harness import demo_files, env_for, influx_counts, invoke, read_journal, start_cli

pytestmark = [pytest.mark.influx, pytest.mark.slow]
FILES = demo_files(4, 2)


def finish(p, timeout: float = 120) -> tuple[int, str]:
    out, err = p.communicate(timeout=timeout)
    return p.returncode, out + err


def test_overlapping_ingests_watch_and_flush_store_and_ship_everything_once(
    tmp_path, fault_proxy, proxy_cfg, influxd, db_name
):
    home = tmp_path / "home"
    env = env_for(home, fault_proxy.url, db_name)
    folder = tmp_path / "sync"
    folder.mkdir()
    for f in FILES[::2]:
        shutil.copy(f, folder / f.name)
    watch = start_cli("watch", folder, "--settle", "0.2", "--flush-every", "0.5", env=env)
    ingests = [
        start_cli("ingest", *FILES[:6], env=env),
        start_cli("ingest", *FILES[3:], env=env),
        start_cli("ingest", *FILES[::-1], env=env),
    ]
    flush = start_cli("flush", env=env)
    results = [finish(p) for p in ingests]
    flush_code, flush_text = finish(flush)
    for code, text in [*results, (0, flush_text)]:
        assert code == 0, text
        assert "unexpected" not in text and "IntegrityError" not in text, text
        assert "Traceback" not in text, text
    deadline = time.monotonic() + 60
    while len(read_journal(home)["sources"]) < len(FILES) and time.monotonic() < deadline:
        time.sleep(0.2)
    watch.send_signal(signal.SIGINT)
    code, text = finish(watch)
    assert code == 0 and "Traceback" not in text, text

    ingested = sum(int(t.split(" ingested")[0].split()[-1]) for _, t in results)
    assert ingested <= len(FILES)  # nobody stored a file twice (watch took the rest)
    final = start_cli("flush", env=env)
    assert finish(final)[0] == 0
    journal = read_journal(home)
    assert journal["integrity"] == "ok" and journal["outbox"] == 0 and journal["dirty"] == 0
    assert len(journal["sources"]) == len(FILES) == len(journal["sessions"])

    # every run point once per series and time: InfluxDB holds exactly the run points a
    # clean, InfluxDB-less ingest of the same files queues
    assert points_per_series(influx_counts(influxd, db_name, "run")) == reference_run_points(
        tmp_path / "reference"
    )
    # batches other processes queue during a flush are not that flush's failures
    assert flush_code == 0, flush_text


def points_per_series(counts: dict) -> dict:
    return {series: max(v or 0 for v in c.values()) for series, c in counts.items()}


def reference_run_points(home) -> dict:
    """{series tags: points} of the ``run`` lines a clean ingest of FILES puts in its outbox."""
    assert invoke("ingest", *FILES, env=env_for(home)).code == 0
    j = Journal(home / "journal.sqlite")
    seen: dict = {}
    for b in j.outbox.batches():
        for ln in b.body.splitlines():
            if ln.startswith("run,"):
                key, _, rest = ln.partition(" ")
                tags = tuple(sorted(tuple(kv.split("=", 1)) for kv in key.split(",")[1:]))
                seen.setdefault(tags, set()).add(rest.rsplit(" ", 1)[1])
    j.close()
    return {k: len(v) for k, v in seen.items()}
