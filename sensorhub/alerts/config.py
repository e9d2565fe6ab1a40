"""Alert thresholds: the ``[alerts]`` table of the configuration (all keys optional).

The settings are part of the one configuration object (:class:`sensorhub.config.AlertConfig`,
validated when the file is loaded); defaults and their sources are in docs/alerts.md.
``$SENSORHUB_ALERT_WEBHOOK_URL`` overrides ``webhook_url`` (a secret: it is never logged).
"""

from __future__ import annotations

from ..config import AlertConfig, Config, parse_alert_config

ACWR_FIELDS = ("acwr_rac", "acwr_rau", "acwr_ewma")


def alert_config(cfg: Config) -> AlertConfig:
    """The alert settings of ``cfg``."""
    return cfg.alerts


__all__ = ["ACWR_FIELDS", "AlertConfig", "alert_config", "parse_alert_config"]
