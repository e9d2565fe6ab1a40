"""Every Grafana panel, annotation, variable and alert-rule query returns rows on the demo data.

The demo FIT files (fixtures/fit: ana with a load spike, ben with a GCT-balance shift, cara
on a return-to-run plan) are ingested once for the module into the real influxd, with RPE/pain
logged for one session, a few generated IMU ``stride`` points, a live BLE window (``run`` with
source=ble), cara's check-ins and plan (through the CLI, as a user loads them) and one hop
readiness test of hers (``symptom``, ``plan`` and ``readiness`` points). Each
query then runs with Grafana's variables substituted as Grafana would ($timeFilter,
$__interval, $athlete as a regex value, ${acwr:doublequote}, the Run board's ${session} and
${session_end} in Unix ms). The Run board's session variables also run, chained as Grafana
chains them, on a database holding two of ana's sessions (and one of ben's).
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from sensorhub.alerts import AlertEngine
from sensorhub.cli import app
from sensorhub.config import Config, load_config
from sensorhub.pipeline import Pipeline
from sensorhub.recorder import Recorder
from sensorhub.sources.readiness import readiness_source
from sensorhub.store import point_line

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
BOARDS = ROOT / "grafana" / "dashboards"
RULES = ROOT / "grafana" / "provisioning" / "alerting" / "sensorhub-rules.yaml"
ATHLETES = ["ana", "ben"]
ACWR_FORMS = ["acwr_rac", "acwr_rau", "acwr_ewma"]
TZ = {"ana": "Europe/Madrid", "ben": "America/New_York", "cara": "Europe/London"}
#: measurements only the athlete on a plan (cara) has; her hop test's start
PLAN_MEASUREMENTS = ('"symptom"', '"plan"', '"readiness"')
HOP_START = pd.Timestamp("2026-11-13 10:00", tz="UTC")

pytestmark = pytest.mark.influx


@dataclass
class Demo:
    cfg: Config
    db: str
    influxd: object
    run_range: tuple[pd.Timestamp, pd.Timestamp]  # ben's first session after the shift
    live_now: pd.Timestamp

    def query(self, q: str) -> list[dict]:
        return self.influxd.query(self.db, q)


def _write(url: str, db: str, lines: list[str]) -> None:
    r = httpx.post(
        f"{url}/write", params={"db": db, "precision": "ms"}, content="\n".join(lines).encode()
    )
    assert r.status_code == 204, r.text


def stride_lines(
    athlete: str, start: pd.Timestamp, seconds: float, gct=(255.0, 245.0)
) -> list[str]:
    """Alternating left/right steps at ~170 steps/min, as the IMU gait engine writes them."""
    rng = np.random.default_rng(7)
    step_s = 60.0 / 170.0
    out = []
    for i in range(int(seconds / step_s)):
        side = "L" if i % 2 == 0 else "R"
        g = gct[i % 2] + rng.normal(0, 4)
        t = start + pd.Timedelta(seconds=i * step_s)
        fields = {
            "gct_ms": g,
            "flight_ms": step_s * 1000 - g,
            "step_time_ms": step_s * 1000,
            "cadence_spm": 170.0,
        }
        out.append(
            point_line(
                "stride", {"athlete": athlete, "side": side, "placement": "sacrum"}, fields, t
            )
        )
    return out


def ble_run_lines(athlete: str, start: pd.Timestamp, seconds: int) -> list[str]:
    tags = {"athlete": athlete, "sport": "running", "source": "ble"}
    return [
        point_line(
            "run",
            tags,
            {"hr_bpm": 140.0 + i % 7, "cadence_spm": 170.0, "speed_mps": 3.2},
            start + pd.Timedelta(seconds=i),
        )
        for i in range(seconds)
    ]


@pytest.fixture(scope="module")
def demo(influxd, tmp_path_factory) -> Demo:
    home = tmp_path_factory.mktemp("grafana-demo")
    cfg = load_config(FIXTURES / "sensorhub.toml", home=home)
    cfg.influx.url, cfg.influx.database = influxd.url, "g_" + uuid.uuid4().hex[:8]
    cfg.influx.token = cfg.influx.username = cfg.influx.password = ""
    pipe = Pipeline(cfg)
    report = pipe.ingest([FIXTURES / "fit"])
    assert not report.failed and len(report.files) == 92 and report.flush.ok
    last_ana = pipe.journal.sessions("ana").iloc[-1]
    pipe.log_session(last_ana["id"], rpe=7, pain=5)
    ben = pipe.journal.sessions("ben")
    shifted = ben[ben["start"] >= "2026-10-26"].iloc[0]
    start, end = pd.Timestamp(shifted["start"]), pd.Timestamp(shifted["end"])
    _write(influxd.url, cfg.influx.database, stride_lines("ben", start, 600))
    now = pd.Timestamp.now(tz="UTC").floor("s")
    live_start = now - pd.Timedelta(minutes=5)
    _write(
        influxd.url,
        cfg.influx.database,
        ble_run_lines("ben", live_start, 240)
        + stride_lines("ben", live_start, 240, gct=(262.0, 238.0)),
    )
    window = pd.DataFrame({"side": ["L", "R"] * 50, "gct_ms": [262.0, 238.0] * 50})
    events = AlertEngine(cfg, pipe.journal).evaluate_live(
        "ben", window, t=now - pd.Timedelta(minutes=1)
    )
    assert [e.rule for e in events] == ["live_gct_balance"]
    load_cara(cfg, home, pipe)
    assert pipe.flush().ok
    return Demo(cfg, cfg.influx.database, influxd, (start, end), now)


def load_cara(cfg: Config, home: Path, pipe: Pipeline) -> None:
    """cara's diary and plan through the CLI (into the same journal), and one hop test."""
    mp = pytest.MonkeyPatch()
    mp.setenv("SENSORHUB_INFLUX_URL", cfg.influx.url)
    mp.setenv("SENSORHUB_INFLUX_DB", cfg.influx.database)
    base = ["--config", str(FIXTURES / "sensorhub.toml"), "--home", str(home)]
    runner = CliRunner()
    try:
        for args in (
            ["checkin", "import", str(FIXTURES / "checkins/cara.csv"), "--athlete", "cara"],
            ["plan", "start", "--athlete", "cara", "--state", str(FIXTURES / "plans/cara.toml")],
            ["plan", "status", "--athlete", "cara"],
        ):
            r = runner.invoke(app, [*base, *args])
            assert r.exit_code == 0, r.output
    finally:
        mp.undo()
    hop = FIXTURES / "readiness"
    src = readiness_source(
        "hop",
        hop / "hop_L.csv",
        hop / "hop_R.csv",
        "shank",
        "cara",
        "L",
        HOP_START,
        pain=1,
        tz=TZ["cara"],
    )
    assert Recorder(cfg, pipe.journal).record(src).status == "stored"


