"""Alert history does not depend on ingest order: the same files ingested in three orders
(and batchings) give the same alerts (rule, opened_at, cleared_at, value)."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from sensorhub.config import load_config
from sensorhub.pipeline import Pipeline

from .harness import CONFIG, FIT

NOW = pd.Timestamp("2026-12-01", tz="UTC")
FILES = sorted((FIT / "ana").glob("*.fit"))


def alerts_after(files, chunks: int, home) -> list[tuple]:
    pipe = Pipeline(load_config(CONFIG, home), now=NOW)
    size = -(-len(files) // chunks)
    for i in range(0, len(files), size):
        pipe.ingest(files[i : i + size])
    df = pipe.journal.alerts.frame()
    pipe.journal.close()
    cols = ["athlete", "rule", "opened_at", "cleared_at", "value"]
    return [tuple(r) for r in df[cols].astype(str).itertuples(index=False)]


@pytest.mark.slow
def test_the_same_files_in_three_orders_give_the_same_alerts(tmp_path):
    shuffled = list(FILES)
    random.Random(7).shuffle(shuffled)
    forward = alerts_after(FILES, 1, tmp_path / "a")
    assert forward, "the demo files should open at least one alert"
    assert alerts_after(FILES[::-1], 4, tmp_path / "b") == forward
    assert alerts_after(shuffled, 3, tmp_path / "c") == forward
