"""The parts of an HTML report: cards, charts and tables (strings of HTML).

Times show in the athlete's zone (``tz``, from the config); the journal keeps UTC.
"""

from __future__ import annotations

from html import escape

import numpy as np
import pandas as pd

from ..store import Journal
from .data import HR_ZONES, LONGEST_LOOKBACK_DAYS, Recording, hr_zones
from .svg import Chart, min_sec, no_minus_zero, route_svg
from .units import KM, DistanceUnit

PACE_STEPS = (5, 10, 15, 20, 30, 60, 120, 300, 600)  # s per km or mile between pace ticks

ACWR_BAND = (0.8, 1.3, "#2ca02c")
BALANCE_BAND = (48.0, 52.0, "#2ca02c")
RUN_PLOTS = [
    ("speed_mps", "Pace", "min:ss per {unit}"),
    ("hr_bpm", "Heart rate", "bpm"),
    ("cadence_spm", "Cadence", "steps/min"),
    ("gct_ms", "Ground contact time", "ms"),
    ("gct_balance_left_pct", "GCT balance", "% left"),
    ("vo_mm", "Vertical oscillation", "mm"),
    ("vertical_ratio_pct", "Vertical ratio", "%"),
    ("power_w", "Power", "W"),
]
ACWR_LEGEND = (
    "rac: rolling coupled 7/28 d (Gabbett 2016); rau: uncoupled, chronic = days t−27…t−7; "
    "ewma: exponentially weighted, λ = 2/(N+1) (Williams 2017). The shaded 0.8–1.3 band is "
    "the conventional reference band of the ACWR literature; it describes load change, not "
    "injury risk (Impellizzeri 2020)."
)


