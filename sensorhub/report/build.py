"""Self-contained HTML reports from the journal: inline SVG, inline CSS, no JavaScript or CDN.

* :func:`session_report`: one session: summary, plots of the run (re-decoded from the source
  file stored in ``sources.path`` when it is still there), its load context and alerts.
* :func:`range_report`: an athlete over a date range: daily load and ACWR with the 0.8–1.3
  band, acute/chronic, monotony, GCT-balance trend, sessions and alerts.
"""

from __future__ import annotations

from dataclasses import asdict
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import Config
from ..store import Journal
from .svg import Chart

CSS = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#222;background:#fafafa}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:26px 0 8px;border-bottom:2px solid #1f77b4}
.muted{fill:#888;color:#777}.note{color:#666;font-size:12px}
svg{display:block;margin:8px 0;border:1px solid #ddd;background:#fff}
svg .title{font:600 13px system-ui,sans-serif;fill:#222}svg .tick{font:11px system-ui,sans-serif;fill:#555}
table{border-collapse:collapse;font-size:12.5px;background:#fff}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#eef3f8}
td:first-child,th:first-child{text-align:left}
.cards{display:flex;flex-wrap:wrap;gap:10px}.card{background:#fff;border:1px solid #ddd;padding:8px 14px;min-width:120px}
.card b{display:block;font-size:20px}.open{color:#c62828;font-weight:600}
"""
ACWR_BAND = (0.8, 1.3, "#2ca02c")
BALANCE_BAND = (48.0, 52.0, "#2ca02c")
RUN_PLOTS = [
    ("speed_mps", "Pace", "s/km"),
    ("hr_bpm", "Heart rate", "bpm"),
    ("cadence_spm", "Cadence", "steps/min"),
    ("gct_ms", "Ground contact time", "ms"),
    ("gct_balance_left_pct", "GCT balance", "% left"),
    ("vo_mm", "Vertical oscillation", "mm"),
    ("vertical_ratio_pct", "Vertical ratio", "%"),
    ("power_w", "Power", "W"),
]


# -- reports ---------------------------------------------------------------------------------
def session_report(cfg: Config, journal: Journal, session_id: str) -> str:
    """HTML for one session (``session_id`` or a unique prefix)."""
    row = journal.find_session(session_id)
    s = asdict(row)
    summary = row.summary
    start = row.start
    sections = [_cards(s, summary)]
    run, note = _run_frame(journal, s)
    sections.append("<h2>The run</h2>" + (f'<p class="note">{escape(note)}</p>' if note else ""))
    if run is not None:
        sections += [
            _run_chart(run, col, title, unit)
            for col, title, unit in RUN_PLOTS
            if col in run and run[col].notna().any()
        ]
    lo, hi = start - pd.Timedelta(days=42), start + pd.Timedelta(days=7)
    sections.append(
        "<h2>Load around this session</h2>" + _load_charts(journal, s["athlete"], lo, hi)
    )
    sections.append(_alerts(journal, s["athlete"], lo, hi))
    title = f"{s['athlete']} · {s['sport']} · {start.strftime('%Y-%m-%d %H:%M')} UTC"
    return _page(title, sections)


def range_report(
    cfg: Config, journal: Journal, athlete: str, start: str | None = None, end: str | None = None
) -> str:
    """HTML for an athlete from ``start`` to ``end`` (ISO dates; default: the last 90 days)."""
    daily = journal.daily_load(athlete)
    sessions = journal.sessions(athlete)
    if sessions.empty:
        raise KeyError(f"no sessions for athlete {athlete!r}")
    t1 = pd.Timestamp(end, tz="UTC") + pd.Timedelta(days=1) if end else _last(daily, sessions)
    t0 = pd.Timestamp(start, tz="UTC") if start else t1 - pd.Timedelta(days=90)
    sections = [
        "<h2>Training load</h2>" + _load_charts(journal, athlete, t0, t1),
        "<h2>Asymmetry trend</h2>" + _asymmetry_chart(sessions, t0, t1),
        "<h2>Sessions</h2>" + _sessions_table(sessions, t0, t1),
        _alerts(journal, athlete, t0, t1),
    ]
    title = f"{athlete} · {t0.strftime('%Y-%m-%d')} to {(t1 - pd.Timedelta(days=1)).strftime('%Y-%m-%d')}"
    return _page(title, sections)


# -- sections --------------------------------------------------------------------------------
def _page(title: str, sections: list[str]) -> str:
    body = "\n".join(sections)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>sensorhub · {escape(title)}</title><style>{CSS}</style></head><body>"
        f'<h1>sensorhub · {escape(title)}</h1><p class="note">Generated '
        f"{pd.Timestamp.now(tz='UTC').strftime('%Y-%m-%d %H:%M')} UTC. ACWR describes load "
        f"change, not injury risk (Impellizzeri 2020).</p>{body}</body></html>"
    )


def _cards(s: dict, summary: dict) -> str:
    items = [
        ("Duration", _num(s["duration_s"], 60, "min")),
        ("Distance", _num(s["distance_m"], 1000, "km", 2)),
        ("Load", f"{_num(s['load'])} ({s['load_method'] or '-'})"),
        ("HR avg", _num(summary.get("hr_avg_bpm"), unit="bpm")),
        ("Cadence", _num(summary.get("cadence_spm"), unit="spm")),
        ("GCT", _num(summary.get("gct_ms"), unit="ms")),
        ("GCT balance", _num(summary.get("gct_balance_left_pct"), unit="% L", digits=1)),
        ("RPE", _num(s["rpe"], digits=1)),
        ("Pain", _num(s["pain"], digits=1)),
    ]
    cards = "".join(f'<div class="card">{escape(k)}<b>{escape(v)}</b></div>' for k, v in items)
    return f'<p class="note">session {escape(s["id"])}</p><div class="cards">{cards}</div>'


def _run_frame(journal: Journal, s: dict) -> tuple[pd.DataFrame | None, str]:
    """The session's records, re-decoded from its source file."""
    src = journal.source(s["source_id"])
    path = Path(src["path"]) if src else None
    if path is None or not path.is_file():
        return None, f"Source file {path} is no longer there: run plots left out."
    import drivers.fit

    from ..normalise import sessions as split_sessions

    start = pd.Timestamp(s["start"])
    for sf in split_sessions(drivers.fit.decode(path)):
        if abs((sf.start - start).total_seconds()) < 1:
            return sf.run, f"Records re-decoded from {path.name}."
    return None, f"Session not found again in {path.name}: run plots left out."


def _run_chart(run: pd.DataFrame, col: str, title: str, unit: str) -> str:
    y = run[col].astype(float)
    if col == "speed_mps":
        y = (1000.0 / y.where(y > 0.5)).rolling(6, min_periods=1).median()
    chart = Chart(title, unit, height=170)
    if col == "gct_balance_left_pct":
        chart.bands.append(BALANCE_BAND)
    return chart.add(title, run.index, y.where(y > 0)).svg()


def _load_charts(journal: Journal, athlete: str, t0: pd.Timestamp, t1: pd.Timestamp) -> str:
    daily = journal.daily_load(athlete)
    if daily.empty:
        return '<p class="note">No daily load yet.</p>'
    idx = daily.index.tz_localize("UTC")
    d = daily[(idx >= t0.floor("D")) & (idx < t1)]
    x = d.index
    load = Chart("Daily load and acute/chronic", "AU").add(
        "daily load", x, d["daily_load"], "bars", "#9ecae1"
    )
    load.add("acute 7 d", x, d["acute"], color="#d62728").add(
        "chronic 28 d", x, d["chronic"], color="#1f77b4"
    )
    acwr = Chart("ACWR (band 0.8–1.3)", bands=[ACWR_BAND])
    for col, color in (("acwr_rac", "#d62728"), ("acwr_rau", "#ff7f0e"), ("acwr_ewma", "#9467bd")):
        acwr.add(col.removeprefix("acwr_"), x, d[col], color=color)
    mono = Chart("Monotony (Foster)", bands=[(2.0, 2.0, "#d62728")]).add(
        "monotony", x, d["monotony"]
    )
    pmc = Chart("CTL / ATL / TSB", "AU/day")
    for col in ("ctl", "atl", "tsb"):
        pmc.add(col.upper(), x, d[col])
    return "".join(c.svg() for c in (load, acwr, mono, pmc))


def _asymmetry_chart(sessions: pd.DataFrame, t0: pd.Timestamp, t1: pd.Timestamp) -> str:
    s = _in_range(sessions, t0, t1)
    summ = pd.DataFrame(list(s["summary"]), index=s.index)
    if "gct_balance_left_pct" not in summ:
        return '<p class="note">No GCT balance recorded.</p>'
    x = pd.to_datetime(s["start"], utc=True, format="ISO8601")
    chart = Chart("GCT balance per session (band 48–52)", "% left", bands=[BALANCE_BAND])
    return chart.add("balance", x, summ["gct_balance_left_pct"], "points").svg()


def _sessions_table(sessions: pd.DataFrame, t0: pd.Timestamp, t1: pd.Timestamp) -> str:
    s = _in_range(sessions, t0, t1)
    summ = pd.DataFrame(list(s["summary"]), index=s.index)
    rows = "".join(
        f"<tr><td>{escape(r['start'][:16].replace('T', ' '))}</td><td>{escape(r['id'])}</td>"
        f"<td>{_num(r['duration_s'], 60)}</td><td>{_num(r['distance_m'], 1000, digits=2)}</td>"
        f"<td>{_num(r['load'])}</td><td>{_num(r['rpe'], digits=1)}</td>"
        f"<td>{_num(r['pain'], digits=1)}</td>"
        f"<td>{_num(summ.loc[i].get('gct_balance_left_pct'), digits=1)}</td></tr>"
        for i, r in s.iterrows()
    )
    head = "<tr><th>start (UTC)</th><th>id</th><th>min</th><th>km</th><th>load</th><th>RPE</th><th>pain</th><th>GCT bal. %L</th></tr>"
    return f"<table>{head}{rows}</table>"


def _alerts(journal: Journal, athlete: str, t0: pd.Timestamp, t1: pd.Timestamp) -> str:
    df = journal.alerts.frame(athlete)
    if not df.empty:
        opened = pd.to_datetime(df["opened_at"], utc=True, format="ISO8601")
        df = df[(opened >= t0) & (opened < t1)]
    if df.empty:
        return '<h2>Alerts</h2><p class="note">No alerts in this period.</p>'
    rows = "".join(
        f"<tr><td>{escape(r['opened_at'][:16].replace('T', ' '))}</td><td>{escape(r['rule'])}</td>"
        f'<td>{escape(r["severity"])}</td><td style="text-align:left">{escape(r["message"])}</td>'
        + (
            f"<td>{escape(str(r['cleared_at'])[:10])}</td>"
            if r["cleared_at"]
            else '<td class="open">open</td>'
        )
        + "</tr>"
        for r in df.to_dict("records")
    )
    head = "<tr><th>opened (UTC)</th><th>rule</th><th>severity</th><th>message</th><th>cleared</th></tr>"
    return f"<h2>Alerts</h2><table>{head}{rows}</table>"


# -- helpers ---------------------------------------------------------------------------------
def _in_range(sessions: pd.DataFrame, t0: pd.Timestamp, t1: pd.Timestamp) -> pd.DataFrame:
    start = pd.to_datetime(sessions["start"], utc=True, format="ISO8601")
    return sessions[(start >= t0) & (start < t1)]


def _last(daily: pd.DataFrame, sessions: pd.DataFrame) -> pd.Timestamp:
    last = pd.to_datetime(sessions["start"], utc=True, format="ISO8601").max()
    return last.floor("D") + pd.Timedelta(days=2)


def _num(v, div: float = 1.0, unit: str = "", digits: int = 0) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "-"
    return f"{float(v) / div:.{digits}f}" + (f" {unit}" if unit else "")
