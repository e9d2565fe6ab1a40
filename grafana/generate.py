"""Generate sensorhub's Grafana dashboards and alert rules (the committed JSON/YAML is the output).

    .venv/bin/python grafana/generate.py          # rewrite grafana/dashboards/*.json and
                                                  # grafana/provisioning/alerting/sensorhub-rules.yaml

Every query is InfluxQL against the schema in docs/schema.md (measurements ``run``,
``session``, ``load``, ``alert``, the IMU engine's ``stride``, and the return-to-run
``symptom``, ``plan`` and ``readiness``). Template variables:
``$athlete`` (``SHOW TAG VALUES FROM "session" WITH KEY = "athlete"``), ``$acwr`` (which ACWR
form), Grafana's time picker (``$timeFilter``, ``$__interval``) and, on the Run board,
``$session``/``$session_end`` (the selected session's span in Unix ms, newest by default: the
``start_ms``/``end_ms`` fields of the ``session`` point). Needs PyYAML (test extra).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DS = {"type": "influxdb", "uid": "sensorhub-influxdb"}
ATHLETE = '"athlete" =~ /^$athlete$/'
SCHEMA_VERSION = 39
TAGS = ["sensorhub"]
BOARD = {
    "squad": "sensorhub-squad",
    "athlete": "sensorhub-athlete",
    "run": "sensorhub-run",
    "live": "sensorhub-live",
}

# -- building blocks -----------------------------------------------------------------------


def target(query: str, ref: str = "A", alias: str = "", fmt: str = "time_series") -> dict:
    """A raw InfluxQL target."""
    t = {"refId": ref, "datasource": DS, "rawQuery": True, "query": query, "resultFormat": fmt}
    if alias:
        t["alias"] = alias
    return t


def thresholds(*steps: tuple[float | None, str]) -> dict:
    return {"mode": "absolute", "steps": [{"value": v, "color": c} for v, c in steps]}


def link(title: str, url: str) -> dict:
    """A panel/data link (all keys the dashboard schema requires)."""
    return {
        "title": title,
        "type": "link",
        "url": url,
        "icon": "dashboard",
        "tooltip": title,
        "tags": [],
        "asDropdown": False,
        "targetBlank": False,
        "includeVars": False,
        "keepTime": False,
    }


class Grid:
    """Place panels left to right, wrapping at 24 columns."""

    def __init__(self) -> None:
        self.x = self.y = self.row_h = 0
        self.next_id = 1

    def pos(self, w: int, h: int) -> dict:
        if self.x + w > 24:
            self.x, self.y, self.row_h = 0, self.y + self.row_h, 0
        p = {"x": self.x, "y": self.y, "w": w, "h": h}
        self.x += w
        self.row_h = max(self.row_h, h)
        return p

    def newline(self) -> None:
        if self.x:
            self.x, self.y, self.row_h = 0, self.y + self.row_h, 0

    def id(self) -> int:
        self.next_id += 1
        return self.next_id - 1


def timeseries(
    g: Grid,
    title: str,
    targets: list[dict],
    unit: str,
    w: int = 12,
    h: int = 8,
    draw: str = "line",
    steps: tuple = (),
    area: bool = False,
    desc: str = "",
    points: bool = False,
    **custom: Any,
) -> dict:
    graph = {
        "drawStyle": draw,
        "lineWidth": 1 if draw != "bars" else 0,
        "fillOpacity": 80 if draw == "bars" else 10,
        "showPoints": "always" if points else "never",
        "pointSize": 4,
        "spanNulls": 3600000 * 30,
        **custom,
    }
    if steps:
        graph["thresholdsStyle"] = {"mode": "line+area" if area else "dashed"}
    defaults = {
        "unit": unit,
        "custom": graph,
        "color": {"mode": "palette-classic"},
        "thresholds": thresholds(*(steps or ((None, "transparent"),))),
    }
    return {
        "type": "timeseries",
        "id": g.id(),
        "title": title,
        "description": desc,
        "datasource": DS,
        "gridPos": g.pos(w, h),
        "targets": targets,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {
            "legend": {
                "displayMode": "list",
                "placement": "bottom",
                "showLegend": True,
                "calcs": [],
            },
            "tooltip": {"mode": "multi", "sort": "none"},
        },
    }


def stat(
    g: Grid,
    title: str,
    query: str,
    unit: str,
    steps: tuple,
    w: int = 3,
    h: int = 5,
    decimals: int | None = 2,
    desc: str = "",
    links: list | None = None,
    fields: str = "",
    no_value: str = "-",
) -> dict:
    defaults: dict[str, Any] = {
        "unit": unit,
        "thresholds": thresholds(*steps),
        "color": {"mode": "thresholds"},
        "noValue": no_value,
    }
    if decimals is not None:
        defaults["decimals"] = decimals
    return {
        "type": "stat",
        "id": g.id(),
        "title": title,
        "description": desc,
        "datasource": DS,
        "gridPos": g.pos(w, h),
        "targets": [target(query)],
        "links": links or [],
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {
            "graphMode": "none",
            "colorMode": "background",
            "justifyMode": "center",
            "textMode": "value",
            "wideLayout": True,
            "showPercentChange": False,
            "percentChangeColorMode": "standard",
            "orientation": "auto",
            "reduceOptions": {"values": False, "calcs": ["lastNotNull"], "fields": fields},
        },
    }


def table(
    g: Grid,
    title: str,
    targets: list[dict],
    w: int = 24,
    h: int = 8,
    desc: str = "",
    links: list | None = None,
    transformations: list | None = None,
) -> dict:
    return {
        "type": "table",
        "id": g.id(),
        "title": title,
        "description": desc,
        "datasource": DS,
        "gridPos": g.pos(w, h),
        "targets": targets,
        "transformations": transformations or [],
        "fieldConfig": {
            "defaults": {"links": links or [], "custom": {"align": "auto"}},
            "overrides": [],
        },
        "options": {"showHeader": True, "cellHeight": "sm", "footer": {"show": False}},
    }


def row(g: Grid, title: str, repeat: str = "") -> dict:
    g.newline()
    r = {
        "type": "row",
        "id": g.id(),
        "title": title,
        "collapsed": False,
        "panels": [],
        "gridPos": g.pos(24, 1),
    }
    g.newline()
    if repeat:
        r["repeat"] = repeat
    return r


def athlete_var(multi: bool) -> dict:
    q = 'SHOW TAG VALUES FROM "session" WITH KEY = "athlete"'
    return {
        "type": "query",
        "name": "athlete",
        "label": "Athlete",
        "datasource": DS,
        "query": q,
        "definition": q,
        "refresh": 1,
        "sort": 1,
        "multi": multi,
        "includeAll": multi,
        "regex": "",
    }


def acwr_var(multi: bool) -> dict:
    opts = [
        ("coupled 7/28 (Gabbett)", "acwr_rac"),
        ("uncoupled 7/28", "acwr_rau"),
        ("EWMA 7/28 (Williams)", "acwr_ewma"),
    ]
    return {
        "type": "custom",
        "name": "acwr",
        "label": "ACWR form",
        "multi": multi,
        "includeAll": False,
        "query": ",".join(f"{t} : {v}" for t, v in opts),
        "current": {"text": opts[0][0], "value": opts[0][1]},
        "options": [{"text": t, "value": v, "selected": i == 0} for i, (t, v) in enumerate(opts)],
    }


def tz_var() -> dict:
    """The athlete's IANA time zone (config ``tz``): calendar weeks and days are counted in it
    (InfluxQL ``tz()``); the board itself shows times in the viewer's browser zone."""
    return {
        "type": "textbox",
        "name": "tz",
        "label": "Athlete time zone",
        "query": "UTC",
        "current": {"text": "UTC", "value": "UTC"},
        "options": [{"text": "UTC", "value": "UTC", "selected": True}],
        "description": "IANA zone of the athlete (tz in sensorhub's config), e.g. Europe/Madrid",
    }