def athletes_for(q: str) -> list[str]:
    """Who a query must return rows for: cara for the return-to-run measurements."""
    return ["cara"] if any(m in q for m in PLAN_MEASUREMENTS) else ATHLETES


# -- Grafana's variable substitution ---------------------------------------------------------
def influx_regex_value(values: list[str]) -> str:
    """Grafana's InfluxDB formatting of a variable used in a regex: ``a`` or ``(a|b)``, each
    regex-escaped; a single number is left as it is (``interpolateQueryExpr``)."""
    if len(values) == 1 and _is_number(values[0]):
        return values[0]
    esc = [re.sub(r"([\\^$.|?*+()\[\]{}/])", r"\\\1", v) for v in values]
    return esc[0] if len(esc) == 1 else "(" + "|".join(esc) + ")"


def _is_number(text: str) -> bool:
    """JavaScript's ``!isNaN(parseFloat(text))``: the text starts with a number."""
    return re.match(r"\s*[-+]?(\d|\.\d|Infinity)", text) is not None


def variable_values(series: list[dict]) -> list[str]:
    """The options Grafana's InfluxDB data source makes of a variable query's result
    (``ResponseParser.parse``): each row's second column (the first after ``time``; a tag's
    value for SHOW TAG VALUES), else its only one, as JavaScript text, first occurrence kept,
    in the order of the rows."""
    out: list[str] = []
    for s in series:
        for row in s.get("values") or []:
            text = _js_text(row[1] if len(row) > 1 else row[0])
            if text not in out:
                out.append(text)
    return out


