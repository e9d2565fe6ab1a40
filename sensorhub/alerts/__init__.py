"""Alerts: rules over sessions, daily load and live windows; dedup; delivery.

Rules (thresholds in the ``[alerts]`` table, see docs/alerts.md): load spike (ACWR above a
threshold; 7-day load up more than a percentage on the previous 7 days), monotony (Foster
1998), GCT asymmetry departing from the athlete's own rolling baseline (z-score) and an
absolute GCT-balance band, pain reported after a session. Alerts speak of load change,
never of injury risk (Impellizzeri et al. 2020).

Delivery: ``alert`` points through the InfluxDB outbox, and a webhook (Slack-compatible
JSON) through a durable queue in the journal.
"""

from .config import AlertConfig, alert_config, parse_alert_config
from .engine import AlertEngine, AlertEvent, alert_line, webhook_body
from .episodes import Episode, episodes
from .rules import DAY_RULES, LIVE_RULES, SESSION_RULES, Rule, make_rules
from .webhook import WebhookReport, WebhookSender

__all__ = [
    "AlertConfig",
    "AlertEngine",
    "AlertEvent",
    "DAY_RULES",
    "Episode",
    "LIVE_RULES",
    "Rule",
    "SESSION_RULES",
    "WebhookReport",
    "WebhookSender",
    "alert_config",
    "alert_line",
    "episodes",
    "make_rules",
    "parse_alert_config",
    "webhook_body",
]