def alert_annotation() -> dict:
    q = f'SELECT "message", "rule", "severity" FROM "alert" WHERE {ATHLETE} AND $timeFilter'
    return {
        "name": "sensorhub alerts",
        "datasource": DS,
        "enable": True,
        "hide": False,
        "iconColor": "red",
        "target": {
            "refId": "Anno",
            "query": q,
            "rawQuery": True,
            "fromAnnotations": True,
            "textColumn": "message",
            "tagsColumn": "rule,severity",
        },
    }


def dashboard(
    uid: str,
    title: str,
    panels: list,
    variables: list,
    time: tuple[str, str],
    refresh: str = "",
    annotations: list | None = None,
    desc: str = "",
) -> dict:
    builtin = {
        "name": "Annotations & Alerts",
        "datasource": {"type": "grafana", "uid": "-- Grafana --"},
        "enable": True,
        "hide": True,
        "iconColor": "rgba(0, 211, 255, 1)",
        "builtIn": 1,
        "type": "dashboard",
    }
    links = [
        {
            "title": "sensorhub",
            "type": "dashboards",
            "icon": "external link",
            "tooltip": "",
            "tags": TAGS,
            "asDropdown": True,
            "targetBlank": False,
            "includeVars": True,
            "keepTime": True,
        }
    ]
    return {
        "uid": uid,
        "title": title,
        "description": desc,
        "tags": TAGS,
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "time": {"from": time[0], "to": time[1]},
        "refresh": refresh,
        "templating": {"list": variables},
        "annotations": {"list": [builtin, *(annotations or [])]},
        "links": links,
        "panels": panels,
    }


#: colour of each plan decision (docs/return-to-run.md): progress green, repeat amber,
#: step-back and rest red
DECISION_COLOURS = {"progress": "green", "repeat": "orange", "step-back": "red", "rest": "red"}


def decision_mappings() -> list[dict]:
    """Grafana value mappings that colour a plan decision (a string field)."""
    return [
        {
            "type": "value",
            "options": {
                d: {"text": d, "color": c, "index": i}
                for i, (d, c) in enumerate(DECISION_COLOURS.items())
            },
        }
    ]


def plan_column(g: Grid) -> dict:
    """Squad: one column per athlete (the panel repeats over $athlete, left to right) with the
    plan stage and the day's decision, the last ``plan`` point in the range; "no plan" for an
    athlete without one."""
    p = stat(
        g,
        "Return to run · $athlete",
        'SELECT LAST("stage_name") AS "stage", LAST("decision") AS "decision" FROM "plan" '
        f"WHERE {ATHLETE} AND $timeFilter",
        "none",
        ((None, "text"),),
        w=4,
        h=4,
        decimals=None,
        fields="/^(stage|decision)$/",
        no_value="no plan",
        desc="The plan stage and the plan's decision for the latest day in the range (plan "
        "measurement): progress green, repeat amber, step-back or rest red. A plan supports "
        "a clinician's decision; it does not make one (docs/return-to-run.md).",
    )
    p["fieldConfig"]["defaults"]["mappings"] = decision_mappings()
    p["options"]["textMode"] = "value_and_name"
    p["options"]["orientation"] = "vertical"
    p.update(repeat="athlete", repeatDirection="h", maxPerRow=6)
    return p


#: the check-in moments of the pain timeline (``symptom`` tag ``when``)
PAIN_WHENS = ("during", "after", "next-morning")
#: a limb symmetry index of 90 % or more: the criterion most return-to-run guidance uses
LSI_STEPS = ((None, "transparent"), (90, "green"))


