"""Shared fixtures: a real influxd per test session, isolated state dirs and configs."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from sensorhub.config import Config, load_config

from .influxd import InfluxServer, influxd_binary
from .pg import PgServer, require_pg

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"


@pytest.fixture(scope="session")
def influxd(tmp_path_factory: pytest.TempPathFactory):
    """A real InfluxDB 1.x server on a free loopback port (fails when influxd is missing)."""
    if influxd_binary() is None:
        pytest.fail("influxd not found: the test command installs Debian's influxdb package")
    server = InfluxServer(tmp_path_factory.mktemp("influxd"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server on a free loopback port (tests/pg.py); skips when the server
    programs are missing, fails then with SENSORHUB_REQUIRE_PG=1."""
    require_pg()
    server = PgServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty state dir; no SENSORHUB_* variables leak in from the environment."""
    for k in list(os.environ):
        if k.startswith("SENSORHUB_") and k != "SENSORHUB_REQUIRE_SHARED":
            monkeypatch.delenv(k)
    h = tmp_path / "home"
    monkeypatch.setenv("SENSORHUB_HOME", str(h))
    return h


@pytest.fixture
def db_name() -> str:
    return "t_" + uuid.uuid4().hex[:10]


@pytest.fixture
def cfg(home: Path) -> Config:
    """Config without InfluxDB."""
    return load_config(home=home)


@pytest.fixture
def own_influxd(home: Path, tmp_path: Path, db_name: str, monkeypatch: pytest.MonkeyPatch):
    """A private influxd a test may stop and start (InfluxDB going away), with the
    SENSORHUB_INFLUX_* variables pointing at it; stopped after the test."""
    server = InfluxServer(tmp_path / "own-influxd")
    server.start()
    monkeypatch.setenv("SENSORHUB_INFLUX_URL", server.url)
    monkeypatch.setenv("SENSORHUB_INFLUX_DB", db_name)
    yield server
    server.stop()


@pytest.fixture
def influx_cfg(
    home: Path, influxd: InfluxServer, db_name: str, monkeypatch: pytest.MonkeyPatch
) -> Config:
    """Config pointing at the test influxd with a fresh database name."""
    monkeypatch.setenv("SENSORHUB_INFLUX_URL", influxd.url)
    monkeypatch.setenv("SENSORHUB_INFLUX_DB", db_name)
    return load_config(home=home)
