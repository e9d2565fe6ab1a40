"""Evaluate the rules for an athlete, store alerts (dedup) and queue their delivery.

Day and session rules are replayed over the athlete's whole journal history each time a
session or a day is stored (a few hundred rows: cheap), and the resulting episodes are
reconciled with the ``alerts`` table, so re-ingesting, backfilling or re-evaluating never
duplicates an alert. Live windows are evaluated incrementally against the open alert.

Each new or cleared alert is written as an ``alert`` point through the InfluxDB outbox
and, when a webhook is configured and the event is recent, queued for the webhook.
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..config import AlertConfig, Config
from ..store import Journal, point_line
from .episodes import Episode, episodes
from .rules import (
    DAY_RULES,
    SESSION_RULES,
    Rule,
    day_observations,
    live_balance,
    make_rules,
    session_observations,
)


@dataclass
class AlertEvent:
    """An alert opened or cleared."""

    alert_id: int
    athlete: str
    rule: str
    severity: str
    status: str  # open | cleared | retired (the history no longer has this alert)
    time: pd.Timestamp
    value: float | None
    threshold: float
    message: str

    def text(self) -> str:
        """Slack-compatible one-liner."""
        if self.status in ("cleared", "retired"):
            return f"[sensorhub] {self.athlete}: {self.status}: {self.message}"
        return f"[sensorhub] {self.athlete} ({self.severity}): {self.message}"


class AlertEngine:
    """Rules → alerts for one journal.

    Args:
        cfg: the configuration (athletes' time zones, InfluxDB batch size).
        journal: the journal holding sessions, daily load and the alert tables.
        ac: alert thresholds; by default ``cfg.alerts``.
        now: the current time (tests); decides which events are recent enough to push.
    """

    def __init__(
        self,
        cfg: Config,
        journal: Journal,
        ac: AlertConfig | None = None,
        now: pd.Timestamp | None = None,
    ) -> None:
        self.cfg = cfg
        self.journal = journal
        self.ac = ac or cfg.alerts
        self.rules = make_rules(self.ac)
        self.store = journal.alerts
        self.now = now

    # -- history --------------------------------------------------------------------
    def evaluate_athlete(self, athlete_id: str, in_transaction: bool = False) -> list[AlertEvent]:
        """Replay every day and session rule over the athlete's history; returns new events.

        ``in_transaction``: the caller holds the journal's transaction (the recompute does)."""
        if not self.ac.enabled:
            return []
        obs = {
            **day_observations(self.days(athlete_id), self.ac),
            **session_observations(self.sessions(athlete_id), self.ac),
        }
        events: list[AlertEvent] = []
        with nullcontext() if in_transaction else self.journal.transaction():
            for name in (*DAY_RULES, *SESSION_RULES):
                if name not in self.rules:
                    continue
                rule, o = self.rules[name], obs.get(name)
                eps = episodes(o, rule) if o is not None and len(o) else []
                events += self._reconcile(athlete_id, rule, eps, o)
            self._deliver(events)
        return events

    def days(self, athlete_id: str) -> pd.DataFrame:
        """The stored daily load table, indexed by the UTC time of each local midnight."""
        df = self.journal.daily_load(athlete_id)
        if df.empty:
            return df
        tz = self.cfg.athlete(athlete_id).tz
        idx = df.index.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
        df.index = idx.tz_convert("UTC")
        return df[df.index.notna()]

    def sessions(self, athlete_id: str) -> pd.DataFrame:
        """Sessions with ``id``, ``pain``, ``gct_si_pct``, ``gct_balance_left_pct`` by start."""
        s = self.journal.session_table(athlete_id)
        cols = ["id", "pain", "gct_si_pct", "gct_balance_left_pct"]
        if s.empty:
            return pd.DataFrame(columns=cols, index=pd.DatetimeIndex([], tz="UTC"))
        df = pd.DataFrame({c: s.get(c, np.nan) for c in cols}, index=s.index)
        for c in cols[1:]:
            df[c] = pd.to_numeric(df[c], errors="coerce")
        df.index = pd.DatetimeIndex(s["start"])
        return df.sort_index()

    def _reconcile(
        self, athlete: str, rule: Rule, eps: list[Episode], obs: pd.DataFrame
    ) -> list[AlertEvent]:
        """Make the stored alerts of ``rule`` exactly the episodes of the full history.

        An episode is its ``opened_at``: a stored alert with the same one is that episode and
        takes its values (value, peak, message, cleared_at); a new episode opens an alert; a
        stored alert no episode has any more (history replaced or backfilled in another
        order) is retired: deleted, with an ``alert`` point at its opening time saying so."""
        stored = {r["opened_at"]: r for r in self.store.of_rule(athlete, rule.name)}
        events: list[AlertEvent] = []
        for ep in eps:
            row = stored.pop(ep.opened_at.isoformat(), None)
            if row is None:
                events += self._open(athlete, ep)
                if not ep.open:
                    events.append(
                        self._clear(
                            athlete, rule, events[-1].alert_id, ep.cleared_at, ep.cleared_value
                        )
                    )
                continue
            events += self._match(athlete, rule, row, ep)
        for row in stored.values():
            events.append(self._retire(athlete, rule, row))
        return events

    def _match(self, athlete: str, rule: Rule, row: Any, ep: Episode) -> list[AlertEvent]:
        """Bring a stored alert to its episode's values; events when its state changed."""
        self.store.update(
            row["id"],
            value=ep.value,
            peak=ep.peak,
            message=ep.message,
            ref=ep.ref,
            threshold=ep.threshold,
            severity=ep.severity,
        )
        if ep.open and row["cleared_at"] is not None:  # cleared before, open again now
            self.store.update(row["id"], cleared_at=None, cleared_value=None)
            return [self._event(athlete, row["id"], ep, "open", ep.opened_at, ep.value)]
        if ep.open:
            return []
        if row["cleared_at"] != ep.cleared_at.isoformat() or row["cleared_value"] != (
            ep.cleared_value
        ):
            return [self._clear(athlete, rule, row["id"], ep.cleared_at, ep.cleared_value)]
        return []

    def _retire(self, athlete: str, rule: Rule, row: Any) -> AlertEvent:
        """Delete an alert the history no longer has (and its unsent webhooks)."""
        self.store.delete(row["id"])
        t = pd.Timestamp(row["opened_at"])
        return AlertEvent(
            0,
            athlete,
            rule.name,
            row["severity"],
            "retired",
            t,
            row["value"],
            rule.threshold,
            row["message"],
        )

    def _event(
        self, athlete: str, alert_id: int, ep: Episode, status: str, t: pd.Timestamp, v: Any
    ) -> AlertEvent:
        return AlertEvent(
            alert_id, athlete, ep.rule, ep.severity, status, t, v, ep.threshold, ep.message
        )

    # -- live -----------------------------------------------------------------------
    def evaluate_live(
        self, athlete_id: str, window: pd.DataFrame, t: pd.Timestamp | None = None
    ) -> list[AlertEvent]:
        """Evaluate the live rules on a window of samples (``run`` rows with
        ``gct_balance_left_pct``, or ``stride`` rows with ``side`` and ``gct_ms``)."""
        rule = self.rules["live_gct_balance"]
        value = live_balance(window)
        if not self.ac.enabled or not np.isfinite(value):
            return []
        t = t if t is not None else (window.index.max() if len(window) else self._now())
        obs = pd.DataFrame({"value": [value], "ref": ["live"]}, index=pd.DatetimeIndex([t]))
        with self.journal.transaction():
            open_row = self.store.open_alert(athlete_id, rule.name)
            events: list[AlertEvent] = []
            for ep in episodes(obs, rule, is_open=open_row is not None):
                if ep.open:
                    events += self._open(athlete_id, ep)
                elif open_row is not None:
                    events.append(self._clear(athlete_id, rule, open_row["id"], t, value))
            self._deliver(events)
        return events

    # -- events ---------------------------------------------------------------------
    def _open(self, athlete: str, ep: Episode) -> list[AlertEvent]:
        row = {k: v for k, v in asdict(ep).items() if k not in ("cleared_at", "cleared_value")}
        alert_id = self.store.add(athlete, row)
        return [
            AlertEvent(
                alert_id,
                athlete,
                ep.rule,
                ep.severity,
                "open",
                ep.opened_at,
                ep.value,
                ep.threshold,
                ep.message,
            )
        ]

    def _clear(
        self, athlete: str, rule: Rule, alert_id: int, t: pd.Timestamp, value: float | None
    ) -> AlertEvent:
        self.store.clear(alert_id, t, value)
        msg = self.store.get(alert_id)["message"]
        return AlertEvent(
            alert_id, athlete, rule.name, rule.severity, "cleared", t, value, rule.threshold, msg
        )

    def _deliver(self, events: list[AlertEvent]) -> None:
        """``alert`` points into the outbox; recent events into the webhook queue."""
        lines = [alert_line(e) for e in events]
        self.journal.outbox.enqueue(
            "alert", [ln for ln in lines if ln], self.cfg.influx.batch_points
        )
        if not self.ac.webhook_url:
            return
        now = self._now()
        max_age = pd.Timedelta(hours=self.ac.notify_max_age_h)
        for e in events:
            if self.ac.notify_max_age_h <= 0 or now - e.time <= max_age:
                alert_id = e.alert_id or None  # a retired alert's row is gone
                self.store.queue_webhook(alert_id, json.dumps(webhook_body(e)), now)

    def _now(self) -> pd.Timestamp:
        return self.now if self.now is not None else pd.Timestamp.now(tz="UTC")


def alert_line(e: AlertEvent) -> str | None:
    """The ``alert`` point of an event (tags athlete, rule, severity; ``open`` 1 or 0)."""
    fields: dict[str, Any] = {
        "value": e.value,
        "threshold": e.threshold,
        "message": ("" if e.status == "open" else f"{e.status}: ") + e.message,
        "open": 1.0 if e.status == "open" else 0.0,
        "alert_id": float(e.alert_id),
    }
    tags = {"athlete": e.athlete, "rule": e.rule, "severity": e.severity}
    return point_line("alert", tags, fields, e.time)


def webhook_body(e: AlertEvent) -> dict[str, Any]:
    """JSON for the webhook: Slack-compatible ``text`` plus the structured event."""
    return {
        "text": e.text(),
        "sensorhub": {
            "alert_id": e.alert_id,
            "athlete": e.athlete,
            "rule": e.rule,
            "severity": e.severity,
            "status": e.status,
            "time": e.time.isoformat(),
            "value": e.value,
            "threshold": e.threshold,
            "message": e.message,
        },
    }