def plan_annotation() -> dict:
    """Stage changes of the plan: the days whose decision moves the athlete to another stage
    (progress, step-back), with the plan's reasons as the text."""
    q = (
        'SELECT "stage_name", "decision", "reasons" FROM "plan" WHERE '
        f"{ATHLETE} AND (\"decision\" = 'progress' OR \"decision\" = 'step-back') AND $timeFilter"
    )
    return {
        "name": "plan stage changes",
        "datasource": DS,
        "enable": True,
        "hide": False,
        "iconColor": "purple",
        "target": {
            "refId": "Plan",
            "query": q,
            "rawQuery": True,
            "fromAnnotations": True,
            "textColumn": "reasons",
            "tagsColumn": "decision,stage_name",
        },
    }


def return_to_run_panels(g: Grid) -> list[dict]:
    """Athlete board: pain timeline from the check-ins and readiness LSI per test."""
    whens = "|".join(PAIN_WHENS)
    pain = timeseries(
        g,
        "Pain timeline (check-ins)",
        [
            target(
                f'SELECT "pain" FROM "symptom" WHERE {ATHLETE} AND "when" =~ /^({whens})$/ '
                'AND "deleted" = 0 AND $timeFilter GROUP BY "when", "site"',
                alias="$tag_when · $tag_site",
            )
        ],
        "none",
        draw="points",
        points=True,
        steps=((None, "transparent"), (5, "red")),
        desc="Pain 0–10 during, after and the morning after sessions (sensorhub checkin; "
        "deleted check-ins are left out). Dashed: 5/10, the usual pain-monitoring limit "
        "(Silbernagel 2007); the plan's own limits are in its template. Purple marks: the "
        "plan's stage changes.",
    )
    pain["fieldConfig"]["defaults"].update(min=0, max=10)
    lsi = timeseries(
        g,
        "Readiness tests: limb symmetry index",
        [
            target(
                'SELECT "lsi_height_pct" AS "hop height", "lsi_rsi_pct" AS "hop RSI", '
                '"lsi_reps_pct" AS "heel-raise reps", "lsi_rms_pct" AS "balance sway" '
                f'FROM "readiness" WHERE {ATHLETE} AND "side" = \'lsi\' AND $timeFilter',
            )
        ],
        "percent",
        draw="points",
        points=True,
        steps=LSI_STEPS,
        desc="Involved leg as % of the other per test (sensorhub test; docs/readiness.md). "
        "Dashed: 90 %, the symmetry criterion most return-to-run guidance uses. Supports a "
        "clinician's decision; not a diagnosis.",
    )
    return [row(g, "Return to run"), pain, lsi]


# -- boards --------------------------------------------------------------------------------
#: the Run board on the session starting at ``${__value.time}`` (ms: the ``session`` point's
#: time is its start, so it is also the ``$session`` value), the time range 4 h around it
LAST_SESSION_URL = (
    "/d/sensorhub-run/run?var-athlete=$athlete&var-session=${__value.time}"
    "&time=${__value.time}&time.window=14400000"
)

#: the Run board's panels select the chosen session's span, not the time picker's range
SESSION_SPAN = "time >= ${session}ms AND time <= ${session_end}ms"
#: fixed buckets: ``$__interval`` follows the time picker, which no longer bounds the data
#: (a 7-day picker would give 10-minute means of a 40-minute run)
SESSION_GROUP = "GROUP BY time(5s) fill(none)"
#: a variable's values: the first column after time of each row, in query order
SESSION_QUERY = f'SELECT "start_ms" FROM "session" WHERE {ATHLETE} ORDER BY time DESC LIMIT 200'
SESSION_END_QUERY = f'SELECT "end_ms" FROM "session" WHERE {ATHLETE} AND "start_ms" = $session'


def session_vars() -> list[dict]:
    """``$session``: the athlete's sessions by start (Unix ms), newest first; nothing is
    stored as current, so Grafana selects the first (newest) on every load. ``$session_end``
    (hidden): that session's end. A session whose point was written before ``start_ms`` existed
    is not listed."""
    common = {
        "type": "query",
        "datasource": DS,
        "refresh": 1,  # on dashboard load: a new session appears without editing the board
        "sort": 0,  # query order: newest first
        "multi": False,
        "includeAll": False,
        "regex": "",
        "current": {"text": "", "value": ""},
        "options": [],
    }
    return [
        {
            **common,
            "name": "session",
            "label": "Session start (Unix ms, newest first)",
            "description": "The session the board shows; the text line above the charts "
            "gives its start as a date",
            "query": SESSION_QUERY,
            "definition": SESSION_QUERY,
        },
        {
            **common,
            "name": "session_end",
            "label": "Session end (Unix ms)",
            "hide": 2,
            "query": SESSION_END_QUERY,
            "definition": SESSION_END_QUERY,
        },
    ]


#: the x field of the Run board's charts: minutes since the chosen session's start
ELAPSED = "min since start"


