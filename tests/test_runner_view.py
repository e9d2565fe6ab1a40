"""What a runner sees: reports of every session kind, local times, the listing commands.

One small journal for the module: three of ben's FIT runs (America/New_York in the demo
config), the two-pod shank IMU recording, and a live BLE session recorded through the same
Recorder the live sink uses. Reports are rendered by headless Chromium (as test_report.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sensorhub.cli import app
from sensorhub.config import load_config
from sensorhub.pipeline import Pipeline
from sensorhub.recompute import Recompute
from sensorhub.recorder import Recorder
from sensorhub.report import range_report, session_report
from sensorhub.report.data import weekly
from sensorhub.report.svg import Chart, min_sec, nice_ticks, time_ticks
from sensorhub.sources.imu import ImuSource
from sensorhub.sources.live import live_source
from sensorhub.store import Journal
from sensorhub.store.outbox import new_holder

from .test_report import assert_self_contained, screenshot

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "fixtures" / "sensorhub.toml"
IMU = ROOT / "fixtures" / "imu"
BEN = sorted((ROOT / "fixtures" / "fit" / "ben").glob("*.fit"))[-3:]
LIVE_START = pd.Timestamp("2026-11-20T12:00:00Z")


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("runner-view")
    cfg = load_config(CONFIG, home=home)
    cfg.influx.url = ""
    pipe = Pipeline(cfg)
    assert not pipe.ingest(BEN).failed
    imu = ImuSource(placement="shank", right=IMU / "shank_right_200hz.csv")
    pair = Pipeline(cfg, athlete="ben", sources={"imu": imu})
    assert not pair.ingest([IMU / "shank_left_200hz.csv"]).failed
    n = 900
    idx = LIVE_START + pd.to_timedelta(np.arange(n), unit="s")
    run = pd.DataFrame({"hr_bpm": 140.0 + np.arange(n) % 9, "speed_mps": 3.1}, index=idx)
    steps = pd.DataFrame({"side": ["L", "R"] * 40, "gct_ms": [252.0, 244.0] * 40})
    journal = Journal(cfg.journal_path)
    Recorder(cfg, journal).record(live_source("ben", run, steps, LIVE_START, idx[-1]))
    Recompute(cfg, journal).pending()
    return home


@pytest.fixture
def env(home, monkeypatch):
    for k in ("SENSORHUB_INFLUX_URL", "SENSORHUB_ALERT_WEBHOOK_URL", "SENSORHUB_HOME"):
        monkeypatch.delenv(k, raising=False)
    cfg = load_config(CONFIG, home=home)
    return cfg, Journal(cfg.journal_path)


def run_cli(home: Path, *args: str, env: dict | None = None):
    base = ["--home", str(home), "--config", str(CONFIG)]
    return CliRunner().invoke(app, [*base, *args], env=env)


def session_of(journal: Journal, kind: str) -> str:
    for row in journal.session_rows("ben"):
        if journal.source(row.source_id)["kind"].startswith(kind):
            return row.id
    raise AssertionError(f"no {kind} session")


def assert_not_blank(img) -> None:
    """Charts and text drawn (sparser pages than test_report's: a live session has no plots)."""
    colours = img.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 200, "too few colours: blank page?"
    white = sum(n for n, c in colours if min(c) >= 245)
    assert white / (img.size[0] * img.size[1]) < 0.97


def svg_of(html: str, title: str) -> str:
    m = re.search(r"<svg[^>]*><title>" + re.escape(title) + r".*?</svg>", html)
    assert m, title
    return m.group(0)


def inside_plot(svg: str) -> None:
    """Every bar of a chart lies inside its plot rectangle (the first stroked rect)."""
    frame = re.search(r'<rect x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)" fill="none"', svg)
    x0, w = float(frame[1]), float(frame[3])
    bars = re.findall(
        r'<rect x="([-\d.]+)" y="[-\d.]+" width="([\d.]+)" height="[\d.]+" fill="#9', svg
    )
    assert bars
    for x, bw in bars:
        assert x0 - 0.5 <= float(x) and float(x) + float(bw) <= x0 + w + 0.5, (x, bw)


# -- charts ----------------------------------------------------------------------------------
def test_ticks_are_round_numbers_and_local_clock_times():
    assert nice_ticks(0.0, 7.3) == [0, 2, 4, 6, 8]
    assert nice_ticks(0.61, 1.32) == [0.6, 0.8, 1.0, 1.2, 1.4]
    assert nice_ticks(290, 410, steps=(15, 30, 60)) == [270, 300, 330, 360, 390, 420]
    assert [min_sec(v) for v in (295, 3725)] == ["4:55", "1:02:05"]
    t0 = pd.Timestamp("2026-11-15T13:43:00Z").value / 1e9
    labels = [lbl for _, lbl in time_ticks(t0, t0 + 3600, "America/New_York")]
    assert labels[0] == "08:50" and labels[-1] == "09:40"  # EST, 10-minute steps
    one_day = Chart("x", tz="UTC").add("d", pd.DatetimeIndex([LIVE_START]), [5.0], "bars").svg()
    assert "00:00 00:00" not in one_day


def test_pace_axis_is_min_sec_and_inverted():
    idx = pd.date_range("2026-11-15T13:00Z", periods=3, freq="min")
    svg = Chart("Pace", y_fmt=min_sec, invert=True).add("p", idx, [300.0, 330.0, 360.0]).svg()
    ticks = re.findall(r'text-anchor="end" class="tick">(\d+:\d\d)</text>', svg)
    assert ticks and all(re.fullmatch(r"\d:\d\d", t) for t in ticks)
    ys = [float(v) for v in re.search(r'points="([^"]+)"', svg)[1].replace(",", " ").split()[1::2]]
    assert ys[0] < ys[-1]  # 5:00/km (faster) is drawn above 6:00/km


# -- reports of every kind -------------------------------------------------------------------
def test_fit_report_laps_zones_route_local_time(env, tmp_path):
    cfg, journal = env
    sid = session_of(journal, "fit")
    html = session_report(cfg, journal, sid)
    assert_self_contained(html)
    row = journal.session(sid)
    local = row.start.tz_convert("America/New_York").strftime("%Y-%m-%d %H:%M")
    assert f"{local} (America/New_York)" in html
    assert "<h2>Laps</h2>" in html and "<title>Route</title>" in html
    assert "maximum HR (192 bpm, from the config)" in html
    assert "Pace (faster is up)" in html and "nan" not in html.lower().replace("nanosec", "")
    inside_plot(svg_of(html, "Daily load and acute/chronic (AU)"))
    path = tmp_path / "fit.html"
    path.write_text(html, encoding="utf-8")
    assert_not_blank(screenshot(path, tmp_path / "fit.png"))


def test_imu_two_pod_report_shows_steps_and_asymmetry(env, tmp_path):
    cfg, journal = env
    html = session_report(cfg, journal, session_of(journal, "imu"))
    assert_self_contained(html)
    assert "Steps detected again from shank_left_200hz.csv + shank_right_200hz.csv" in html
    assert "<title>Ground contact time per step (ms)</title>" in html
    assert "GCT left" in html and "GCT SI" in html and "left (15-step median)" in html
    path = tmp_path / "imu.html"
    path.write_text(html, encoding="utf-8")
    assert_not_blank(screenshot(path, tmp_path / "imu.png"))


def test_imu_report_without_the_recording_shows_the_summary(env, tmp_path):
    cfg, journal = env
    sid = session_of(journal, "imu")
    journal.db.execute(
        "UPDATE sources SET path=? WHERE id=(SELECT source_id FROM sessions WHERE id=?)",
        (str(tmp_path / "gone.csv"), sid),
    )
    try:
        html = session_report(cfg, journal, sid)
    finally:
        journal.db.execute(
            "UPDATE sources SET path=? WHERE id=(SELECT source_id FROM sessions WHERE id=?)",
            (str(IMU / "shank_left_200hz.csv"), sid),
        )
    assert "no longer there: summary only" in html and "GCT right" in html
    assert "per step" not in html


def test_live_report_has_no_missing_file_and_bars_inside(env, tmp_path):
    cfg, journal = env
    html = session_report(cfg, journal, session_of(journal, "ble"))
    assert "no longer there" not in html and "ble:/" not in html
    assert "Live BLE session" in html and "2026-11-20 07:00 (America/New_York)" in html
    assert "00:00 00:00" not in html
    inside_plot(svg_of(html, "Daily load and acute/chronic (AU)"))
    path = tmp_path / "live.html"
    path.write_text(html, encoding="utf-8")
    assert_not_blank(screenshot(path, tmp_path / "live.png"))


def test_range_report_weekly_pain_and_no_nan(env):
    cfg, journal = env
    sid = session_of(journal, "fit")
    journal.update_session(sid, pain=3.0, rpe=6.0)
    html = range_report(cfg, journal, "ben", "2026-11-01", "2026-11-22")
    assert "<h2>Weekly volume</h2>" in html and "longest, 30 d before" in html
    assert "<title>Pain (0–10) and RPE (CR-10) per session</title>" in html
    assert "start (America/New_York)" in html and ">nan<" not in html


# -- weekly table ----------------------------------------------------------------------------
def test_weekly_table_by_hand():
    starts = ["2026-11-02T12:00Z", "2026-11-04T12:00Z", "2026-11-10T12:00Z", "2026-11-16T04:30Z"]
    table = pd.DataFrame(
        {
            "start": pd.to_datetime(starts, utc=True),
            "sport": ["running"] * 4,
            "distance_m": [5000.0, 8000.0, 12000.0, 6000.0],
            "duration_s": [1800.0, 2700.0, 4000.0, 2000.0],
            "load": [40.0, 60.0, 90.0, 45.0],
            "pain": [2.0, np.nan, 4.0, 1.0],
        }
    )
    w = weekly(table, "America/New_York")
    # 2026-11-16 04:30 UTC is Sunday 15 Nov 23:30 in New York: still the week of 9 Nov
    assert list(w["week"]) == ["2026-11-02", "2026-11-09"]
    assert list(w["runs"]) == [2, 2] and list(w["distance_m"]) == [13000.0, 18000.0]
    assert w["longest_m"].iloc[1] == 12000.0 and w["prev30_longest_m"].iloc[1] == 8000.0
    assert w["longest_vs_prev30_pct"].iloc[1] == pytest.approx(150.0)
    assert list(w["pain_trend"]) == ["", "same"]  # 2.0 then mean(4, 1) = 2.5


# -- commands --------------------------------------------------------------------------------
def test_sessions_list_local_time_kinds_and_csv(home, env):
    cfg, journal = env
    res = run_cli(home, "sessions", "--athlete", "ben")
    assert res.exit_code == 0, res.output
    row = journal.session_rows("ben")[0]
    local = row.start.tz_convert("America/New_York").strftime("%Y-%m-%d %H:%M")
    assert local in res.output and "ben America/New_York" in res.output
    assert "imu:shank" in res.output and "ble" in res.output
    assert re.search(r"\d+ (trimp|srpe|duration) ", res.output)  # load with its method
    assert re.search(r"\b\d:\d\d\b", res.output)  # pace min:ss
    csv = run_cli(home, "sessions", "--csv").output.splitlines()
    head = csv[0].split(",")
    assert head[0] == "id" and "pace_s_per_km" in head and "start_utc" in head
    rows = [dict(zip(head, line.split(","), strict=True)) for line in csv[1:]]
    paces = [r["pace_s_per_km"] for r in rows if r["pace_s_per_km"]]
    assert paces and all(len(p.split(".")[-1]) > 3 for p in paces)  # full precision
    assert {r["partial"] for r in rows} == {""}
    for cmd in ("sessions", "load", "week"):
        bad = run_cli(home, cmd, "--athlete", "nobody")
        assert bad.exit_code == 1 and "athlete 'nobody' is unknown" in bad.output


def test_load_window_status_legend_and_method(home, env):
    cfg, journal = env
    method = Recompute(cfg, journal).series(journal.session_rows("ben")).method
    res = run_cli(home, "load", "--athlete", "ben", "--days", "5", "--to", "2026-11-20")
    assert res.exit_code == 0, res.output
    days = re.findall(r"│ (2026-\d\d-\d\d) │", res.output)
    assert days == [f"2026-11-{d}" for d in range(16, 21)]
    assert "warming up" in res.output and "rac = rolling coupled" in res.output
    assert f"load method: {method}" in res.output and "last session 2026-11-20" in res.output
    default = run_cli(home, "load", "--athlete", "ben", "--days", "3")
    assert re.findall(r"│ (2026-\d\d-\d\d) │", default.output)[-1] == "2026-11-20"
    assert run_cli(home, "load", "--to", "20/11/2026").exit_code == 2


def test_week_command(home):
    res = run_cli(home, "week", "--athlete", "ben")
    assert res.exit_code == 0, res.output
    assert "weeks: ben (America/New_York)" in res.output and "longest 30 d before" in res.output


def test_report_dates_iso_only_and_ordered(home, tmp_path):
    out = str(tmp_path / "r.html")
    res = run_cli(home, "report", "--athlete", "ben", "--from", "01/03/2020", "-o", out)
    assert res.exit_code == 2 and "YYYY-MM-DD" in res.output
    res = run_cli(
        home, "report", "--athlete", "ben", "--from", "2026-11-20", "--to", "2026-11-01", "-o", out
    )
    assert res.exit_code == 2 and "is after --to" in res.output


def test_status_times_and_flush_when_another_process_ships(home, env):
    cfg, journal = env
    res = run_cli(home, "status")
    assert res.exit_code == 0 and "(not configured)" in res.output
    oldest = re.search(r"oldest (\S+ \S+)", res.output)[1]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", oldest)
    assert journal.outbox.take_lease(new_holder(), 60)
    try:
        res = run_cli(home, "flush", env={"SENSORHUB_INFLUX_URL": "http://127.0.0.1:9"})
    finally:
        journal.db.execute("DELETE FROM leases")
    assert res.exit_code == 0 and "another sensorhub process is shipping" in res.output


# -- distance unit by config ([display] distance_unit) -------------------------------------------
def miles_config(tmp_path: Path, unit: str = '"mi"', key: str = "distance_unit") -> Path:
    path = tmp_path / "miles.toml"
    path.write_text(CONFIG.read_text() + f"\n[display]\n{key} = {unit}\n")
    return path


def test_distance_unit_defaults_to_km_and_reads_miles(tmp_path):
    assert load_config(CONFIG, home=tmp_path).display.distance_unit == "km"
    assert load_config(miles_config(tmp_path), home=tmp_path).display.distance_unit == "mi"


@pytest.mark.parametrize(
    ("unit", "key", "expected"),
    [
        ('"furlong"', "distance_unit", "display.distance_unit = 'furlong': Input should be"),
        ('"mi"', "distance", "unknown key 'display.distance'"),
    ],
)
def test_bad_distance_unit_is_one_line(home, tmp_path, unit, key, expected):
    bad = miles_config(tmp_path, unit, key)
    res = CliRunner().invoke(app, ["--home", str(home), "--config", str(bad), "sessions"])
    assert res.exit_code != 0 and expected in res.output, res.output
    assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1


def test_sessions_week_status_and_report_in_miles(home, env, tmp_path):
    cfg, journal = env
    miles = miles_config(tmp_path)
    base = ["--home", str(home), "--config", str(miles)]
    fit = journal.find_session(session_of(journal, "fit"))
    mi = fit.distance_m / 1609.344
    pace = min_sec(fit.duration_s / mi)
    res = CliRunner().invoke(app, [*base, "sessions", "--athlete", "ben"])
    assert res.exit_code == 0, res.output
    assert re.search(r"[┃│] +mi +[┃│]", res.output) and "pace /mi" in res.output
    assert f"{mi:.2f}" in res.output and pace in res.output
    assert f"{fit.distance_m / 1000:.2f}" not in res.output
    # CSV keeps metres and seconds per km at full precision, whatever the display unit
    csv = CliRunner().invoke(app, [*base, "sessions", "--csv"]).output.splitlines()
    assert "distance_m" in csv[0].split(",") and "pace_s_per_km" in csv[0].split(",")
    week = CliRunner().invoke(app, [*base, "week", "--athlete", "ben"])
    assert week.exit_code == 0 and "longest mi" in week.output and "longest km" not in week.output
    week_csv = CliRunner().invoke(app, [*base, "week", "--athlete", "ben", "--csv"]).output
    assert "distance_m" in week_csv.splitlines()[0] and ",km," not in week_csv.splitlines()[0]
    status = CliRunner().invoke(app, [*base, "status"])
    # the newest session is the live one (no distance): its local start, no microseconds
    assert re.search(r"last session  2026-11-20 07:00 EST, ben\n", status.output), status.output
    assert "units         distance in mi, pace min:ss per mi" in status.output
    html = session_report(load_config(miles, home=home), journal, fit.id)
    assert f"{mi:.2f} mi" in html and f"{pace} /mi" in html
    assert "min:ss per mi" in html and "<th>pace /mi</th>" in html and " km<" not in html
    assert "<th>pace /mi</th>" in range_report(load_config(miles, home=home), journal, "ben")


# -- what the screenshots showed -----------------------------------------------------------------
def marker_x(svg: str) -> float:
    """x of the dashed "this session" line of a chart, checked to lie inside its plot."""
    frame = re.search(r'<rect x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)" fill="none"', svg)
    line = re.search(r'<line x1="([\d.]+)"[^>]*stroke-dasharray="4 3"', svg)
    assert line and "this session" in svg, "no session marker"
    x = float(line[1])
    assert float(frame[1]) <= x <= float(frame[1]) + float(frame[3])
    return x


@pytest.mark.parametrize("kind", ["fit", "imu", "ble"])
def test_load_charts_mark_the_session(env, kind):
    cfg, journal = env
    html = session_report(cfg, journal, session_of(journal, kind))
    xs = {
        marker_x(svg_of(html, t))
        for t in (
            "Daily load and acute/chronic (AU)",
            "Monotony (Foster)",
            "CTL / ATL / TSB (AU/day)",
        )
    }
    assert len(xs) == 1  # the same instant on the stacked charts


def test_live_session_with_steps_shows_its_asymmetry_and_one_kind_label(env):
    cfg, journal = env
    row = journal.find_session(session_of(journal, "ble"))
    assert "gct_ms_left" in row.summary
    html = session_report(cfg, journal, row.id)
    assert "<h2>Asymmetry</h2>" in html and "GCT left" in html and "Flight" in html
    assert "live BLE · times in" in html and "· ble ·" not in html
    fit = session_report(cfg, journal, session_of(journal, "fit"))
    assert "FIT file · times in" in fit and "· fit ·" not in fit
    # dates in tables never break across lines ("2026-11-" / "02")
    assert "white-space:nowrap" in fit and 'class="text"' in fit


@pytest.mark.parametrize("kind", ["fit", "imu"])
def test_a_sessions_marker_falls_inside_its_days_load_bar(env, kind):
    """Each day's load bar spans its own day (drawn at local noon): an evening session's
    "this session" line was drawn beside its day's bar, which sat on the midnight before."""
    cfg, journal = env
    svg = svg_of(session_report(cfg, journal, session_of(journal, kind)), "Daily load and")
    (marker,) = re.findall(r'<line x1="([\d.]+)"[^>]*stroke-dasharray', svg)
    rects = r'<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="([\d.]+)" fill="#9ecae1"'
    bars = [(float(x), float(w)) for x, w, h in re.findall(rects, svg) if float(h) > 0]
    assert bars  # days with load (rest days are bars of no height)
    assert any(x <= float(marker) <= x + w for x, w in bars), (marker, bars)