def _js_text(v: object) -> str:
    """``String(v)`` in JavaScript for a JSON value: a whole float prints without ``.0``."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e21:
        return str(int(v))
    return str(v)


def render(
    q: str, values: dict[str, list[str]], t0: pd.Timestamp, t1: pd.Timestamp, interval: str
) -> str:
    if t0 is None:
        q = q.replace("$timeFilter", "time > now() - 15m")
    else:
        q = q.replace(
            "$timeFilter", f"time >= {t0.value // 10**6}ms AND time <= {t1.value // 10**6}ms"
        )
    q = q.replace("$__interval", interval)
    q = re.sub(r"\$\{(\w+):doublequote\}", lambda m: ",".join(f'"{v}"' for v in values[m[1]]), q)
    q = re.sub(r"/\^\$(\w+)\$/", lambda m: f"/^{influx_regex_value(values[m[1]])}$/", q)
    q = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: values[m[1] or m[2]][0], q)
    assert not re.search(r"\$(\w|\{)", q), q  # every variable substituted
    return q


def panel_queries(board: dict) -> list[tuple[str, str]]:
    """(where, query) of every panel target, annotation and query variable."""
    out = []
    for p in board["panels"]:
        for t in p.get("targets", []):
            out.append((f"panel {p['title']!r}/{t['refId']}", t["query"]))
    for a in board["annotations"]["list"]:
        if "target" in a and "query" in a["target"]:
            out.append((f"annotation {a['name']!r}", a["target"]["query"]))
    for v in board["templating"]["list"]:
        if v["type"] == "query":
            out.append((f"variable {v['name']}", v["query"]))
    return out


def load_board(name: str) -> dict:
    return json.loads((BOARDS / f"{name}.json").read_text())


def assert_rows(demo: Demo, where: str, q: str) -> None:
    series = demo.query(q)
    assert series and any(s.get("values") for s in series), f"{where}: no rows for {q}"


# -- dashboards ----------------------------------------------------------------------------
RANGE = (pd.Timestamp("2026-09-01", tz="UTC"), pd.Timestamp("2026-11-25", tz="UTC"))


def test_squad_every_query_returns_rows_for_each_athlete(demo):
    board = load_board("squad")
    repeated = False
    for where, q in panel_queries(board):
        for a in athletes_for(q):  # the row repeats per athlete; other panels see them all
            values = {"athlete": [a], "acwr": ["acwr_rac"]}
            assert_rows(demo, f"{where} [{a}]", render(q, values, *RANGE, "1d"))
            repeated = True
        all_values = {"athlete": ATHLETES + ["cara"], "acwr": ["acwr_rac"]}
        assert_rows(demo, where, render(q, all_values, *RANGE, "1d"))
    assert repeated
    row = next(p for p in board["panels"] if p["type"] == "row")
    assert row["repeat"] == "athlete"


def test_athlete_load_every_query_returns_rows(demo):
    for where, q in panel_queries(load_board("athlete-load")):
        for a in athletes_for(q):
            values = {"athlete": [a], "acwr": ACWR_FORMS, "tz": [TZ[a]]}
            assert_rows(demo, f"{where} [{a}]", render(q, values, *RANGE, "1d"))


def _ms(t: pd.Timestamp) -> int:
    """Unix ms, floored, as the ``session`` point's ``start_ms``/``end_ms`` are written."""
    return pd.Timestamp(t).as_unit("ns").value // 10**6


def test_run_board_every_query_returns_rows_for_one_session(demo):
    t0, t1 = demo.run_range
    values = {"athlete": ["ben"], "session": [str(_ms(t0))], "session_end": [str(_ms(t1))]}
    for where, q in panel_queries(load_board("run")):
        assert_rows(demo, where, render(q, values, t0, t1, "10s"))


def test_live_board_every_query_returns_rows(demo):
    board = load_board("live")
    assert board["refresh"] == "5s" and board["time"]["from"] == "now-15m"
    for where, q in panel_queries(board):
        assert_rows(demo, where, render(q, {"athlete": ["ben"]}, None, None, "5s"))
    # the pace stat: s/km of the live window's 3.2 m/s (ble_run_lines), 5:12.5 per km
    pace = next(p for p in board["panels"] if p["title"].startswith("Pace"))
    (series,) = demo.query(
        render(pace["targets"][0]["query"], {"athlete": ["ben"]}, None, None, "5s")
    )
    assert series["values"][0][1] == pytest.approx(1000 / 3.2)


