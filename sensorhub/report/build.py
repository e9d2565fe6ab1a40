"""Self-contained HTML reports from the journal: inline SVG, inline CSS, no JavaScript or CDN.

* :func:`session_report`: one session of any kind: summary cards; for a FIT run its records
  (re-decoded from the file in ``sources.path`` when it is still there), laps, HR zones and
  route; for an IMU session its steps (re-detected from the recording) and asymmetry; for a
  live BLE session the summary; then its load context and alerts.
* :func:`range_report`: an athlete over a date range: weekly volume, daily load and ACWR with
  the 0.8–1.3 reference band, acute/chronic, monotony, GCT-balance and pain/RPE trends,
  sessions and alerts; for an athlete on a return-to-run plan its current stage, decision and
  stage changes with the pain timeline (:mod:`.plans`), and any readiness tests.

Times are shown in the athlete's zone (``tz`` in the config) and the page says which.
"""

from __future__ import annotations

from html import escape

import pandas as pd

from ..config import Config
from ..store import Journal
from . import plans as rtr
from . import sections as sec
from .data import recording, weekly
from .units import unit_of

CSS = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#222;background:#fafafa}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:26px 0 8px;border-bottom:2px solid #1f77b4}h3{font-size:15px;margin:18px 0 6px}
.muted{fill:#888;color:#777}.note{color:#666;font-size:12px;max-width:1080px}
svg{display:block;margin:8px 0;border:1px solid #ddd;background:#fff}
svg .title{font:600 13px system-ui,sans-serif;fill:#222}svg .tick{font:11px system-ui,sans-serif;fill:#555}
table{border-collapse:collapse;font-size:12.5px;background:#fff}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:right;white-space:nowrap}th{background:#eef3f8}
td.text,th.text{text-align:left;white-space:normal}
td:first-child,th:first-child{text-align:left}
.cards{display:flex;flex-wrap:wrap;gap:10px}.card{background:#fff;border:1px solid #ddd;padding:8px 14px;min-width:120px}
.card b{display:block;font-size:20px}.open{color:#c62828;font-weight:600}
.bar{display:inline-block;height:10px;background:#d62728}
"""
KIND_LABEL = {"fit": "FIT file", "imu": "IMU recording", "live": "live BLE", "other": "source"}


def session_report(cfg: Config, journal: Journal, session_id: str) -> str:
    """HTML for one session (``session_id`` or a unique prefix) of any source kind."""
    row = journal.find_session(session_id)
    athlete = cfg.athlete(row.athlete)
    tz = athlete.tz
    src = journal.source(row.source_id) if row.source_id is not None else None
    src = dict(src) if src else None
    rec = recording(src, row)
    unit = unit_of(cfg)
    parts = [
        f'<p class="note">session {escape(row.id)} · {KIND_LABEL[rec.kind]}'
        f"{' · ' + escape(src['kind']) if src and src['kind'] not in ('fit', 'ble') else ''}"
        f" · times in {escape(tz)}</p>",
        sec.session_cards(row, rec.kind, unit),
    ]
    if row.summary.get("load_status"):
        parts.append(
            f'<p class="note">Load {escape(str(row.summary["load_status"]))} in the athlete\'s '
            f"series method ({escape(row.load_method or '-')}).</p>"
        )
    parts.append("<h2>The session</h2>" + f'<p class="note">{escape(rec.note)}</p>')
    if rec.kind == "imu" or "gct_ms_left" in row.summary:  # live sessions with two pods too
        parts += sec.imu_sections(rec, row.summary, tz)
    if rec.run is not None:
        parts += sec.run_charts(rec.run, tz, unit)
        parts.append(sec.laps_table(rec.laps, tz, unit))
        parts.append(sec.hr_zone_table(rec.run, athlete.hr_max))
        parts.append(sec.route(rec.run, unit))
    lo, hi = row.start - pd.Timedelta(days=42), row.start + pd.Timedelta(days=7)
    parts.append(
        "<h2>Load around this session</h2>"
        + sec.load_charts(journal, row.athlete, lo, hi, tz, marker=row.start)
    )
    parts.append(sec.alerts_section(journal, row.athlete, lo, hi, tz))
    title = f"{row.athlete} · {row.sport} · {sec.local(row.start, tz)} ({tz})"
    return _page(title, parts)


def range_report(
    cfg: Config, journal: Journal, athlete: str, start: str | None = None, end: str | None = None
) -> str:
    """HTML for an athlete from ``start`` to ``end`` (ISO dates, the athlete's calendar days;
    default: the 90 days up to the last session or check-in)."""
    table = journal.session_table(athlete)
    if table.empty:
        raise KeyError(f"no sessions for athlete {athlete!r}")
    tz = cfg.athlete(athlete).tz
    checkin_days = journal.diary.checkins_frame(athlete)["day"]
    last_checkin = str(max(checkin_days)) if len(checkin_days) else None
    t0, t1 = report_window(table, tz, start, end, last_checkin)
    if t1 <= t0:
        raise ValueError(f"--from {start} is after --to {end}")
    in_range = table[(table["start"] >= t0) & (table["start"] < t1)]
    kinds = {int(r["id"]): r["kind"] for r in _sources(journal, in_range)}
    span = rtr.focus(journal, athlete, t0, t1, tz)
    unit = unit_of(cfg)
    parts = [
        f'<p class="note">Times and calendar days in {escape(tz)}.</p>',
        "<h2>Weekly volume</h2>" + sec.weekly_table(_weeks_in(table, tz, t0, t1), unit),
        "<h2>Training load</h2>" + sec.load_charts(journal, athlete, t0, t1, tz),
        "<h2>Asymmetry trend</h2>" + sec.asymmetry_chart(in_range, tz),
        "<h2>Pain and RPE</h2>" + sec.pain_rpe_chart(in_range, tz),
        rtr.return_to_run(journal, athlete, t0, t1, tz, span),
        rtr.readiness_section(journal, athlete, t0, t1, tz, span),
        "<h2>Sessions</h2>" + sec.sessions_table(in_range, kinds, tz, unit),
        sec.alerts_section(journal, athlete, t0, t1, tz),
    ]
    last = (t1 - pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    return _page(f"{athlete} · {t0.strftime('%Y-%m-%d')} to {last}", parts)


def report_window(
    table: pd.DataFrame,
    tz: str,
    start: str | None,
    end: str | None,
    last_checkin: str | None = None,
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[t0, t1) in the athlete's zone: local midnights of ``start`` and the day after ``end``;
    default end: the day after the last session or check-in (``last_checkin``, YYYY-MM-DD),
    default start: 90 days before the end."""
    if end:
        t1 = pd.Timestamp(end).tz_localize(tz) + pd.Timedelta(days=1)
    else:
        t1 = table["start"].max().tz_convert(tz).normalize() + pd.Timedelta(days=1)
        if last_checkin:
            t1 = max(t1, pd.Timestamp(last_checkin).tz_localize(tz) + pd.Timedelta(days=1))
    t0 = pd.Timestamp(start).tz_localize(tz) if start else t1 - pd.Timedelta(days=90)
    return t0, t1


def _weeks_in(table: pd.DataFrame, tz: str, t0: pd.Timestamp, t1: pd.Timestamp) -> pd.DataFrame:
    weeks = weekly(table, tz)
    first = (t0 - pd.Timedelta(days=t0.day_of_week)).strftime("%Y-%m-%d")
    return weeks[(weeks["week"] >= first) & (weeks["week"] < t1.strftime("%Y-%m-%d"))]


def _sources(journal: Journal, table: pd.DataFrame) -> list:
    ids = sorted({int(i) for i in table["source_id"].dropna()})
    return [r for r in (journal.source(i) for i in ids) if r is not None]


def _page(title: str, sections: list[str]) -> str:
    body = "\n".join(s for s in sections if s)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>sensorhub · {escape(title)}</title><style>{CSS}</style></head><body>"
        f'<h1>sensorhub · {escape(title)}</h1><p class="note">Generated '
        f"{pd.Timestamp.now(tz='UTC').strftime('%Y-%m-%d %H:%M')} UTC. ACWR describes load "
        f"change, not injury risk (Impellizzeri 2020).</p>{body}</body></html>"
    )
