"""Configuration: one object, parsed and validated once, from a TOML file and ``SENSORHUB_*``.

Lookup order for the file: ``--config`` option, ``$SENSORHUB_CONFIG``,
``$SENSORHUB_HOME/config.toml``. Everything has a default, so no file is needed; a file
named explicitly (``--config`` or ``$SENSORHUB_CONFIG``) must exist. Every key is checked
when the file is loaded: an unknown key, a value of the wrong type or out of range gives one
:class:`ConfigError` line naming the key, the value and what was expected. See
docs/configuration.md for every key.

The lists of allowed values come from the registries that own them: load methods from
:mod:`sensorhub.load`, BLE sensor kinds from :data:`drivers.ble.SERVICES`, IMU placements from
:data:`sensorhub.gait.DETECTORS`.
"""

from __future__ import annotations

import os
import re
import tomllib
import zoneinfo
from dataclasses import field, fields
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, TypeAdapter, ValidationError, field_validator, model_validator
from pydantic.dataclasses import dataclass

from drivers.ble import SERVICES as BLE_SERVICES

from .load.session import LOAD_METHODS

_STRICT = ConfigDict(extra="forbid")
# An athlete id is a tag value in InfluxDB and a word on the command line: lower-case letters,
# digits and ``._-``, starting with a letter or digit (no spaces, commas, quotes or newlines).
ATHLETE_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class ConfigError(ValueError):
    """The configuration file is unreadable or holds an invalid value."""


def check_athlete_id(value: str) -> str:
    """``value`` lower-cased when it is a valid athlete id; ConfigError naming it otherwise."""
    norm = str(value).strip().lower()
    if not ATHLETE_ID.match(norm):
        raise ConfigError(
            f"athlete id {value!r} is not valid: use 1-64 letters, digits, '.', '_' or '-'"
        )
    return norm


def _athlete_id(v: str) -> str:
    try:
        return check_athlete_id(v)
    except ConfigError as exc:
        raise ValueError(str(exc)) from None


@dataclass(config=_STRICT)
class Athlete:
    """One athlete: who they are for load computation, and which devices are theirs."""

    id: str
    name: str = ""
    sex: Literal["male", "female"] = "male"  # Banister TRIMP weighting
    hr_rest: float | None = None  # bpm
    hr_max: float | None = None  # bpm
    tz: str = "UTC"  # calendar days for daily load are counted in this zone
    devices: list[str] = field(default_factory=list)  # FIT serial numbers, BLE addresses

    _id = field_validator("id")(classmethod(lambda cls, v: _athlete_id(v)))

    @field_validator("tz")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (e.g. 'Europe/Madrid')") from None
        return v

    @field_validator("hr_rest", "hr_max")
    @classmethod
    def _bpm(cls, v: float | None) -> float | None:
        if v is not None and not 20 <= v <= 250:
            raise ValueError(f"{v} bpm is not a plausible heart rate (20-250)")
        return v

    @model_validator(mode="after")
    def _order(self) -> Athlete:
        if self.hr_rest is not None and self.hr_max is not None and self.hr_max <= self.hr_rest:
            raise ValueError(f"hr_max ({self.hr_max}) must be above hr_rest ({self.hr_rest})")
        return self


@dataclass(config=_STRICT)
class InfluxConfig:
    """Where line protocol goes: the v1 ``/write`` endpoint of InfluxDB 1.x, 2.x or 3.x."""

    url: str = ""  # empty: no InfluxDB, data waits in the outbox
    database: str = "sensorhub"
    token: str = ""  # 2.x/3.x: sent as "Authorization: Token ..."
    username: str = ""
    password: str = ""
    batch_points: int = 5000
    timeout_s: float = 10.0
    # The shard group duration of the database sensorhub creates (InfluxDB 1.x; one it finds
    # is left as it is). InfluxDB's default for an endless retention is one week: a season of
    # 1 Hz runs over years is then hundreds of tiny shards, each paid for when first written
    # (a season's daily ``load`` series: 700 shards, a third of influxd's write time).
    # InfluxData advises long shard groups for sparse historical data, and at least 100,000
    # points per shard group (docs/reliability.md "The database"); a runner writes ~20,000 a week
    shard_duration: str = "52w"

    @field_validator("shard_duration")
    @classmethod
    def _shards(cls, v: str) -> str:
        if v and not re.fullmatch(r"[1-9][0-9]*[hdw]", v):
            raise ValueError("must be a duration such as 52w, 30d or 24h (empty: the server's)")
        return v

    # HTTP connections the writer sends on at once. Batches of one series go together only
    # when no point time can be in both (their time ranges are disjoint: docs/reliability.md
    # "Several connections"), so an older value never lands after a newer one
    connections: int = 2

    @field_validator("connections")
    @classmethod
    def _connections(cls, v: int) -> int:
        if not 1 <= v <= 16:
            raise ValueError("must be between 1 and 16")
        return v

    @field_validator("batch_points")
    @classmethod
    def _batch(cls, v: int) -> int:
        if not 1 <= v <= 1_000_000:
            raise ValueError("must be between 1 and 1000000")
        return v

    @field_validator("timeout_s")
    @classmethod
    def _timeout(cls, v: float) -> float:
        if not 0 < v <= 3600:
            raise ValueError("must be above 0 and at most 3600 seconds")
        return v

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if v and not re.match(r"^https?://[^/\s]+", v):
            raise ValueError("must start with http:// or https:// and name a host")
        return v.rstrip("/")

    @property
    def enabled(self) -> bool:
        return bool(self.url)