def test_squad_numbers_match_the_journal(demo):
    """Spot-check what the coach sees against the pipeline's own numbers."""
    peak = demo.query('SELECT MAX("acwr_rac") FROM "load" WHERE "athlete" = \'ana\'')
    assert peak[0]["values"][0][1] == pytest.approx(1.73, abs=0.01)
    q = 'SELECT LAST("gct_balance_left_pct") FROM "session" WHERE "athlete" =~ /^ben$/'
    assert 52.2 < demo.query(q)[0]["values"][0][1] < 52.7
    board = load_board("squad")
    open_q = next(
        t["query"] for p in board["panels"] if p.get("title") == "Open alerts" for t in p["targets"]
    )
    counts = {
        a: demo.query(render(open_q, {"athlete": [a]}, *RANGE, "1d"))[0]["values"][0][1]
        for a in ATHLETES
    }
    # ben: GCT balance band (still outside 48–52 %) and the live window; ana: pain 5/10
    assert counts == {"ana": 1, "ben": 2}


# -- the Run board's session variables -------------------------------------------------------
#: two of ana's sessions three days apart and one of ben's between them
TWO_SESSIONS = ("ana/2026-11-12-0740.fit", "ana/2026-11-15-0904.fit", "ben/2026-11-13-1838.fit")
#: Grafana's default range for the board, far from every session: it must not matter
PICKER = (pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=7), pd.Timestamp.now(tz="UTC"))
SPAN = "time >= ${session}ms AND time <= ${session_end}ms"


@dataclass
class TwoSessions:
    db: str
    influxd: object
    spans: list[tuple[int, int]]  # ana's sessions (start_ms, end_ms), oldest first

    def query(self, q: str) -> list[dict]:
        return self.influxd.query(self.db, q)


@pytest.fixture(scope="module")
def two_sessions(influxd, tmp_path_factory) -> TwoSessions:
    """Three fixture FIT files through the Pipeline into a fresh database, and IMU strides in
    each of ana's sessions (the board's per-step panels)."""
    home = tmp_path_factory.mktemp("grafana-two")
    cfg = load_config(FIXTURES / "sensorhub.toml", home=home)
    cfg.influx.url, cfg.influx.database = influxd.url, "g2_" + uuid.uuid4().hex[:8]
    cfg.influx.token = cfg.influx.username = cfg.influx.password = ""
    pipe = Pipeline(cfg)
    report = pipe.ingest([FIXTURES / "fit" / f for f in TWO_SESSIONS])
    assert not report.failed and len(report.files) == 3 and report.flush.ok
    ana = pipe.journal.sessions("ana")
    spans = [(_ms(s), _ms(e)) for s, e in zip(ana["start"], ana["end"], strict=True)]
    assert len(spans) == 2 and spans[0][1] < spans[1][0]
    for start in ana["start"]:
        _write(influxd.url, cfg.influx.database, stride_lines("ana", pd.Timestamp(start), 300))
    pipe.journal.close()
    return TwoSessions(cfg.influx.database, influxd, spans)


def _times(series: list[dict]) -> list[int]:
    return [row[0] for s in series for row in s.get("values") or []]


def run_variables(d: TwoSessions, athlete: str, pick: int = 0) -> dict[str, list[str]]:
    """The Run board's variables as Grafana resolves them on load: ``athlete`` from its
    query, then ``session`` (nothing stored as current, so option ``pick``: 0 = the first),
    then ``session_end`` from the chosen session."""
    board = load_board("run")
    var = {v["name"]: v for v in board["templating"]["list"]}
    assert athlete in variable_values(d.query(var["athlete"]["query"]))
    values = {"athlete": [athlete]}
    for name in ("session", "session_end"):
        assert var[name]["current"]["value"] == ""  # no stored choice
        options = variable_values(d.query(render(var[name]["query"], values, *PICKER, "10m")))
        values[name] = [options[pick if name == "session" else 0]]
        values[f"{name}_options"] = options
    return values


