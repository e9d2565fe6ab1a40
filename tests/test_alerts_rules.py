"""Alert rules on constructed histories: spike, recovery, baseline shift, pain; dedup and
hysteresis through the engine and the journal."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sensorhub import load as loadlib
from sensorhub.alerts import AlertConfig, AlertEngine, episodes, make_rules, parse_alert_config
from sensorhub.alerts.rules import day_observations, live_balance, session_observations
from sensorhub.config import ConfigError
from sensorhub.store import Journal, SessionRow

AC = AlertConfig()
RULES = make_rules(AC)
DAY0 = pd.Timestamp("2026-01-05")


def daily_table(loads: list[float]) -> pd.DataFrame:
    daily = pd.Series(loads, index=pd.date_range(DAY0, periods=len(loads), freq="D"))
    return loadlib.load_table(daily)


def utc(table: pd.DataFrame) -> pd.DataFrame:
    t = table.copy()
    t.index = t.index.tz_localize("UTC")
    return t


def steady_then_spike(spike_from: int = 42, days: int = 70) -> list[float]:
    """5 runs a week of varying load, then a week at 2.5× from ``spike_from``, then normal."""
    week = [60, 0, 45, 70, 0, 50, 90]
    loads = [float(week[i % 7]) for i in range(days)]
    for i in range(spike_from, min(spike_from + 7, days)):
        loads[i] = 2.5 * loads[i] + (40.0 if loads[i] == 0 else 0.0)
    return loads


def test_acwr_spike_fires_once_and_clears_after_recovery():
    obs = day_observations(utc(daily_table(steady_then_spike())), AC)["acwr_spike"]
    eps = episodes(obs, RULES["acwr_spike"])
    assert len(eps) == 1
    ep = eps[0]
    assert ep.opened_at.date() >= (DAY0 + pd.Timedelta(days=42)).date()
    assert ep.value > 1.5 and ep.peak >= ep.value
    assert ep.cleared_at is not None and ep.cleared_value <= AC.acwr_clear
    assert "load spike" in ep.message and "injury" not in ep.message.lower()


def test_no_acwr_alert_while_warming_up_or_steady():
    loads = steady_then_spike(spike_from=10, days=27)  # spike inside the first 28 days
    obs = day_observations(utc(daily_table(loads)), AC)
    assert obs["acwr_spike"].empty  # no ratio before 28 days ("warming up")
    steady = day_observations(utc(daily_table(steady_then_spike(spike_from=999))), AC)
    assert not episodes(steady["acwr_spike"], RULES["acwr_spike"])
    assert not episodes(steady["load_increase"], RULES["load_increase"])


def test_week_over_week_increase():
    obs = day_observations(utc(daily_table(steady_then_spike())), AC)["load_increase"]
    eps = episodes(obs, RULES["load_increase"])
    assert len(eps) == 1 and eps[0].value > 30
    assert eps[0].message.startswith("load spike: 7-day load")


def test_monotony_rule_on_identical_days():
    loads = [60.0, 0, 45, 70, 0, 50, 90] * 5 + [61.0, 60, 59, 60, 61, 60, 59] * 2
    obs = day_observations(utc(daily_table(loads)), AC)["monotony"]
    eps = episodes(obs, RULES["monotony"])
    assert len(eps) == 1 and eps[0].value > 2.0 and eps[0].open


def sessions_frame(balances: list[float], pains: list[float | None] | None = None) -> pd.DataFrame:
    idx = pd.date_range("2026-03-01 07:00", periods=len(balances), freq="2D", tz="UTC")
    b = np.array(balances, dtype=float)
    return pd.DataFrame(
        {
            "id": [f"s{i:02d}" for i in range(len(b))],
            "gct_balance_left_pct": b,
            "gct_si_pct": 4 * (b - 50),
            "pain": pains or [np.nan] * len(b),
        },
        index=idx,
    )


def test_asymmetry_baseline_shift_alerts_on_the_first_shifted_session():
    rng = np.random.default_rng(1)
    base = list(50 + rng.normal(0, 0.15, 12))
    shifted = list(52.5 + rng.normal(0, 0.15, 8))
    obs = session_observations(sessions_frame(base + shifted), AC)
    eps = episodes(obs["gct_asymmetry_baseline"], RULES["gct_asymmetry_baseline"])
    assert eps and eps[0].ref == "s12"  # the first session at 52.5 %
    assert eps[0].value > 2
    # the absolute band opens on the same session and stays open while outside 48–52 %
    band = episodes(obs["gct_balance_band"], RULES["gct_balance_band"])
    assert len(band) == 1 and band[0].ref == "s12" and band[0].open


def test_asymmetry_needs_enough_baseline_sessions():
    obs = session_observations(sessions_frame([50.0, 50.1, 49.9, 50.0, 53.0]), AC)
    assert obs["gct_asymmetry_baseline"].empty  # 4 previous sessions < si_baseline_min
    obs = session_observations(sessions_frame([50.0, 50.1, 49.9, 50.0, 50.05, 53.0]), AC)
    assert len(obs["gct_asymmetry_baseline"]) == 1


def test_sd_floor_keeps_a_very_steady_athlete_from_alerting_on_noise():
    obs = session_observations(sessions_frame([50.0] * 10 + [50.2]), AC)
    z = obs["gct_asymmetry_baseline"]["value"].iloc[-1]
    assert z == pytest.approx(0.8)  # 0.8 pp SI / 1.0 pp floor, not 0.8 / 0


def test_band_hysteresis_needs_margin_to_clear():
    obs = session_observations(sessions_frame([50, 52.3, 51.9, 51.6, 51.4]), AC)["gct_balance_band"]
    (ep,) = episodes(obs, RULES["gct_balance_band"])
    assert ep.ref == "s01" and ep.cleared_at == obs.index[4]  # 51.9 and 51.6 keep it open


def test_pain_rule():
    obs = session_observations(sessions_frame([50] * 4, [2, 5, None, 1]), AC)["pain"]
    (ep,) = episodes(obs, RULES["pain"])
    assert ep.value == 5 and ep.cleared_value == 1 and ep.severity == "critical"


def test_live_balance_from_run_or_strides():
    assert live_balance(pd.DataFrame({"gct_balance_left_pct": [52.0, 54.0, 0.0]})) == 53.0
    strides = pd.DataFrame({"side": ["L", "R"] * 3, "gct_ms": [260, 240] * 3})
    assert live_balance(strides) == pytest.approx(52.0)
    assert np.isnan(live_balance(pd.DataFrame({"hr_bpm": [120]})))


def test_config_table_and_validation():
    ac = parse_alert_config({"acwr_max": 1.4, "acwr_field": "acwr_ewma", "pain_min": 6})
    assert (ac.acwr_max, ac.acwr_field, ac.pain_min) == (1.4, "acwr_ewma", 6)
    with pytest.raises(ConfigError):
        parse_alert_config({"acwr_maxx": 1.4})
    with pytest.raises(ConfigError):
        parse_alert_config({"balance_low_pct": 53})


# -- through the engine and the journal ----------------------------------------------------
@pytest.fixture
def journal(cfg) -> Journal:
    return Journal(cfg.journal_path)


def add_sessions(journal: Journal, athlete: str, frame: pd.DataFrame) -> None:
    with journal.transaction():
        src = journal.add_source(
            path="x.fit",
            sha256=f"sha-{athlete}-{len(frame)}-{frame.index[0]}",
            kind="fit",
            athlete=athlete,
            ingested_at="2026-01-01",
            n_sessions=len(frame),
            n_records=0,
        )
        for t, r in frame.iterrows():
            summary = {k: r[k] for k in ("gct_balance_left_pct", "gct_si_pct")}
            journal.add_session(
                SessionRow(
                    id=r["id"],
                    source_id=src,
                    athlete=athlete,
                    sport="running",
                    start=t,
                    end=t,
                    day=t.strftime("%Y-%m-%d"),
                    pain=None if pd.isna(r["pain"]) else r["pain"],
                    summary=summary,
                )
            )


def outbox_alert_lines(journal: Journal) -> list[str]:
    return [
        ln
        for b in journal.outbox.batches()
        if b.measurement == "alert"
        for ln in b.body.split("\n")
    ]


def test_engine_dedups_across_growing_history_and_reevaluation(cfg, journal):
    loads = steady_then_spike()
    engine = AlertEngine(cfg, journal, ac=AC)
    # the history arrives day by day (as a daily sync would): one alert, opened then cleared
    opened = cleared = 0
    for n in range(40, len(loads) + 1, 3):
        journal.replace_daily_load("ana", daily_table(loads[:n]))
        for e in engine.evaluate_athlete("ana"):
            if e.rule == "acwr_spike":
                opened += e.status == "open"
                cleared += e.status == "cleared"
    assert (opened, cleared) == (1, 1)
    alerts = engine.store.frame("ana")
    assert (alerts["rule"] == "acwr_spike").sum() == 1
    assert engine.evaluate_athlete("ana") == []  # re-evaluating changes nothing
    lines = [ln for ln in outbox_alert_lines(journal) if "rule=acwr_spike" in ln]
    assert len(lines) == 2 and "open=1.0" in lines[0] and "open=0.0" in lines[1]
    assert lines[0].startswith("alert,athlete=ana,rule=acwr_spike,severity=warning ")


def test_engine_keeps_one_open_alert_until_it_clears(cfg, journal):
    engine = AlertEngine(cfg, journal, ac=AC)
    add_sessions(journal, "ben", sessions_frame([50.0] * 6 + [52.6, 52.7]))
    events = engine.evaluate_athlete("ben")
    assert sorted(e.rule for e in events) == ["gct_asymmetry_baseline", "gct_balance_band"]
    add_sessions(journal, "ben", sessions_frame([50.0] * 6 + [52.6, 52.7, 52.5, 52.8]))
    assert [e.rule for e in engine.evaluate_athlete("ben") if e.status == "open"] == []
    assert len(engine.store.frame("ben", open_only=True)) >= 1
    band = engine.store.frame("ben")
    assert (band["rule"] == "gct_balance_band").sum() == 1
    # back to 50 %: the band alert clears, once
    add_sessions(journal, "ben", sessions_frame([50.0] * 6 + [52.6, 52.7, 52.5, 52.8, 50.1]))
    events = engine.evaluate_athlete("ben")
    assert [(e.rule, e.status) for e in events if e.rule == "gct_balance_band"] == [
        ("gct_balance_band", "cleared")
    ]
    assert engine.evaluate_athlete("ben") == []


def test_live_window_alert_is_deduplicated_and_clears(cfg, journal):
    engine = AlertEngine(cfg, journal, ac=AC)
    t = pd.Timestamp("2026-03-01 07:00", tz="UTC")
    off = pd.DataFrame({"gct_balance_left_pct": [53.0] * 10})
    ok = pd.DataFrame({"gct_balance_left_pct": [50.2] * 10})
    assert [e.status for e in engine.evaluate_live("ben", off, t)] == ["open"]
    assert engine.evaluate_live("ben", off, t + pd.Timedelta(seconds=30)) == []
    assert [e.status for e in engine.evaluate_live("ben", ok, t + pd.Timedelta(minutes=1))] == [
        "cleared"
    ]
    assert engine.evaluate_live("ben", ok, t + pd.Timedelta(minutes=2)) == []
    (row,) = engine.store.frame("ben").to_dict("records")
    assert row["rule"] == "live_gct_balance" and row["cleared_at"] is not None


def test_webhook_queue_only_for_recent_events(cfg, journal):
    ac = AlertConfig(webhook_url="http://127.0.0.1:9/hook", notify_max_age_h=72)
    now = pd.Timestamp("2026-03-20", tz="UTC")
    engine = AlertEngine(cfg, journal, ac=ac, now=now)
    old = pd.DataFrame({"gct_balance_left_pct": [53.0]})
    engine.evaluate_live("ana", old, now - pd.Timedelta(days=10))  # backfilled: stored only
    assert engine.store.webhook_stats()["waiting"] == 0
    engine.evaluate_live("ben", old, now - pd.Timedelta(hours=1))
    (item,) = engine.store.due_webhooks(now, 10)
    body = json.loads(item.body)
    assert body["text"].startswith("[sensorhub] ben (info): live: GCT balance 53.0 % left")
    assert body["sensorhub"]["rule"] == "live_gct_balance" and body["sensorhub"]["status"] == "open"


def test_no_week_on_week_load_spike_while_warming_up_or_rebuilding():
    """A staged return (or the first weeks of a history) grows week on week by design: the
    demo's return-to-run athlete got a load_increase alert every other day."""
    days = pd.date_range("2026-10-19", periods=35, freq="D", tz="UTC")
    load = pd.Series([0.0, 20.0] * 17 + [0.0], index=days) * np.linspace(1, 3, 35)
    table = pd.DataFrame({"daily_load": load})
    table["acwr_status"] = ["warming up"] * 27 + ["rebuilding"] * 8
    assert day_observations(table, AC)["load_increase"].empty
    table["acwr_status"] = "ok"  # the same growth in an established history still fires
    assert not day_observations(table, AC)["load_increase"].empty