@dataclass(config=_STRICT)
class JournalConfig:
    """Where the journal lives: empty (the state dir's SQLite file), ``sqlite:///path`` or
    ``postgresql://user:password@host/db`` (docs/scale.md). Checked when the journal is
    opened (``sensorhub.store.parse_target``), where a refusal shows it password-masked."""

    url: str = ""


@dataclass(config=_STRICT)
class LoadConfig:
    """How session load is computed (see docs/science.md)."""

    primary: str = "trimp"

    @field_validator("primary")
    @classmethod
    def _method(cls, v: str) -> str:
        if v not in LOAD_METHODS:
            raise ValueError(f"must be one of {', '.join(LOAD_METHODS)}")
        return v


@dataclass(config=_STRICT)
class FitConfig:
    """Choices made when FIT records are normalised."""

    # power: "auto" prefers a dedicated sensor's developer field (Stryd) over the watch's own
    power_source: Literal["auto", "native", "developer"] = "auto"


@dataclass(config=_STRICT)
class DisplayConfig:
    """How numbers are shown to people (the journal, InfluxDB and CSV keep metres)."""

    distance_unit: Literal["km", "mi"] = "km"  # distances and pace (min:ss per km or mile)


@dataclass(config=_STRICT)
class BleDevice:
    """One ``[[ble_devices]]`` row: a live sensor to collect from."""

    kind: str  # a key of drivers.ble.SERVICES: rsc | hr | pmd
    address: str = ""
    name: str = ""
    athlete: str = ""  # empty: the default athlete
    placement: str = ""  # e.g. left_shank, sacrum, chest

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v not in BLE_SERVICES:
            raise ValueError(f"must be one of {', '.join(BLE_SERVICES)}")
        return v

    @field_validator("athlete")
    @classmethod
    def _athlete(cls, v: str) -> str:
        return _athlete_id(v) if v else v

    @model_validator(mode="after")
    def _named(self) -> BleDevice:
        if not (self.address or self.name):
            raise ValueError("needs an address or a name")
        return self

    @property
    def match(self) -> str:
        return self.address or self.name


@dataclass(config=_STRICT)
class AlertConfig:
    """Thresholds of every alert rule (docs/alerts.md); ``*_clear`` values give the
    hysteresis: an alert stays open until the value is back on the calm side of its clear level.

    The ACWR levels are conventional reference bands for load change, not injury-risk
    zones (Impellizzeri et al. 2020).
    """

    enabled: bool = True
    # load (day rules)
    acwr_field: Literal["acwr_rac", "acwr_rau", "acwr_ewma"] = "acwr_rac"
    acwr_max: float = 1.5  # ratio; a conventional upper reference level for load change
    acwr_clear: float = 1.3  # back inside the conventional 0.8–1.3 band
    week_increase_max_pct: float = 30.0  # 7-day load vs the 7 days before, %
    week_increase_clear_pct: float = 10.0
    week_min_load: float = 1.0  # AU; the previous week must have had some load
    monotony_max: float = 2.0  # Foster 1998
    monotony_clear: float = 1.8
    # asymmetry (session rules)
    si_z_max: float = 2.0  # |z| of session gct_si_pct vs the athlete's previous sessions
    si_z_clear: float = 1.5
    si_baseline_sessions: int = 10  # rolling baseline: at most this many previous sessions
    si_baseline_min: int = 5  # no z-score before this many
    # SD floor (SI percentage points) so a very steady athlete's z is not inflated by a tiny SD
    si_sd_floor_pct: float = 1.0
    balance_low_pct: float = 48.0  # absolute GCT balance band, % left
    balance_high_pct: float = 52.0
    balance_clear_margin_pct: float = 0.5  # clears inside [low + m, high - m]
    # wellbeing
    pain_min: float = 4.0  # pain (0–10) at or above this alerts
    # delivery
    webhook_url: str = ""
    webhook_timeout_s: float = 5.0
    webhook_max_attempts: int = 50
    notify_max_age_h: float = 72.0  # older events (backfills) are stored but not pushed; 0: all

    @model_validator(mode="after")
    def _consistent(self) -> AlertConfig:
        if self.si_baseline_min < 2 or self.si_baseline_sessions < self.si_baseline_min:
            raise ValueError("need 2 <= si_baseline_min <= si_baseline_sessions")
        if self.balance_low_pct >= self.balance_high_pct:
            raise ValueError("balance_low_pct must be below balance_high_pct")
        if not 0 <= self.pain_min <= 10:
            raise ValueError("pain_min must be between 0 and 10")
        return self