def test_session_variable_lists_the_athletes_sessions_newest_first(two_sessions):
    d = two_sessions
    (old_start, _), (new_start, new_end) = d.spans
    values = run_variables(d, "ana")
    # whole Unix ms as text (no ".0", no exponent): the panel queries use it as ``…ms``
    assert values["session_options"] == [str(new_start), str(old_start)]
    assert values["session"] == [str(new_start)]
    assert values["session_end_options"] == [str(new_end)]
    ben = run_variables(d, "ben")["session_options"]
    assert len(ben) == 1 and ben[0] not in values["session_options"]


@pytest.mark.parametrize("pick", [0, 1], ids=["newest", "older"])
def test_run_board_panels_show_the_chosen_session_only(two_sessions, pick):
    """Every panel of the Run board returns rows, all inside the chosen session (5-s buckets
    may start up to 5 s before it), none from ana's other session or ben's, whatever the time
    picker says; the span holds every ``run`` point of the session (the end cuts none)."""
    d = two_sessions
    values = run_variables(d, "ana", pick)
    start, end = d.spans[1 - pick]
    board = load_board("run")
    bounded = 0
    for where, q in panel_queries(board):
        if SPAN not in q:
            assert where.startswith(("variable", "annotation")) or "LIMIT 10" in q, where
            continue
        times = _times(d.query(render(q, values, *PICKER, "10m")))
        assert times, f"{where}: no rows"
        assert all(start - 5000 < t <= end for t in times), f"{where}: {min(times)}–{max(times)}"
        bounded += 1
    assert bounded >= 10
    count = 'SELECT COUNT("distance_m") FROM "run" WHERE "athlete" =~ /^$athlete$/ AND '
    (n_in,) = _column(d.query(render(count + SPAN, values, *PICKER, "1m")))
    until = d.spans[1][0] if pick else 10**14  # up to the next session, or all later points
    (n_all,) = _column(
        d.query(render(count + f"time >= {start}ms AND time < {until}ms", values, *PICKER, "1m"))
    )
    assert n_in == n_all > 100


def _column(series: list[dict]) -> list:
    """The first column after ``time`` of every row."""
    return [row[1] for s in series for row in s.get("values") or []]


def test_interpolation_escapes_like_grafana():
    q = 'SELECT "x" FROM "s" WHERE "athlete" =~ /^$athlete$/ AND time >= ${session}ms'
    got = render(q, {"athlete": ["a.b/c"], "session": ["1762934400000"]}, *PICKER, "1m")
    assert got == 'SELECT "x" FROM "s" WHERE "athlete" =~ /^a\\.b\\/c$/ AND time >= 1762934400000ms'
    many = render('WHERE "athlete" =~ /^$athlete$/', {"athlete": ["a", "b+"]}, *PICKER, "1m")
    assert many == 'WHERE "athlete" =~ /^(a|b\\+)$/'
    assert variable_values([{"values": [[1, 1.7629344e12], [2, 1.7629344e12], [3, "x"]]}]) == [
        "1762934400000",
        "x",
    ]


# -- Grafana-managed alert rules -----------------------------------------------------------
def test_every_alert_rule_query_returns_rows(demo):
    groups = yaml.safe_load(RULES.read_text())["groups"]
    now = pd.Timestamp("2026-11-16", tz="UTC")  # the day after the demo's last runs
    n = 0
    for rule in (r for g in groups for r in g["rules"]):
        refs = {d["refId"] for d in rule["data"]}
        assert rule["condition"] in refs
        for d in rule["data"]:
            if d["datasourceUid"] == "__expr__":
                used = set(re.findall(r"\$(\w+)", d["model"].get("expression", "")))
                used |= {d["model"]["expression"]} if d["model"]["type"] != "math" else set()
                assert used <= refs, rule["uid"]
                continue
            rt = d["relativeTimeRange"]
            t0 = now - pd.Timedelta(seconds=rt["from"])
            t1 = now - pd.Timedelta(seconds=rt["to"])
            q = render(d["model"]["query"], {}, t0, t1, "1m")
            series = demo.query(q)
            assert {s["tags"]["athlete"] for s in series} & set(ATHLETES), f"{rule['uid']}: {q}"
            n += 1
    assert n >= 9


