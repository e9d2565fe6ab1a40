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
from .rules import Rule, day_observations, live_balance, make_rules, session_observations


@dataclass
class AlertEvent:
    """An alert opened or cleared."""

    alert_id: int
    athlete: str
    rule: str
    severity: str
    status: str  # open | cleared
    time: pd.Timestamp
    value: float | None
    threshold: float
    message: str

    def text(self) -> str:
        """Slack-compatible one-liner."""
        if self.status == "cleared":
            return f"[sensorhub] {self.athlete}: cleared: {self.message}"
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
            for name, o in obs.items():
                rule = self.rules[name]
                events += self._reconcile(athlete_id, rule, episodes(o, rule), o)
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
        stored = self.store.of_rule(athlete, rule.name)
        by_open = {r["opened_at"]: r for r in stored}
        open_row = next((r for r in reversed(stored) if r["cleared_at"] is None), None)
        kept_open, events = None, []
        for ep in eps:
            row = by_open.get(ep.opened_at.isoformat())
            if row is None and ep.open and open_row is not None:
                row = open_row  # still the same episode: one alert until it clears
            if row is None:
                events += self._open(athlete, ep)
                row_id = events[-1].alert_id
            else:
                row_id = row["id"]
                self.store.update_peak(row_id, ep.peak)
            if ep.open:
                kept_open = row_id
            elif row is None or row["cleared_at"] is None:
                events.append(self._clear(athlete, rule, row_id, ep.cleared_at, ep.cleared_value))
        stale = open_row is not None and open_row["id"] != kept_open
        if stale and not any(e.alert_id == open_row["id"] for e in events):
            # the replayed history no longer has this episode open (e.g. data replaced)
            t = obs.index.max() if len(obs) else self._now()
            events.append(self._clear(athlete, rule, open_row["id"], t, None))
        return events

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
                self.store.queue_webhook(e.alert_id, json.dumps(webhook_body(e)), now)

    def _now(self) -> pd.Timestamp:
        return self.now if self.now is not None else pd.Timestamp.now(tz="UTC")


def alert_line(e: AlertEvent) -> str | None:
    """The ``alert`` point of an event (tags athlete, rule, severity; ``open`` 1 or 0)."""
    fields: dict[str, Any] = {
        "value": e.value,
        "threshold": e.threshold,
        "message": ("cleared: " if e.status == "cleared" else "") + e.message,
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