@dataclass(config=_STRICT)
class FileConfig:
    """The TOML file's shape: every key sensorhub knows (anything else is an error)."""

    default_athlete: str = "default"
    load: LoadConfig = field(default_factory=LoadConfig)
    influx: InfluxConfig = field(default_factory=InfluxConfig)
    alerts: AlertConfig = field(default_factory=AlertConfig)
    fit: FitConfig = field(default_factory=FitConfig)
    display: DisplayConfig = field(default_factory=DisplayConfig)
    athletes: list[Athlete] = field(default_factory=list)
    ble_devices: list[BleDevice] = field(default_factory=list)
    journal: JournalConfig = field(default_factory=JournalConfig)

    _default = field_validator("default_athlete")(classmethod(lambda cls, v: _athlete_id(v)))

    @model_validator(mode="after")
    def _unique(self) -> FileConfig:
        ids = [a.id for a in self.athletes]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"athlete id {dup[0]!r} is configured twice")
        return self


_FILE = TypeAdapter(FileConfig)


@dataclass(config=ConfigDict(arbitrary_types_allowed=True))
class Config:
    """Everything sensorhub is configured with; build it with :func:`load_config`."""

    home: Path
    influx: InfluxConfig = field(default_factory=InfluxConfig)
    athletes: list[Athlete] = field(default_factory=list)
    default_athlete: str = "default"
    load: LoadConfig = field(default_factory=LoadConfig)
    alerts: AlertConfig = field(default_factory=AlertConfig)
    fit: FitConfig = field(default_factory=FitConfig)
    display: DisplayConfig = field(default_factory=DisplayConfig)
    ble_devices: list[BleDevice] = field(default_factory=list)
    journal: JournalConfig = field(default_factory=JournalConfig)
    source_path: Path | None = None
    # athletes stored in the journal (sensorhub.store.roster.refresh_athletes sets them)
    stored_athletes: list[Athlete] = field(default_factory=list)
    stored_from: tuple[str, int] | None = None  # (journal, roster version) they were read at

    # Merge rule (docs/configuration.md): the config's athletes plus the stored ones; an id
    # in both is the stored athlete, whole (its devices replace the config's), because the
    # store is what `sensorhub athletes edit` changes while every worker's file stays as it is.
    def roster(self) -> list[Athlete]:
        """Every known athlete: the config's in file order (a stored one in place of the
        config's with the same id), then the stored ones the config lacks, by id."""
        stored = {a.id: a for a in self.stored_athletes}
        out = [stored.pop(a.id, a) for a in self.athletes]
        return out + sorted(stored.values(), key=lambda a: a.id)

    def athlete_origin(self, athlete_id: str) -> str:
        """Where an athlete comes from: ``store``, ``store (overrides config)``, ``config``,
        or "" when neither has it."""
        in_store = any(a.id == athlete_id for a in self.stored_athletes)
        in_config = any(a.id == athlete_id for a in self.athletes)
        if in_store:
            return "store (overrides config)" if in_config else "store"
        return "config" if in_config else ""

    def athlete(self, athlete_id: str) -> Athlete:
        """The athlete with this id, stored or configured (a bare default one when neither
        has it)."""
        return self._lookup()[0].get(athlete_id) or Athlete(id=athlete_id)

    def athlete_for_device(self, device: str | None) -> Athlete | None:
        """The athlete owning ``device`` (a FIT serial number or BLE address) in the merged
        roster; None when nobody does."""
        return self._lookup()[1].get(device) if device else None

    def _lookup(self) -> tuple[dict[str, Athlete], dict[str, Athlete]]:
        """({id: athlete}, {device: athlete}) of :meth:`roster`, rebuilt when either list
        changed: a store of 100k athletes is not scanned once per file."""
        # the lists themselves (not their ids, which a new list may reuse) and the length
        key = (self.stored_from, self.stored_athletes, self.athletes, len(self.athletes))
        cached = self.__dict__.get("_lookup_cache")
        if (
            cached is None
            or any(x is not y for x, y in zip(cached[0][1:3], key[1:3], strict=True))
            or (cached[0][0], cached[0][3]) != (key[0], key[3])
        ):
            roster = self.roster()
            by_device: dict[str, Athlete] = {}
            for a in roster:
                for d in a.devices:
                    by_device.setdefault(d, a)  # the first owner, as the scan in order found
            cached = (key, {a.id: a for a in roster}, by_device)
            self.__dict__["_lookup_cache"] = cached
        return cached[1], cached[2]

    def use_stored_athletes(
        self, rows: list[dict[str, Any]], stored_from: tuple[str, int] | None = None
    ) -> None:
        """Replace the stored athletes with ``rows`` (Athlete fields, as the journal holds
        them); a row that no longer validates is left out (ConfigError lines are for input)."""
        athletes = []
        for row in rows:
            try:
                athletes.append(parse_athlete(row))
            except ConfigError:
                continue
        self.stored_athletes, self.stored_from = athletes, stored_from

    @property
    def load_primary(self) -> str:
        return self.load.primary

    @property
    def journal_path(self) -> Path:
        return self.home / "journal.sqlite"


