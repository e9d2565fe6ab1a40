"""Fixtures for fault-injection tests: a proxy in front of the session's real influxd."""

from __future__ import annotations

from pathlib import Path

import pytest

from sensorhub.config import InfluxConfig
from sensorhub.store import Journal

from .proxy import FaultProxy


@pytest.fixture
def fault_proxy(influxd):
    """A :class:`FaultProxy` forwarding to the test influxd (faults switched by the test)."""
    proxy = FaultProxy(influxd.url).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def proxy_cfg(fault_proxy: FaultProxy, influxd, db_name: str) -> InfluxConfig:
    """InfluxDB settings that go through the proxy, with a fresh (created) database."""
    influxd.query(db_name, f'CREATE DATABASE "{db_name}"')
    return InfluxConfig(url=fault_proxy.url, database=db_name, batch_points=100, timeout_s=5.0)


@pytest.fixture
def journal(tmp_path: Path):
    j = Journal(tmp_path / "journal.sqlite")
    yield j
    j.close()