# -- return to run ---------------------------------------------------------------------------
def _time(v) -> pd.Timestamp:
    """A time column value of the query API (epoch ms) as a UTC timestamp."""
    return pd.Timestamp(v, unit="ms", tz="UTC")


def _panel(board: dict, title: str) -> dict:
    return next(p for p in board["panels"] if p.get("title") == title)


def test_squad_plan_column_shows_cara_stage_and_decision_and_nothing_without_a_plan(demo):
    p = _panel(load_board("squad"), "Return to run · $athlete")
    assert (p["repeat"], p["repeatDirection"]) == ("athlete", "h")
    colours = p["fieldConfig"]["defaults"]["mappings"][0]["options"]
    assert {d: m["color"] for d, m in colours.items()} == {
        "progress": "green",
        "repeat": "orange",
        "step-back": "red",
        "rest": "red",
    }
    q = p["targets"][0]["query"]
    (series,) = demo.query(render(q, {"athlete": ["cara"]}, *RANGE, "1d"))
    last = dict(zip(series["columns"], series["values"][0], strict=True))
    assert (last["stage"], last["decision"]) == ("Walk-run 4", "progress")
    assert demo.query(render(q, {"athlete": ["ana"]}, *RANGE, "1d")) == []
    assert p["fieldConfig"]["defaults"]["noValue"] == "no plan"


def test_athlete_pain_timeline_lsi_and_stage_change_annotations(demo):
    board = load_board("athlete-load")
    values = {"athlete": ["cara"], "acwr": ACWR_FORMS, "tz": [TZ["cara"]]}
    q = _panel(board, "Pain timeline (check-ins)")["targets"][0]["query"]
    series = demo.query(render(q, values, *RANGE, "1d"))
    whens = {s["tags"]["when"] for s in series}
    assert whens == {"during", "after", "next-morning"}
    morning = next(s for s in series if s["tags"]["when"] == "next-morning")
    flare = max(morning["values"], key=lambda v: v[1])
    assert (
        flare[1] == 3 and _time(flare[0]).tz_convert(TZ["cara"]).strftime("%m-%d") == "11-03"
    )  # the one flare (README)
    anno = next(a for a in board["annotations"]["list"] if a["name"] == "plan stage changes")
    rows = demo.query(render(anno["target"]["query"], values, *RANGE, "1d"))[0]["values"]
    days = [_time(r[0]).tz_convert(TZ["cara"]).strftime("%m-%d") for r in rows]
    assert days == ["10-24", "10-30", "11-09", "11-15"]  # her four progress days
    lsi_panel = _panel(board, "Readiness tests: limb symmetry index")
    steps = lsi_panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert 90 in [s["value"] for s in steps]
    (lsi,) = demo.query(render(lsi_panel["targets"][0]["query"], values, *RANGE, "1d"))
    row = dict(zip(lsi["columns"], lsi["values"][0], strict=True))
    stored = Pipeline(demo.cfg).journal.readiness.results("cara").iloc[0]
    assert row["hop height"] == pytest.approx(stored["lsi_height_pct"])
    assert _time(row["time"]) == HOP_START


# -- the Run board's charts: x = minutes since the session's start (Trend panels) ------------
Frame = dict[str, list]


def influx_frames(series: list[dict], alias: str) -> list[Frame]:
    """The data frames Grafana's InfluxQL data source makes of a query result: one per series
    and value column, a ``Time`` field (epoch ms) and the value field named by the target's
    alias (``$tag_x`` filled in from the series' tags), else by the column."""
    out = []
    for s in series:
        rows, tags = s.get("values") or [], s.get("tags", {})
        for j, col in enumerate(s["columns"][1:], start=1):
            name = re.sub(r"\$tag_(\w+)", lambda m, tags=tags: tags[m[1]], alias) or col
            out.append({"Time": [r[0] for r in rows], name: [r[j] for r in rows]})
    return out


def interpolate(text: str, values: dict[str, list[str]]) -> str:
    """Grafana's variable interpolation of a transformation's options (JSON text)."""
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: values[m[1] or m[2]][0], text)


def _operand(frame: Frame, value: dict) -> list:
    if "matcher" in value:
        return frame[value["matcher"]["options"]]
    return [float(value["fixed"])] * len(frame["Time" if "Time" in frame else next(iter(frame))])