def elapsed_transformations(join: bool = False) -> list[dict]:
    """Grafana transformations giving a panel's single frame an x field that fits the session:
    ``(Time - ${session}) / 60000`` minutes, then ``Time`` and the intermediate ms dropped.
    Grafana (11.6 and later; docker-compose.yml runs 12.0.2; grafana/grafana#100225)
    interpolates dashboard variables in every transformation's options before running them,
    so ``${session}`` is the chosen session's start in Unix ms. ``join``: an outer join on
    ``Time`` first, for a query returning several series (a Trend panel draws one frame).
    """
    steps: list[dict] = []
    if join:
        steps.append({"id": "joinByField", "options": {"byField": "Time", "mode": "outer"}})

    def binary(left: str, op: str, right: str, alias: str) -> dict:
        return {
            "id": "calculateField",
            "options": {
                "mode": "binary",
                "binary": {
                    "left": {"matcher": {"id": "byName", "options": left}},
                    "operator": op,
                    "right": {"fixed": right},
                },
                "alias": alias,
            },
        }

    steps += [
        binary("Time", "-", "${session}", "elapsed_ms"),
        binary("elapsed_ms", "/", "60000", ELAPSED),
        {
            "id": "organize",
            "options": {
                "excludeByName": {"Time": True, "elapsed_ms": True},
                "indexByName": {},
                "renameByName": {},
            },
        },
    ]
    return steps


def session_trend(panel: dict, join: bool = False) -> dict:
    """A Run-board chart as a Trend panel (Grafana 10 and later): its x-axis is minutes since
    the session's start (:func:`elapsed_transformations`), not the time picker's range, so it
    fits the chosen session when the board opens, whatever the picker says (a time-series
    panel draws over the picker's range: a 40-minute run in the 7-day default is a sliver)."""
    custom = panel["fieldConfig"]["defaults"]["custom"]
    custom["spanNulls"] = True  # x is minutes, not ms: connect the gaps the outer join leaves
    panel["fieldConfig"]["overrides"].append(
        {
            "matcher": {"id": "byName", "options": ELAPSED},
            "properties": [
                {"id": "unit", "value": "none"},
                {"id": "decimals", "value": 0},
                {"id": "custom.axisLabel", "value": "minutes since the start"},
                # the x field's own placement: a hidden one (pace hides its y axis) hides x
                {"id": "custom.axisPlacement", "value": "auto"},
            ],
        }
    )
    panel.update(type="trend", transformations=elapsed_transformations(join))
    panel["options"]["xField"] = ELAPSED
    return panel


def session_note(g: Grid) -> dict:
    """A line saying which session the board shows and that the time picker does not choose
    it (Grafana's ``date`` format turns the ms value into a date, in the browser's zone)."""
    text = (
        "Showing **$athlete**'s session that started **${session:date:YYYY-MM-DD HH:mm}** "
        "(newest by default; pick another under *Session start*, or open one from *Last "
        "sessions*). The charts show this session whatever the time picker says: their x-axis "
        "is minutes since its start."
    )
    return {
        "type": "text",
        "id": g.id(),
        "title": "",
        "transparent": True,
        "gridPos": g.pos(24, 2),
        "options": {"mode": "markdown", "content": text},
    }


#: calendar weeks, Monday to Sunday, in the athlete's zone (InfluxDB's 1w buckets start on a
#: Thursday, the epoch's weekday: the 4-day offset moves them to Monday)
WEEKS = "GROUP BY time(1w, 4d) fill(0) tz('$tz')"


ACWR_STEPS = ((None, "blue"), (0.8, "green"), (1.3, "orange"), (1.5, "red"))
BAND_STEPS = ((None, "red"), (48, "green"), (52.0001, "red"))


def squad() -> dict:
    """Coach view: one repeated row per athlete with the numbers that matter today."""
    g = Grid()
    athlete_url = f"/d/{BOARD['athlete']}/athlete-load?var-athlete=$athlete&$__url_time_range"
    run_url = f"/d/{BOARD['run']}/run?var-athlete=$athlete&$__url_time_range"
    panels = [
        timeseries(
            g,
            "ACWR ($acwr) by athlete",
            [
                target(
                    f'SELECT "$acwr" FROM "load" WHERE {ATHLETE} AND $timeFilter GROUP BY "athlete"',
                    alias="$tag_athlete",
                )
            ],
            "none",
            w=14,
            steps=ACWR_STEPS[:3],
            area=True,
            desc="Acute:chronic workload ratio. Shaded: 0.8–1.3, the conventional reference "
            "band of the ACWR literature (Gabbett 2016). Describes load change, not injury risk "
            "(Impellizzeri 2020).",
        ),
        table(
            g,
            "Alerts",
            [
                target(
                    'SELECT "message", "value", "threshold", "open" FROM "alert" WHERE '
                    f'{ATHLETE} AND $timeFilter GROUP BY "athlete", "rule", "severity"',
                    fmt="table",
                )
            ],
            w=10,
            desc="sensorhub alert events (open = 1, cleared = 0)",
        ),
    ]
    g.newline()
    panels.append(plan_column(g))
    panels.append(row(g, "$athlete", repeat="athlete"))
    panels += [
        stat(
            g,
            "ACWR",
            f'SELECT LAST("$acwr") FROM "load" WHERE {ATHLETE} AND $timeFilter',
            "none",
            ACWR_STEPS,
            links=[link("Athlete load", athlete_url)],
            desc="Latest acute:chronic ratio; 0.8–1.3 is the conventional reference band, "
            "sensorhub alerts a load spike above 1.5. Describes load change, not injury risk.",
        ),
        stat(
            g,
            "7-day load",
            f'SELECT LAST("acute") * 7 FROM "load" WHERE {ATHLETE} AND $timeFilter',
            "none",
            ((None, "text"),),
            decimals=0,
            desc="Sum of the last 7 days' load (AU) = 7 × acute",
        ),
        stat(
            g,
            "Monotony",
            f'SELECT LAST("monotony") FROM "load" WHERE {ATHLETE} AND $timeFilter',
            "none",
            ((None, "green"), (2.0, "red")),
            desc="Mean / SD of the last 7 daily loads (Foster 1998); > 2 monotonous",
        ),
        stat(
            g,
            "GCT balance",
            f'SELECT LAST("gct_balance_left_pct") FROM "session" WHERE {ATHLETE} AND $timeFilter',
            "percent",
            BAND_STEPS,
            decimals=1,
            links=[link("Last run", run_url)],
            desc="Latest session's ground-contact-time balance, % on the left foot (48–52 band)",
        ),
        stat(
            g,
            "GCT SI vs baseline",
            f'SELECT LAST("gct_si_pct") - MEAN("gct_si_pct") FROM '
            f'"session" WHERE {ATHLETE} AND $timeFilter',
            "none",
            ((None, "red"), (-4, "green"), (4, "red")),
            decimals=1,
            desc="Latest session's GCT symmetry index minus the athlete's mean over the "
            "selected range (percentage points; ±4 = 1 pp of balance)",
        ),
        stat(
            g,
            "Last session",
            f'SELECT LAST("duration_s") FROM "session" WHERE {ATHLETE} AND $timeFilter',
            "dateTimeFromNow",
            ((None, "text"),),
            decimals=None,
            fields="Time",
            links=[link("Open the last session", LAST_SESSION_URL)],
            desc="Start of the latest synced session; the link opens it on the Run board",
        ),
        stat(
            g,
            "Open alerts",
            'SELECT SUM("open") FROM (SELECT LAST("open") AS "open" FROM '
            f'"alert" WHERE {ATHLETE} GROUP BY "rule")',
            "none",
            ((None, "green"), (1, "red")),
            decimals=0,
            no_value="0",
            desc="Rules currently open for the athlete (all time)",
        ),
    ]
    return dashboard(
        BOARD["squad"],
        "sensorhub · Squad",
        panels,
        [athlete_var(multi=True), acwr_var(multi=False)],
        ("now-90d", "now"),
        desc="One row per athlete: ACWR, weekly load, monotony, GCT balance, "
        "asymmetry vs baseline, last session, open alerts.",
    )


