"""Alert thresholds: the ``[alerts]`` table of the sensorhub TOML file (all optional).

Defaults and their sources are listed in docs/alerts.md. ``$SENSORHUB_ALERT_WEBHOOK_URL``
overrides ``webhook_url`` (a secret: it is never logged).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ..config import Config, ConfigError

ACWR_FIELDS = ("acwr_rac", "acwr_rau", "acwr_ewma")


@dataclass
class AlertConfig:
    """Thresholds of every rule; ``*_clear`` values give the hysteresis (the alert stays
    open until the value is back on the safe side of the clear level)."""

    enabled: bool = True
    # load (day rules)
    acwr_field: str = "acwr_rac"  # which ACWR form the rule watches
    acwr_max: float = 1.5  # ratio; Gabbett 2016 "danger zone" above 1.5
    acwr_clear: float = 1.3  # back inside the 0.8–1.3 band
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
    si_sd_floor_pct: float = 1.0  # SD floor (SI percentage points) so a very steady
    # athlete's z is not inflated by a tiny SD
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

    def __post_init__(self) -> None:
        if self.acwr_field not in ACWR_FIELDS:
            raise ConfigError(f"alerts.acwr_field must be one of {ACWR_FIELDS}")
        if self.si_baseline_min < 2 or self.si_baseline_sessions < self.si_baseline_min:
            raise ConfigError("alerts: need 2 <= si_baseline_min <= si_baseline_sessions")
        if self.balance_low_pct >= self.balance_high_pct:
            raise ConfigError("alerts: balance_low_pct must be below balance_high_pct")


def alert_config(cfg: Config) -> AlertConfig:
    """The ``[alerts]`` table of ``cfg``'s file (defaults without one), env overrides applied."""
    raw: dict[str, Any] = {}
    if cfg.source_path and Path(cfg.source_path).exists():
        try:
            raw = tomllib.loads(Path(cfg.source_path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{cfg.source_path}: {exc}") from None
    return parse_alert_config(raw.get("alerts", {}))


def parse_alert_config(raw: dict[str, Any]) -> AlertConfig:
    known = {f.name: f.type for f in fields(AlertConfig)}
    unknown = set(raw) - set(known)
    if unknown:
        raise ConfigError(f"alerts: unknown key(s) {sorted(unknown)}")
    ac = AlertConfig(**raw)
    ac.webhook_url = os.environ.get("SENSORHUB_ALERT_WEBHOOK_URL", ac.webhook_url)
    return ac