OPS = {"-": lambda a, b: a - b, "/": lambda a, b: a / b, "+": lambda a, b: a + b}


def apply_transformations(frames: list[Frame], steps: list[dict], values) -> list[Frame]:
    """The transformations the boards use, as Grafana applies them (variables interpolated in
    their options first): joinByField (outer/inner on one field), calculateField in binary
    mode (field or number on each side; nulls stay null), organize (excludeByName)."""
    steps = json.loads(interpolate(json.dumps(steps), values))
    for step in steps:
        opts = step["options"]
        if step["id"] == "joinByField":
            key = opts["byField"]
            keys = [set(f[key]) for f in frames]
            xs = sorted(set.union(*keys) if opts["mode"] == "outer" else set.intersection(*keys))
            joined: Frame = {key: xs}
            for f in frames:
                rows = zip(*(f[n] for n in f if n != key), strict=True)
                at = dict(zip(f[key], rows, strict=True))
                for i, n in enumerate(n for n in f if n != key):
                    joined[n] = [at[x][i] if x in at else None for x in xs]
            frames = [joined]
        elif step["id"] == "calculateField":
            assert opts["mode"] == "binary"
            b, op = opts["binary"], OPS[opts["binary"]["operator"]]
            for f in frames:
                left, right = _operand(f, b["left"]), _operand(f, b["right"])
                f[opts["alias"]] = [
                    None if x is None or y is None else op(x, y)
                    for x, y in zip(left, right, strict=True)
                ]
        elif step["id"] == "organize":
            frames = [
                {n: v for n, v in f.items() if not opts["excludeByName"].get(n)} for f in frames
            ]
        else:
            raise AssertionError(f"transformation {step['id']} not emulated")
    return frames


def panel_frames(d, panel: dict, values: dict[str, list[str]]) -> list[Frame]:
    frames = []
    for t in panel["targets"]:
        series = d.query(render(t["query"], values, *PICKER, "10m"))
        frames += influx_frames(series, t.get("alias", ""))
    return apply_transformations(frames, panel.get("transformations", []), values)


@pytest.mark.parametrize("pick", [0, 1], ids=["newest", "older"])
def test_run_board_charts_span_the_chosen_session_on_minutes_since_its_start(two_sessions, pick):
    """What each Trend panel of the Run board draws on the demo data, with the time picker a
    week away from the session: one frame (what the Trend panel accepts), its x field (the
    panel's ``xField``) strictly ascending (the panel refuses anything else) from the session's
    first 5 s to its end in minutes, and the panel's values beside it; the XY chart's left and
    right fields joined on time."""
    d = two_sessions
    values = run_variables(d, "ana", pick)
    start, end = d.spans[1 - pick]
    length_min = (end - start) / 60000
    assert length_min > 20
    board = load_board("run")
    trends = [p for p in board["panels"] if p["type"] == "trend"]
    assert len(trends) >= 9
    for p in trends:
        (frame,) = panel_frames(d, p, values)
        x = frame.pop(p["options"]["xField"])
        assert set(frame) and "Time" not in frame, p["title"]
        assert all(b > a for a, b in itertools.pairwise(x)), p["title"]
        assert -5 / 60 < x[0] < 1 and x[-1] <= length_min, (p["title"], x[0], x[-1])
        for name, ys in frame.items():
            assert len(ys) == len(x) and any(isinstance(y, int | float) for y in ys), (
                p["title"],
                name,
            )
    (xy,) = [p for p in board["panels"] if p["type"] == "xychart"]
    (frame,) = panel_frames(d, xy, values)
    (series,) = xy["options"]["series"]
    left, right = frame[series["x"]["matcher"]["options"]], frame[series["y"]["matcher"]["options"]]
    assert len(left) == len(right) > 50 and None not in left + right
    # the per-step panel holds both sides after its join, every step of the session
    steps = next(p for p in trends if "per step" in p["title"])
    (frame,) = panel_frames(d, steps, values)
    assert {"L", "R"} <= set(frame)
    n = sum(v is not None for side in ("L", "R") for v in frame[side])
    assert n == int(300 / (60.0 / 170.0))  # stride_lines: 300 s of steps at 170/min