def athlete_load() -> dict:
    g = Grid()
    where = f"WHERE {ATHLETE} AND $timeFilter"
    run_link = link(
        "Open run",
        f"/d/{BOARD['run']}/run?var-athlete=$athlete&var-session=${{__value.time}}"
        "&time=${__value.time}&time.window=7200000",
    )
    panels = [
        timeseries(
            g,
            "Daily load",
            [target(f'SELECT "daily_load" FROM "load" {where}', alias="daily load")],
            "none",
            draw="bars",
            desc="Sum of session loads per day (AU); rest days are 0",
        ),
        timeseries(
            g,
            "Acute and chronic load",
            [target(f'SELECT "acute", "chronic" FROM "load" {where}')],
            "none",
            desc="7-day and 28-day mean daily load (AU/day)",
        ),
        timeseries(
            g,
            "ACWR",
            [target(f'SELECT ${{acwr:doublequote}} FROM "load" {where}')],
            "none",
            steps=((None, "transparent"), (0.8, "green"), (1.3, "transparent"), (1.5, "red")),
            area=True,
            desc="Acute:chronic ratio, selectable form ($acwr). Shaded: 0.8–1.3, the "
            "conventional reference band of the ACWR literature (Gabbett 2016); above 1.5 "
            "sensorhub alerts a load spike. Describes load change, not injury risk "
            "(Impellizzeri 2020).",
        ),
        timeseries(
            g,
            "Fitness, fatigue, form (CTL / ATL / TSB)",
            [target(f'SELECT "ctl", "atl", "tsb" FROM "load" {where}')],
            "none",
            desc="42- and 7-day exponentially weighted load and their difference",
        ),
        timeseries(
            g,
            "Monotony",
            [target(f'SELECT "monotony" FROM "load" {where}')],
            "none",
            steps=((None, "transparent"), (2.0, "red")),
            w=12,
            desc="Foster 1998: mean/SD of 7 daily loads",
        ),
        timeseries(
            g,
            "Strain",
            [target(f'SELECT "strain" FROM "load" {where}')],
            "none",
            desc="Weekly load × monotony (Foster 1998)",
        ),
        timeseries(
            g,
            "Weekly volume: distance",
            [target(f'SELECT SUM("distance_m") / 1000 FROM "session" {where} {WEEKS}', alias="km")],
            "lengthkm",
            draw="bars",
            desc="Distance per calendar week (km), Monday to Sunday in the athlete's zone "
            "($tz); all sessions with a distance",
            axisLabel="km per week",
        ),
        timeseries(
            g,
            "Weekly volume: time",
            [target(f'SELECT SUM("duration_s") / 3600 FROM "session" {where} {WEEKS}', alias="h")],
            "h",
            draw="bars",
            desc="Time per calendar week (hours), Monday to Sunday in the athlete's zone ($tz)",
            axisLabel="hours per week",
        ),
        timeseries(
            g,
            "GCT balance per session",
            [target(f'SELECT "gct_balance_left_pct" FROM "session" {where}', alias="balance")],
            "percent",
            steps=((None, "transparent"), (48, "green"), (52, "transparent")),
            area=True,
            points=True,
            w=12,
            desc="% of contact time on the left foot; band 48–52",
        ),
        timeseries(
            g,
            "GCT symmetry index per session",
            [target(f'SELECT "gct_si_pct" FROM "session" {where}', alias="SI")],
            "percent",
            points=True,
            desc="SI = (L−R)/(0.5(L+R)) × 100; positive = left longer",
        ),
        table(
            g,
            "Sessions",
            [
                target(
                    'SELECT "session_id", "duration_s" / 60 AS "minutes", "distance_m" / 1000 AS "km", '
                    '"load", "load_method", "trimp", "rpe", "pain", "hr_avg_bpm", '
                    f'"gct_balance_left_pct" FROM "session" {where}',
                    fmt="table",
                )
            ],
            h=10,
            links=[run_link],
            desc="RPE (CR-10) and pain (0–10) as logged with sensorhub log",
        ),
    ]
    panels += return_to_run_panels(g)
    return dashboard(
        BOARD["athlete"],
        "sensorhub · Athlete load",
        panels,
        [athlete_var(multi=False), acwr_var(multi=True), tz_var()],
        ("now-90d", "now"),
        annotations=[alert_annotation(), plan_annotation()],
    )


