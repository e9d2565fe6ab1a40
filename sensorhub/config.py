"""Configuration: a TOML file plus environment variables (which win).

Lookup order for the file: ``--config`` option, ``$SENSORHUB_CONFIG``,
``$SENSORHUB_HOME/config.toml``. Everything has a default, so no file is needed.
See docs/configuration.md for every key.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOAD_METHODS = ("trimp", "srpe", "duration")


class ConfigError(ValueError):
    """The configuration file is unreadable or holds an invalid value."""


@dataclass
class Athlete:
    """One athlete: who they are for load computation, and which devices are theirs."""

    id: str
    name: str = ""
    sex: str = "male"  # for Banister TRIMP weighting: "male" | "female"
    hr_rest: float | None = None  # bpm
    hr_max: float | None = None  # bpm
    tz: str = "UTC"  # calendar days for daily load are counted in this zone
    devices: list[str] = field(default_factory=list)  # FIT serial numbers, BLE addresses


@dataclass
class InfluxConfig:
    """Where line protocol goes: the v1 ``/write`` endpoint of InfluxDB 1.x, 2.x or 3.x."""

    url: str = ""  # empty: no InfluxDB, data waits in the outbox
    database: str = "sensorhub"
    token: str = ""  # 2.x/3.x: sent as "Authorization: Token ..."
    username: str = ""
    password: str = ""
    batch_points: int = 5000
    timeout_s: float = 10.0

    @property
    def enabled(self) -> bool:
        return bool(self.url)


@dataclass
class Config:
    home: Path
    influx: InfluxConfig = field(default_factory=InfluxConfig)
    athletes: list[Athlete] = field(default_factory=list)
    default_athlete: str = "default"
    load_primary: str = "trimp"
    source_path: Path | None = None
    # live BLE sensors ([[ble_devices]]): address or name, athlete, kind, placement
    ble_devices: list[dict[str, str]] = field(default_factory=list)

    def athlete(self, athlete_id: str) -> Athlete:
        """The athlete with this id (a bare default one when not configured)."""
        for a in self.athletes:
            if a.id == athlete_id:
                return a
        return Athlete(id=athlete_id)

    def athlete_for_device(self, device: str | None) -> Athlete | None:
        if not device:
            return None
        for a in self.athletes:
            if device in a.devices:
                return a
        return None

    @property
    def journal_path(self) -> Path:
        return self.home / "journal.sqlite"


def default_home() -> Path:
    if os.environ.get("SENSORHUB_HOME"):
        return Path(os.environ["SENSORHUB_HOME"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "sensorhub"


def load_config(path: str | Path | None = None, home: str | Path | None = None) -> Config:
    """Read the config file (if any) and apply ``SENSORHUB_*`` environment overrides."""
    home_path = Path(home).expanduser() if home else default_home()
    path = path or os.environ.get("SENSORHUB_CONFIG") or home_path / "config.toml"
    path = Path(path)
    raw: dict[str, Any] = {}
    if path.exists():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from None
    cfg = Config(home=home_path, source_path=path if path.exists() else None)
    cfg.influx = _influx(raw.get("influx", {}))
    cfg.athletes = [_athlete(a) for a in raw.get("athletes", [])]
    cfg.default_athlete = str(raw.get("default_athlete", "default"))
    cfg.load_primary = str(raw.get("load", {}).get("primary", "trimp"))
    cfg.ble_devices = [_ble_device(d) for d in raw.get("ble_devices", [])]
    if cfg.load_primary not in LOAD_METHODS:
        raise ConfigError(f"load.primary must be one of {LOAD_METHODS}, not {cfg.load_primary!r}")
    return cfg


def _influx(raw: dict[str, Any]) -> InfluxConfig:
    ic = InfluxConfig(**{k: v for k, v in raw.items() if k in InfluxConfig.__dataclass_fields__})
    env = os.environ
    ic.url = env.get("SENSORHUB_INFLUX_URL", ic.url).rstrip("/")
    ic.database = env.get("SENSORHUB_INFLUX_DB", ic.database)
    ic.token = env.get("SENSORHUB_INFLUX_TOKEN", ic.token)
    ic.username = env.get("SENSORHUB_INFLUX_USER", ic.username)
    ic.password = env.get("SENSORHUB_INFLUX_PASSWORD", ic.password)
    return ic


def _athlete(raw: dict[str, Any]) -> Athlete:
    if "id" not in raw:
        raise ConfigError(f"athlete without id: {raw}")
    known = {k: v for k, v in raw.items() if k in Athlete.__dataclass_fields__}
    known["devices"] = [str(d) for d in raw.get("devices", [])]
    known["id"] = str(raw["id"])
    a = Athlete(**known)
    if a.sex not in ("male", "female"):
        raise ConfigError(f"athlete {a.id}: sex must be 'male' or 'female'")
    return a


BLE_KINDS = ("rsc", "hr", "pmd")


def _ble_device(raw: dict[str, Any]) -> dict[str, str]:
    """One ``[[ble_devices]]`` row: ``address`` or ``name``, ``athlete``, ``kind``, ``placement``."""
    row = {
        k: str(v)
        for k, v in raw.items()
        if k in ("address", "name", "athlete", "kind", "placement")
    }
    if not (row.get("address") or row.get("name")):
        raise ConfigError(f"ble_devices entry needs an address or a name: {raw}")
    if row.get("kind") not in BLE_KINDS:
        raise ConfigError(f"ble_devices entry kind must be one of {BLE_KINDS}: {raw}")
    row.setdefault("athlete", "")
    return row