def local(t, tz: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC time (Timestamp or ISO text) in the zone ``tz``; "-" when missing."""
    if t is None or (isinstance(t, float) and np.isnan(t)) or t is pd.NaT or t == "":
        return "-"
    ts = pd.Timestamp(t)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts
    return ts.tz_convert(tz).strftime(fmt)


def num(v, div: float = 1.0, unit: str = "", digits: int = 0) -> str:
    """``v / div`` with ``digits`` decimals and a unit; "-" for missing or non-finite."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "-"
    if not np.isfinite(f):
        return "-"
    return no_minus_zero(f"{f / div:.{digits}f}") + (f" {unit}" if unit else "")


def pace(seconds_per_unit) -> str:
    """Pace (seconds per km or mile) as min:ss; "-" when missing."""
    try:
        return min_sec(float(seconds_per_unit))
    except (TypeError, ValueError):
        return "-"


def cards(items: list[tuple[str, str]]) -> str:
    body = "".join(f'<div class="card">{escape(k)}<b>{escape(v)}</b></div>' for k, v in items)
    return f'<div class="cards">{body}</div>'


def session_cards(row, kind: str, unit: DistanceUnit = KM) -> str:
    s = row.summary
    speed = s.get("speed_avg_mps")
    if (speed is None or not speed) and row.distance_m and row.duration_s:
        speed = row.distance_m / row.duration_s
    items = [
        ("Duration", min_sec(row.duration_s) if row.duration_s else "-"),
        ("Distance", num(row.distance_m, unit.metres, unit.name, 2)),
        ("Pace", pace(unit.pace_s(speed)) + f" /{unit.name}" if speed else "-"),
        ("Load", f"{num(row.load)} ({row.load_method or '-'})"),
        ("HR avg", num(s.get("hr_avg_bpm"), unit="bpm")),
        ("Cadence", num(s.get("cadence_spm"), unit="steps/min")),
        ("GCT", num(s.get("gct_ms"), unit="ms")),
        ("GCT balance", num(s.get("gct_balance_left_pct"), unit="% L", digits=1)),
        ("RPE", num(row.rpe, digits=1)),
        ("Pain", num(row.pain, digits=1)),
    ]
    if kind == "imu":
        items = [i for i in items if i[0] not in ("Distance", "Pace", "HR avg")]
    return cards(items)


# -- one session -------------------------------------------------------------------------------
def run_charts(run: pd.DataFrame, tz: str, unit: DistanceUnit = KM) -> list[str]:
    out = []
    for col, title, y_unit in RUN_PLOTS:
        if col not in run or not run[col].notna().any():
            continue
        y = pd.to_numeric(run[col], errors="coerce").astype(float)
        chart = Chart(title, y_unit.format(unit=unit.name), height=170, tz=tz)
        if col == "speed_mps":
            # below 0.5 m/s is standing, not a pace; a 6-record median calms GPS jitter
            y = unit.pace_s(y.where(y > 0.5)).rolling(6, min_periods=1).median()
            chart.invert, chart.y_fmt, chart.y_steps = True, min_sec, PACE_STEPS
            chart.title = "Pace (faster is up)"
        if col == "gct_balance_left_pct":
            chart.bands.append(BALANCE_BAND)
        out.append(chart.add(title, run.index, y.where(y > 0)).svg())
    return out


def laps_table(laps: pd.DataFrame | None, tz: str, unit: DistanceUnit = KM) -> str:
    if laps is None or laps.empty:
        return '<p class="note">No laps recorded in the file.</p>'
    rows = "".join(
        f"<tr><td>{i}</td><td>{local(r['start'], tz, '%H:%M:%S')}</td>"
        f"<td>{min_sec(r['duration_s'])}</td>"
        f"<td>{num(r['distance_m'], unit.metres, digits=2)}</td>"
        f"<td>{pace(r['pace_s_per_km'] * unit.metres / 1000)}</td><td>{num(r['hr_avg_bpm'])}</td>"
        f"<td>{num(r['hr_max_bpm'])}</td><td>{num(r['cadence_spm'])}</td>"
        f"<td>{num(r['gct_balance_left_pct'], digits=1)}</td></tr>"
        for i, r in enumerate(laps.to_dict("records"), start=1)
    )
    head = (
        f"<tr><th>lap</th><th>start</th><th>time</th><th>{unit.name}</th>"
        f"<th>pace /{unit.name}</th>"
        "<th>HR avg</th><th>HR max</th><th>cadence</th><th>GCT bal. %L</th></tr>"
    )
    return f"<h2>Laps</h2><table>{head}{rows}</table>"


def hr_zone_table(run: pd.DataFrame, hr_max: float | None) -> str:
    if "hr_bpm" not in run or not run["hr_bpm"].notna().any():
        return ""
    if not hr_max:
        return (
            '<h2>Heart-rate zones</h2><p class="note">Set hr_max for the athlete in the config '
            "to see time per zone.</p>"
        )
    z = hr_zones(run["hr_bpm"], hr_max)
    rows = "".join(
        f"<tr><td>{r['zone']}</td><td>{r['pct_of_max']}</td><td>{r['bpm']}</td>"
        f"<td>{min_sec(r['time_s'])}</td><td>{r['share_pct']:.0f} %</td>"
        f'<td style="text-align:left"><span class="bar" style="width:{r["share_pct"] * 3:.0f}px">'
        f"</span></td></tr>"
        for r in z.to_dict("records")
    )
    below = z.attrs.get("below_s", 0.0)
    note = (
        f"5 zones as % of the athlete's maximum HR ({hr_max:.0f} bpm, from the config): "
        f"Z1 {HR_ZONES[0][0]} to <{HR_ZONES[0][1]} % … Z5 {HR_ZONES[-1][0]} % and above; "
        "each zone includes its lower bound and not its upper one."
        + (f" {min_sec(below)} below Z1 not shown." if below > 0 else "")
    )
    head = "<tr><th>zone</th><th>% of max</th><th>bpm</th><th>time</th><th>share</th><th></th></tr>"
    return f'<h2>Heart-rate zones</h2><p class="note">{escape(note)}</p><table>{head}{rows}</table>'


def route(run: pd.DataFrame, unit: DistanceUnit = KM) -> str:
    if "lat_deg" not in run or "lon_deg" not in run:
        return ""
    svg = route_svg(run["lat_deg"].to_numpy(float), run["lon_deg"].to_numpy(float), unit=unit)
    return f"<h2>Route</h2>{svg}" if svg else ""


def imu_sections(rec: Recording, summary: dict, tz: str) -> list[str]:
    """Asymmetry cards from the summary, and per-step charts when the steps were re-read."""
    items = [
        ("Steps", num(summary.get("n_steps"))),
        ("GCT left", num(summary.get("gct_ms_left"), unit="ms")),
        ("GCT right", num(summary.get("gct_ms_right"), unit="ms")),
        ("GCT SI", num(summary.get("gct_si_pct"), unit="%", digits=1)),
        ("GCT balance", num(summary.get("gct_balance_left_pct"), unit="% L", digits=1)),
        ("Step time", num(summary.get("step_time_ms"), unit="ms")),
        ("Flight", num(summary.get("flight_ms"), unit="ms")),
        ("Step time SI", num(summary.get("step_time_si_pct"), unit="%", digits=1)),
        ("Flight SI", num(summary.get("flight_si_pct"), unit="%", digits=1)),
    ]
    out = [
        "<h2>Asymmetry</h2>",
        '<p class="note">SI = (L−R)/(0.5(L+R)) × 100, positive = left longer; balance = '
        "L/(L+R) × 100. Compare with the athlete's own earlier sessions; population cut-offs "
        "are arbitrary.</p>",
        cards(items),
    ]
    steps = rec.steps
    if steps is None or steps.empty:
        return out
    out.append("<h2>Steps</h2>")
    gct = Chart("Ground contact time per step", "ms", height=200, tz=tz)
    st = Chart("Step time per step", "ms", height=170, tz=tz)
    colors = {"L": "#1f77b4", "R": "#d62728"}
    for side, g in steps.groupby("side"):
        label = {"L": "left", "R": "right"}.get(side, side or "steps")
        gct.add(label, g.index, g["gct_ms"], "points", colors.get(side, ""))
        smooth = g["gct_ms"].rolling(15, min_periods=3, center=True).median()
        gct.add(f"{label} (15-step median)", g.index, smooth, "line", colors.get(side, ""))
        if "step_time_ms" in g:
            st.add(label, g.index, g["step_time_ms"], "points", colors.get(side, ""))
    out += [gct.svg(), st.svg()]
    return out


# -- load ------------------------------------------------------------------------------------
def load_charts(
    journal: Journal,
    athlete: str,
    t0: pd.Timestamp,
    t1: pd.Timestamp,
    tz: str,
    marker: pd.Timestamp | None = None,
) -> str:
    """Daily load, ACWR, monotony and CTL/ATL/TSB from ``t0`` to ``t1``; ``marker``: a
    session's start, drawn as a dashed line on each chart ("this session")."""
    daily = journal.daily_load(athlete)
    if daily.empty:
        return '<p class="note">No daily load yet.</p>'
    # days are the athlete's local calendar days: plot each at its local noon, so a day's
    # bar spans that day and a session's marker falls inside its own day's bar
    idx = daily.index.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
    keep = (idx >= t0.tz_convert(tz).normalize()) & (idx < t1)
    d = daily[keep]
    x = idx[keep] + pd.Timedelta(hours=12)
    if d.empty:
        return '<p class="note">No daily load in this period.</p>'
    span = (x[0] - pd.Timedelta(hours=12), x[-1] + pd.Timedelta(hours=12))
    if marker is not None:  # the session's own moment stays on the charts
        span = (span[0], max(span[1], marker.tz_convert(tz) + pd.Timedelta(hours=2)))
    status = ""
    if "acwr_status" in d and d["acwr_rac"].isna().all():
        last = d["acwr_status"].dropna()
        status = str(last.iloc[-1]) if len(last) else "warming up"
    load = Chart("Daily load and acute/chronic", "AU", tz=tz, x_range=span).add(
        "daily load", x, d["daily_load"], "bars", "#9ecae1"
    )
    load.add("acute 7 d", x, d["acute"], color="#d62728").add(
        "chronic 28 d", x, d["chronic"], color="#1f77b4"
    )
    empty = f"no ratio in this period: {status or 'warming up'} (needs 28 days of history)"
    acwr = Chart("ACWR (band 0.8–1.3)", bands=[ACWR_BAND], tz=tz, x_range=span, empty=empty)
    for col, color in (("acwr_rac", "#d62728"), ("acwr_rau", "#ff7f0e"), ("acwr_ewma", "#9467bd")):
        acwr.add(col.removeprefix("acwr_"), x, d[col], color=color)
    mono = Chart("Monotony (Foster)", bands=[(2.0, 2.0, "#d62728")], tz=tz, x_range=span).add(
        "monotony", x, d["monotony"]
    )
    pmc = Chart("CTL / ATL / TSB", "AU/day", tz=tz, x_range=span)
    for col in ("ctl", "atl", "tsb"):
        pmc.add(col.upper(), x, d[col])
    if marker is not None:
        for chart in (load, acwr, mono, pmc):
            chart.markers.append((marker, "this session"))
    return (
        load.svg()
        + acwr.svg()
        + f'<p class="note">{escape(ACWR_LEGEND)}</p>'
        + mono.svg()
        + pmc.svg()
    )


def asymmetry_chart(table: pd.DataFrame, tz: str) -> str:
    if "gct_balance_left_pct" not in table or not table["gct_balance_left_pct"].notna().any():
        return '<p class="note">No GCT balance recorded.</p>'
    chart = Chart("GCT balance per session (band 48–52)", "% left", bands=[BALANCE_BAND], tz=tz)
    return chart.add("balance", table["start"], table["gct_balance_left_pct"], "points").svg()


def pain_rpe_chart(table: pd.DataFrame, tz: str) -> str:
    has = [c for c in ("pain", "rpe") if c in table and table[c].notna().any()]
    if not has:
        return '<p class="note">No pain or RPE logged (sensorhub log SESSION --rpe N --pain N).</p>'
    chart = Chart("Pain (0–10) and RPE (CR-10) per session", y_min=0, y_max=10, tz=tz)
    for c, color in (("pain", "#d62728"), ("rpe", "#1f77b4")):
        if c in has:
            t = table[table[c].notna()]
            chart.add("pain" if c == "pain" else "RPE", t["start"], t[c], "line", color)
    return chart.svg()


def sessions_table(
    table: pd.DataFrame, kinds: dict[int, str], tz: str, unit: DistanceUnit = KM
) -> str:
    def g(r: dict, k: str):
        return r.get(k)

    rows = "".join(
        f"<tr><td>{local(r['start'], tz)}</td><td>{escape(r['id'])}</td>"
        f"<td>{escape(str(r['sport']))}</td><td>{escape(kinds.get(r['source_id'], ''))}</td>"
        f"<td>{min_sec(r['duration_s']) if pd.notna(r['duration_s']) else '-'}</td>"
        f"<td>{num(r['distance_m'], unit.metres, digits=2)}</td>"
        f"<td>{pace(_pace(r, unit))}</td><td>{num(g(r, 'hr_avg_bpm'))}</td>"
        f"<td>{num(r['load'])} {escape(str(r['load_method'] or ''))}</td>"
        f"<td>{num(r['rpe'], digits=1)}</td><td>{num(r['pain'], digits=1)}</td>"
        f"<td>{num(g(r, 'gct_balance_left_pct'), digits=1)}</td></tr>"
        for r in table.to_dict("records")
    )
    head = (
        f"<tr><th>start ({escape(tz)})</th><th>id</th><th>sport</th><th>kind</th><th>time</th>"
        f"<th>{unit.name}</th><th>pace /{unit.name}</th><th>HR avg</th><th>load</th>"
        "<th>RPE</th><th>pain</th>"
        "<th>GCT bal. %L</th></tr>"
    )
    return f"<table>{head}{rows}</table>"


def _pace(r: dict, unit: DistanceUnit) -> float:
    d, t = r.get("distance_m"), r.get("duration_s")
    try:
        return float(t) / unit.of(float(d)) if d and t and float(d) > 0 else np.nan
    except (TypeError, ValueError):
        return np.nan


def weekly_table(weeks: pd.DataFrame, unit: DistanceUnit = KM) -> str:
    if weeks.empty:
        return '<p class="note">No sessions.</p>'
    rows = "".join(
        f"<tr><td>{r['week']}</td><td>{r['runs']}</td>"
        f"<td>{num(r['distance_m'], unit.metres, digits=1)}</td>"
        f"<td>{min_sec(r['hours'] * 3600) if pd.notna(r['hours']) else '-'}</td>"
        f"<td>{num(r['load'])}</td><td>{num(r['longest_m'], unit.metres, digits=1)}</td>"
        f"<td>{num(r['prev30_longest_m'], unit.metres, digits=1)}</td>"
        f"<td>{num(r['longest_vs_prev30_pct'], unit='%')}</td>"
        f"<td>{num(r['pain_mean'], digits=1)}</td><td>{num(r['pain_max'], digits=1)}</td>"
        f"<td>{escape(r['pain_trend'] or '-')}</td></tr>"
        for r in weeks.to_dict("records")
    )
    head = (
        f"<tr><th>week (Mon)</th><th>runs</th><th>{unit.name}</th><th>time</th><th>load</th>"
        f"<th>longest {unit.name}</th><th>longest, {LONGEST_LOOKBACK_DAYS} d before</th>"
        "<th>longest vs before</th><th>pain mean</th><th>pain max</th><th>pain trend</th></tr>"
    )
    return f"<table>{head}{rows}</table>"


def alerts_section(
    journal: Journal, athlete: str, t0: pd.Timestamp, t1: pd.Timestamp, tz: str
) -> str:
    df = journal.alerts.frame(athlete)
    if not df.empty:
        opened = pd.to_datetime(df["opened_at"], utc=True, format="ISO8601")
        df = df[(opened >= t0) & (opened < t1)]
    if df.empty:
        return '<h2>Alerts</h2><p class="note">No alerts in this period.</p>'
    rows = "".join(
        f"<tr><td>{local(r['opened_at'], tz)}</td><td>{escape(r['rule'])}</td>"
        f'<td>{escape(r["severity"])}</td><td class="text">{escape(r["message"])}</td>'
        + (
            f"<td>{local(r['cleared_at'], tz, '%Y-%m-%d')}</td>"
            if isinstance(r["cleared_at"], str) and r["cleared_at"]
            else '<td class="open">open</td>'
        )
        + "</tr>"
        for r in df.to_dict("records")
    )
    head = (
        f"<tr><th>opened ({escape(tz)})</th><th>rule</th><th>severity</th>"
        '<th class="text">message</th>'
        "<th>cleared</th></tr>"
    )
    return f"<h2>Alerts</h2><table>{head}{rows}</table>"