def run_board() -> dict:
    g = Grid()
    where = f"WHERE {ATHLETE} AND {SESSION_SPAN}"
    group = SESSION_GROUP
    note = session_note(g)

    def mean(field: str, alias: str) -> dict:
        return target(f'SELECT MEAN("{field}") FROM "run" {where} {group}', alias=alias)

    def chart(*args: Any, join: bool = False, **kwargs: Any) -> dict:
        return session_trend(timeseries(g, *args, **kwargs), join=join)

    pace = chart(
        "Pace",
        [
            target(
                f'SELECT 1000 / MEAN("speed_mps") FROM "run" WHERE '
                f'{ATHLETE} AND "speed_mps" > 0.5 AND {SESSION_SPAN} {group}',
                alias="pace",
            )
        ],
        "clocks",
        desc="Time per km (from speed_mps) as mm:ss, against minutes since the start. Drawn "
        "inverted (faster is higher): read values in the tooltip and the legend (mean, min = "
        "fastest, max = slowest).",
        transform="negative-Y",
        axisPlacement="hidden",
    )
    pace["fieldConfig"]["defaults"]["decimals"] = 1  # clocks with 1 decimal: mm:ss
    pace["options"]["legend"].update(
        displayMode="table", placement="right", calcs=["mean", "min", "max"]
    )
    panels = [
        note,
        pace,
        chart("Heart rate", [mean("hr_bpm", "HR")], "bpm"),
        chart("Cadence", [mean("cadence_spm", "cadence")], "none", desc="Steps per minute"),
        chart("Ground contact time", [mean("gct_ms", "GCT")], "ms"),
        chart(
            "GCT balance",
            [mean("gct_balance_left_pct", "balance")],
            "percent",
            steps=((None, "transparent"), (48, "green"), (52, "transparent")),
            area=True,
            desc="% of contact time on the left foot; band 48–52",
        ),
        chart("Vertical oscillation", [mean("vo_mm", "VO")], "lengthmm", w=6),
        chart("Vertical ratio", [mean("vertical_ratio_pct", "vertical ratio")], "percent", w=6),
        chart("Power", [mean("power_w", "power")], "watt"),
        chart(
            "GCT per step, left vs right (IMU)",
            [target(f'SELECT "gct_ms" FROM "stride" {where} GROUP BY "side"', alias="$tag_side")],
            "ms",
            draw="points",
            points=True,
            desc="Each detected step from the IMU gait engine (measurement stride)",
            join=True,
        ),
        {
            **timeseries(
                g,
                "GCT left vs right (2 s means, IMU)",
                [
                    target(
                        f'SELECT MEAN("gct_ms") FROM "stride" WHERE {ATHLETE} AND "side" = \'L\' '
                        f"AND {SESSION_SPAN} GROUP BY time(2s) fill(none)",
                        "A",
                        alias="left",
                    ),
                    target(
                        f'SELECT MEAN("gct_ms") FROM "stride" WHERE {ATHLETE} AND "side" = \'R\' '
                        f"AND {SESSION_SPAN} GROUP BY time(2s) fill(none)",
                        "B",
                        alias="right",
                    ),
                ],
                "ms",
                desc="Scatter of left vs right GCT; points off the diagonal = asymmetry",
            ),
            "type": "xychart",
            # the XY chart's own field options (the time-series ones do not apply to it)
            "fieldConfig": {
                "defaults": {
                    "unit": "ms",
                    "color": {"mode": "palette-classic"},
                    "custom": {"show": "points", "pointSize": {"fixed": 5}, "fillOpacity": 50},
                },
                "overrides": [],
            },
            "transformations": [
                {"id": "joinByField", "options": {"byField": "Time", "mode": "inner"}}
            ],
            "options": {
                "mapping": "manual",
                "series": [
                    {
                        "x": {"matcher": {"id": "byName", "options": "left"}},
                        "y": {"matcher": {"id": "byName", "options": "right"}},
                    }
                ],
                "legend": {
                    "displayMode": "list",
                    "placement": "bottom",
                    "showLegend": False,
                    "calcs": [],
                },
                "tooltip": {"mode": "single", "sort": "none"},
            },
        },
        table(
            g,
            "Last sessions of $athlete (click a time to open one)",
            [
                target(
                    'SELECT * FROM (SELECT "session_id", "duration_s" / 60 AS "minutes", '
                    '"distance_m" / 1000 AS "km", "hr_avg_bpm", "load", "gct_balance_left_pct" '
                    f'FROM "session" WHERE {ATHLETE}) ORDER BY time DESC LIMIT 10',
                    "S",
                    fmt="table",
                )
            ],
            h=7,
            links=[link("Open this session", LAST_SESSION_URL)],
            desc="The athlete's 10 latest sessions, whatever the time range: the link "
            "selects a session and sets the board's time range around its start",
        ),
    ]
    return dashboard(
        BOARD["run"],
        "sensorhub · Run",
        panels,
        [athlete_var(multi=False), *session_vars()],
        ("now-7d", "now"),
        annotations=[alert_annotation()],
        desc="One session: the athlete's newest unless another is chosen ($session, or a "
        "link from the table at the bottom, the Squad board's Last session, or the Athlete "
        "board's Sessions table, which also set the time range to it).",
    )