def default_home() -> Path:
    if os.environ.get("SENSORHUB_HOME"):
        return Path(os.environ["SENSORHUB_HOME"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "sensorhub"


def load_config(path: str | Path | None = None, home: str | Path | None = None) -> Config:
    """Read and validate the config file (if any) and apply ``SENSORHUB_*`` overrides."""
    home_path = Path(home).expanduser() if home else default_home()
    named = path or os.environ.get("SENSORHUB_CONFIG")
    file = Path(named) if named else home_path / "config.toml"
    if named and not file.is_file():
        raise ConfigError(f"{file}: no such config file")
    raw: dict[str, Any] = {}
    if file.is_file():
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{file}: {exc}") from None
    raw = _with_env(raw)
    try:
        fc = _FILE.validate_python(raw)
    except ValidationError as exc:
        raise ConfigError(
            f"{file if file.is_file() else 'environment'}: {_first_error(exc)}"
        ) from None
    values = {f.name: getattr(fc, f.name) for f in fields(FileConfig)}
    return Config(home=home_path, source_path=file if file.is_file() else None, **values)


_ATHLETE = TypeAdapter(Athlete)


def parse_athlete(raw: dict[str, Any]) -> Athlete:
    """One athlete checked with the config's rules (``sensorhub athletes add/edit``, the
    journal's rows); ConfigError naming the field and value otherwise."""
    try:
        return _ATHLETE.validate_python(raw)
    except ValidationError as exc:
        raise ConfigError(f"athlete: {_first_error(exc)}") from None


def parse_alert_config(raw: dict[str, Any]) -> AlertConfig:
    """An ``[alerts]`` table on its own (tests, tools); ConfigError on a bad key or value."""
    try:
        return TypeAdapter(AlertConfig).validate_python(raw)
    except ValidationError as exc:
        raise ConfigError(f"alerts: {_first_error(exc)}") from None


_ENV = {
    ("influx", "url"): "SENSORHUB_INFLUX_URL",
    ("influx", "database"): "SENSORHUB_INFLUX_DB",
    ("influx", "token"): "SENSORHUB_INFLUX_TOKEN",
    ("influx", "username"): "SENSORHUB_INFLUX_USER",
    ("influx", "password"): "SENSORHUB_INFLUX_PASSWORD",
    ("alerts", "webhook_url"): "SENSORHUB_ALERT_WEBHOOK_URL",
    ("journal", "url"): "SENSORHUB_JOURNAL_URL",
}


def _with_env(raw: dict[str, Any]) -> dict[str, Any]:
    """Environment variables win over the file (strings only: secrets and addresses)."""
    out = dict(raw)
    for (table, key), var in _ENV.items():
        if var in os.environ:
            section = out.get(table, {})
            if isinstance(section, dict):
                out[table] = {**section, key: os.environ[var]}
    return out


def _first_error(exc: ValidationError) -> str:
    """``key.path = value: what was expected`` for the first problem pydantic found."""
    e = exc.errors(include_url=False)[0]
    loc = _with_index(e["loc"])
    msg = e["msg"].removeprefix("Value error, ")
    if e["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
        return f"unknown key {loc!r}"
    if e["type"] == "missing":
        return f"{loc}: required"
    value = e.get("input")
    shown = f" = {value!r}" if not isinstance(value, dict | list) else ""
    return f"{loc}{shown}: {msg}"


def _with_index(loc: tuple) -> str:
    """('athletes', 0, 'hr_max') -> 'athletes[0].hr_max'."""
    out = ""
    for p in loc:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out or "(top level)"