def axis_override(alias: str, unit: str, label: str, placement: str = "right") -> dict:
    """A field override giving the series ``alias`` its own unit and y axis (Grafana draws one
    axis per distinct unit/placement/label: ``custom.axisPlacement`` puts this one right)."""
    return {
        "matcher": {"id": "byName", "options": alias},
        "properties": [
            {"id": "unit", "value": unit},
            {"id": "custom.axisPlacement", "value": placement},
            {"id": "custom.axisLabel", "value": label},
        ],
    }


def cadence_and_speed(g: Grid, ble: str, group: str) -> dict:
    """One panel, two axes: cadence in steps/min on the left, speed in m/s on the right."""
    panel = timeseries(
        g,
        "Cadence and speed",
        [
            target(f'SELECT MEAN("cadence_spm") FROM "run" {ble} {group}', "A", alias="cadence"),
            target(f'SELECT MEAN("speed_mps") FROM "run" {ble} {group}', "B", alias="speed"),
        ],
        "none",
        desc="Cadence (steps/min, left axis) and speed (m/s, right axis) from the foot pod",
        axisLabel="steps/min",
        axisPlacement="left",
    )
    panel["fieldConfig"]["overrides"] = [axis_override("speed", "velocityms", "m/s")]
    return panel


#: slower than 0.5 m/s (33 min/km) is standing, not running: no pace (1000 / speed explodes)
MOVING = '"speed_mps" > 0.5'


def live_pace(g: Grid, ble: str) -> dict:
    """Live pace: time per km from the foot pod's latest moving speed, min:ss (Grafana's
    ``clocks`` unit, seconds, with one decimal: "05m:12s"). A stat has no axis to invert;
    the Run board's pace chart is drawn inverted (faster is higher)."""
    return stat(
        g,
        "Pace (min:s per km)",
        f'SELECT 1000 / LAST("speed_mps") FROM "run" {ble} AND {MOVING}',
        "clocks",
        ((None, "text"),),
        w=5,
        decimals=1,
        desc="Time per km (s/km shown as min:s) from the latest speed_mps above 0.5 m/s "
        "(RSC foot pod); standing still keeps the last running pace",
    )


def live() -> dict:
    g = Grid()
    ble = f"WHERE \"source\" = 'ble' AND {ATHLETE} AND $timeFilter"
    group = "GROUP BY time($__interval) fill(none)"
    panels = [
        stat(
            g,
            "Heart rate",
            f'SELECT LAST("hr_bpm") FROM "run" {ble}',
            "bpm",
            ((None, "text"),),
            w=5,
            decimals=0,
        ),
        stat(
            g,
            "Cadence",
            f'SELECT LAST("cadence_spm") FROM "run" {ble}',
            "none",
            ((None, "text"),),
            w=5,
            decimals=0,
        ),
        stat(
            g,
            "Speed",
            f'SELECT LAST("speed_mps") FROM "run" {ble}',
            "velocityms",
            ((None, "text"),),
            w=4,
        ),
        live_pace(g, ble),
        stat(
            g,
            "GCT balance (IMU, window)",
            'SELECT 100 * MEAN("left") / (MEAN("left") + '
            'MEAN("right")) FROM (SELECT "gct_ms" AS "left" FROM "stride" WHERE "side" = '
            f'\'L\' AND {ATHLETE} AND $timeFilter), (SELECT "gct_ms" AS "right" FROM '
            f'"stride" WHERE "side" = \'R\' AND {ATHLETE} AND $timeFilter)',
            "percent",
            BAND_STEPS,
            w=5,
            decimals=1,
        ),
        timeseries(
            g,
            "Heart rate",
            [target(f'SELECT MEAN("hr_bpm") FROM "run" {ble} {group}', alias="HR")],
            "bpm",
        ),
        cadence_and_speed(g, ble, group),
        timeseries(
            g,
            "GCT per step, left vs right",
            [
                target(
                    f'SELECT "gct_ms" FROM "stride" WHERE {ATHLETE} AND $timeFilter GROUP BY "side"',
                    alias="$tag_side",
                )
            ],
            "ms",
            draw="points",
            points=True,
            w=24,
        ),
    ]
    return dashboard(
        BOARD["live"],
        "sensorhub · Live",
        panels,
        [athlete_var(multi=False)],
        ("now-15m", "now"),
        refresh="5s",
        annotations=[alert_annotation()],
        desc="The live collector's current session (run with source=ble, and "
        "stride from the IMU engine)",
    )


BOARDS = {"squad": squad, "athlete-load": athlete_load, "run": run_board, "live": live}


# -- Grafana-managed alert rules (same rules as sensorhub.alerts) ----------------------------
def _query(ref: str, q: str, frm: int, to: int = 0) -> dict:
    return {
        "refId": ref,
        "datasourceUid": DS["uid"],
        "queryType": "",
        "relativeTimeRange": {"from": frm, "to": to},
        "model": {
            "refId": ref,
            "datasource": DS,
            "rawQuery": True,
            "query": q,
            "resultFormat": "time_series",
            "intervalMs": 60000,
            "maxDataPoints": 43200,
        },
    }


def _expr(ref: str, model: dict) -> dict:
    return {
        "refId": ref,
        "datasourceUid": "__expr__",
        "queryType": "",
        "relativeTimeRange": {"from": 0, "to": 0},
        "model": {"refId": ref, "datasource": {"type": "__expr__", "uid": "__expr__"}, **model},
    }


def _reduce(ref: str, of: str) -> dict:
    return _expr(
        ref, {"type": "reduce", "expression": of, "reducer": "last", "settings": {"mode": "dropNN"}}
    )


def _threshold(ref: str, of: str, kind: str, params: list, clear: dict | None = None) -> dict:
    cond: dict[str, Any] = {"evaluator": {"type": kind, "params": params}}
    if clear:
        cond["unloadEvaluator"] = clear
    return _expr(ref, {"type": "threshold", "expression": of, "conditions": [cond]})


def _rule(uid: str, title: str, data: list, condition: str, severity: str, summary: str) -> dict:
    return {
        "uid": uid,
        "title": title,
        "condition": condition,
        "data": data,
        "for": "0s",
        "noDataState": "OK",
        "execErrState": "Error",
        "labels": {"severity": severity, "source": "sensorhub", "rule": uid.split("-", 1)[1]},
        "annotations": {
            "summary": summary,
            "description": "Describes load or symmetry change; not an injury "
            "prediction. Thresholds as in docs/alerts.md.",
        },
    }


DAY = 86400


def alert_rules() -> dict:
    """File-provisioned Grafana alert rules mirroring sensorhub's own (docs/alerts.md)."""
    by = 'WHERE $timeFilter GROUP BY "athlete"'
    rules = [
        _rule(
            "sensorhub-acwr_spike",
            "Load spike: ACWR above 1.5",
            [
                _query("A", f'SELECT LAST("acwr_rac") FROM "load" {by}', 3 * DAY),
                _reduce("B", "A"),
                _threshold("C", "B", "gt", [1.5], {"type": "lt", "params": [1.3]}),
            ],
            "C",
            "warning",
            "{{ $labels.athlete }}: load spike, ACWR {{ humanize $values.B.Value }} above 1.5",
        ),
        _rule(
            "sensorhub-load_increase",
            "Load spike: 7-day load up more than 30 %",
            [
                _query("A", f'SELECT SUM("daily_load") FROM "load" {by}', 7 * DAY),
                _query("B", f'SELECT SUM("daily_load") FROM "load" {by}', 14 * DAY, 7 * DAY),
                _reduce("C", "A"),
                _reduce("D", "B"),
                _expr("E", {"type": "math", "expression": "($C - $D) / $D * 100"}),
                _threshold("F", "E", "gt", [30], {"type": "lt", "params": [10]}),
            ],
            "F",
            "warning",
            "{{ $labels.athlete }}: load spike, 7-day load up {{ humanize $values.E.Value }} % "
            "on the previous 7 days",
        ),
        _rule(
            "sensorhub-monotony",
            "Monotony above 2.0",
            [
                _query("A", f'SELECT LAST("monotony") FROM "load" {by}', 3 * DAY),
                _reduce("B", "A"),
                _threshold("C", "B", "gt", [2.0], {"type": "lt", "params": [1.8]}),
            ],
            "C",
            "info",
            "{{ $labels.athlete }}: monotony {{ humanize $values.B.Value }} (Foster)",
        ),
        _rule(
            "sensorhub-gct_asymmetry_baseline",
            "GCT asymmetry departs from own baseline",
            [
                _query("A", f'SELECT LAST("gct_si_pct") FROM "session" {by}', 14 * DAY),
                _query("B", f'SELECT MEAN("gct_si_pct") FROM "session" {by}', 60 * DAY, 2 * DAY),
                _query("C", f'SELECT STDDEV("gct_si_pct") FROM "session" {by}', 60 * DAY, 2 * DAY),
                _reduce("D", "A"),
                _reduce("E", "B"),
                _reduce("F", "C"),
                _expr("G", {"type": "math", "expression": "abs(($D - $E) / max($F, 1))"}),
                _threshold("H", "G", "gt", [2.0], {"type": "lt", "params": [1.5]}),
            ],
            "H",
            "warning",
            "{{ $labels.athlete }}: GCT symmetry index {{ humanize $values.G.Value }} SD from "
            "the athlete's baseline",
        ),
        _rule(
            "sensorhub-gct_balance_band",
            "GCT balance outside 48–52 %",
            [
                _query("A", f'SELECT LAST("gct_balance_left_pct") FROM "session" {by}', 14 * DAY),
                _reduce("B", "A"),
                _threshold(
                    "C",
                    "B",
                    "outside_range",
                    [48, 52],
                    {"type": "within_range", "params": [48.5, 51.5]},
                ),
            ],
            "C",
            "info",
            "{{ $labels.athlete }}: GCT balance {{ humanize $values.B.Value }} % left",
        ),
        _rule(
            "sensorhub-pain",
            "Pain reported (4/10 or more)",
            [
                _query("A", f'SELECT LAST("pain") FROM "session" {by}', 3 * DAY),
                _reduce("B", "A"),
                _threshold("C", "B", "gt", [3.99]),
            ],
            "C",
            "critical",
            "{{ $labels.athlete }}: pain {{ $values.B.Value }}/10 reported",
        ),
    ]
    return {
        "apiVersion": 1,
        "groups": [
            {
                "orgId": 1,
                "name": "sensorhub",
                "folder": "sensorhub",
                "interval": "1h",
                "rules": rules,
            }
        ],
    }


def main() -> None:
    import yaml

    out = HERE / "dashboards"
    out.mkdir(exist_ok=True)
    for name, fn in BOARDS.items():
        (out / f"{name}.json").write_text(json.dumps(fn(), indent=2) + "\n", encoding="utf-8")
    alerting = HERE / "provisioning" / "alerting"
    alerting.mkdir(parents=True, exist_ok=True)

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:  # no &id001 anchors: plain, diffable YAML
            return True

    text = yaml.dump(alert_rules(), Dumper=Dumper, sort_keys=False, allow_unicode=True, width=100)
    header = "# Generated by grafana/generate.py: edit that, not this file.\n"
    (alerting / "sensorhub-rules.yaml").write_text(header + text, encoding="utf-8")


if __name__ == "__main__":
    main()
