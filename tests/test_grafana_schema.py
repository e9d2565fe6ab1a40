"""Grafana provisioning validates: dashboards (Foundation SDK schema), panel options, data
source and alert-rule files (the hand-derived provisioning schemas), and the committed
JSON/YAML is what grafana/generate.py produces."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from .shared import shared_dir

ROOT = Path(__file__).resolve().parents[1]
GRAFANA = ROOT / "grafana"
BOARD_FILES = sorted((GRAFANA / "dashboards").glob("*.json"))
DS_UID = "sensorhub-influxdb"
SESSION_SPAN = "time >= ${session}ms AND time <= ${session_end}ms"


def schema(name: str) -> dict:
    """A schema from shared/schemas, or from grafana/schemas (the panel schemas not in shared
    yet: trend, xychart; grafana/schemas/SOURCES.md)."""
    local = GRAFANA / "schemas" / name
    path = local if local.is_file() else shared_dir("schemas", name)
    return json.loads(path.read_text())


def validate(instance: object, sch: dict, ref: str | None = None) -> None:
    if ref:
        sch = {**sch, "$ref": ref}
    errors = sorted(jsonschema.Draft7Validator(sch).iter_errors(instance), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def test_there_are_four_boards():
    assert {p.stem for p in BOARD_FILES} == {"squad", "athlete-load", "run", "live"}


def dashboard_schema() -> dict:
    """The Foundation SDK's dashboard schema, with the two ``any``-typed members of a field
    override as Grafana types them.

    Grafana declares ``DynamicConfigValue.value?: any`` and ``MatcherConfig.options?: any``
    (packages/grafana-data/src/types/fieldOverrides.ts, transformations.ts); the SDK's JSON
    Schema generator writes ``any`` as ``{"type": "object"}``, which rejects every real
    override (``{"id": "unit", "value": "velocityms"}``, ``{"id": "byName", "options":
    "speed"}``): no override that changes a unit or an axis can pass it. Only those two
    members are widened; everything else is the SDK's schema as shipped.
    """
    sch = schema("grafana-foundation-sdk.dashboard.jsonschema.json")
    defs = sch["definitions"]
    assert defs["DynamicConfigValue"]["properties"]["value"]["type"] == "object"
    assert defs["MatcherConfig"]["properties"]["options"]["type"] == "object"
    defs["DynamicConfigValue"]["properties"]["value"] = {}
    defs["MatcherConfig"]["properties"]["options"] = {}
    return sch


@pytest.mark.parametrize("path", BOARD_FILES, ids=lambda p: p.stem)
def test_dashboard_validates_against_the_grafana_schema(path):
    validate(json.loads(path.read_text()), dashboard_schema())


#: field-config properties an override may set (Grafana's registry ids used by our boards)
OVERRIDE_IDS = {"unit", "custom.axisPlacement", "custom.axisLabel"}


def test_live_cadence_and_speed_is_one_panel_with_two_axes_and_units():
    board = json.loads((GRAFANA / "dashboards" / "live.json").read_text())
    charts = [p["title"] for p in board["panels"] if p["type"] == "timeseries"]
    assert "Cadence" not in charts and "Speed" not in charts
    (panel,) = [p for p in board["panels"] if p["title"] == "Cadence and speed"]
    aliases = {t["alias"] for t in panel["targets"]}
    assert aliases == {"cadence", "speed"}
    defaults = panel["fieldConfig"]["defaults"]
    assert defaults["custom"]["axisPlacement"] == "left" and defaults["custom"]["axisLabel"]
    (ov,) = panel["fieldConfig"]["overrides"]
    assert ov["matcher"] == {"id": "byName", "options": "speed"}
    props = {p["id"]: p["value"] for p in ov["properties"]}
    assert set(props) <= OVERRIDE_IDS
    # a second axis: its own unit, on the other side, labelled
    assert props["unit"] == "velocityms" != defaults["unit"]
    assert props["custom.axisPlacement"] == "right" and props["custom.axisLabel"] == "m/s"
    validate(panel["fieldConfig"], dashboard_schema(), "#/definitions/FieldConfigSource")


def widened(sch: dict) -> dict:
    """A panel schema whose ``MatcherConfig.options`` is Grafana's ``any`` (see
    :func:`dashboard_schema`: the SDK writes it as an object, which rejects ``"left"``)."""
    matcher = sch["definitions"].get("MatcherConfig")
    if matcher:
        assert matcher["properties"]["options"]["type"] == "object"
        matcher["properties"]["options"] = {}
    return sch


@pytest.mark.parametrize("path", BOARD_FILES, ids=lambda p: p.stem)
def test_panel_options_validate_against_the_panel_schemas(path):
    panel_schemas = {
        kind: widened(schema(f"grafana-foundation-sdk.{kind}.jsonschema.json"))
        for kind in ("timeseries", "stat", "trend", "xychart")
    }
    board = json.loads(path.read_text())
    kinds = set()
    for p in board["panels"]:
        kinds.add(p["type"])
        sch = panel_schemas.get(p["type"])
        if sch is None:
            continue
        validate(p["options"], sch, "#/definitions/Options")
        if p["type"] != "stat":  # stat has no custom field options
            validate(p["fieldConfig"]["defaults"]["custom"], sch, "#/definitions/FieldConfig")
    # charts on every board; the Run board's all fit the session (no time-series panel)
    charts = kinds & {"timeseries", "trend", "xychart"}
    assert charts == ({"trend", "xychart"} if board["uid"] == "sensorhub-run" else {"timeseries"})


@pytest.mark.parametrize("path", BOARD_FILES, ids=lambda p: p.stem)
def test_dashboard_uses_the_provisioned_datasource_and_unique_ids(path):
    board = json.loads(path.read_text())
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    # the Run board's panels are bounded by the chosen session, the others by the time picker
    bound = SESSION_SPAN if board["uid"] == "sensorhub-run" else "$timeFilter"
    for p in board["panels"]:
        for t in p.get("targets", []):
            assert t["datasource"]["uid"] == DS_UID and t["rawQuery"] is True
            assert bound in t["query"] or "FROM (SELECT" in t["query"], t["query"]
            if board["uid"] == "sensorhub-run":
                assert "$timeFilter" not in t["query"] and "$__interval" not in t["query"]
    names = [v["name"] for v in board["templating"]["list"]]
    assert "athlete" in names
    var = next(v for v in board["templating"]["list"] if v["name"] == "athlete")
    assert var["query"] == 'SHOW TAG VALUES FROM "session" WITH KEY = "athlete"'


def test_run_board_opens_on_the_newest_session_whatever_the_time_picker_says():
    board = json.loads((GRAFANA / "dashboards" / "run.json").read_text())
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert list(variables) == ["athlete", "session", "session_end"]  # dependency order
    session, end = variables["session"], variables["session_end"]
    assert session["query"] == (
        'SELECT "start_ms" FROM "session" WHERE "athlete" =~ /^$athlete$/ '
        "ORDER BY time DESC LIMIT 200"
    )
    assert end["query"] == (
        'SELECT "end_ms" FROM "session" WHERE "athlete" =~ /^$athlete$/ AND "start_ms" = $session'
    )
    for v in (session, end):
        assert v["type"] == "query" and v["datasource"]["uid"] == DS_UID
        assert v["refresh"] == 1 and v["sort"] == 0  # reloaded on open, query order
        assert not v["multi"] and not v["includeAll"]
        assert v["current"] == {"text": "", "value": ""}  # nothing pinned: the first wins
        validate(v, dashboard_schema(), "#/definitions/VariableModel")
    assert end["hide"] == 2 and session.get("hide", 0) == 0 and session["label"]
    (note,) = [p for p in board["panels"] if p["type"] == "text"]
    content = note["options"]["content"]
    assert "${session:date:" in content and "whatever the time picker says" in content
    assert "minutes since its start" in content
    assert note["gridPos"]["y"] == 0  # above the charts
    # a link from a session's row or value opens that session; any other opens the newest
    boards = [json.loads(p.read_text()) for p in BOARD_FILES]
    urls = [
        lk["url"]
        for b in boards
        for p in b["panels"]
        for lk in p.get("links", []) + p.get("fieldConfig", {}).get("defaults", {}).get("links", [])
        if "/d/sensorhub-run/" in lk["url"]
    ]
    assert len(urls) >= 3
    for u in urls:
        if "${__value.time}" in u:
            assert "var-session=${__value.time}" in u and "&time=${__value.time}" in u, u
        else:
            assert "var-session" not in u, u
    assert sum("var-session" in u for u in urls) >= 3


#: the Grafana release from which every transformation's options are interpolated
#: (grafana/grafana#100225, February 2025: 11.6 and 12.x)
VARIABLES_IN_TRANSFORMATIONS = (11, 6)


def test_run_board_charts_fit_the_chosen_session_whatever_the_time_picker_says():
    """Each chart of the Run board is a Trend panel whose x field is minutes since
    ``${session}``, computed by transformations in the Grafana the stack runs: the axis spans
    the session when the board opens, not the time picker's range (now-7d)."""
    board = json.loads((GRAFANA / "dashboards" / "run.json").read_text())
    assert board["time"]["from"] == "now-7d"  # the picker is far from most sessions
    trends = [p for p in board["panels"] if p["type"] == "trend"]
    assert len(trends) >= 9
    for p in trends:
        steps = p["transformations"]
        several = any('GROUP BY "' in t["query"] for t in p["targets"]) or len(p["targets"]) > 1
        if several:  # a Trend panel draws one frame: join the series on their time first
            assert steps[0] == {
                "id": "joinByField",
                "options": {"byField": "Time", "mode": "outer"},
            }, p["title"]
            steps = steps[1:]
        elapsed, minutes, organize = steps
        assert elapsed["id"] == minutes["id"] == "calculateField"
        b = elapsed["options"]["binary"]
        assert (b["left"], b["operator"], b["right"]) == (
            {"matcher": {"id": "byName", "options": "Time"}},
            "-",
            {"fixed": "${session}"},
        )
        b = minutes["options"]["binary"]
        assert b["left"]["matcher"]["options"] == elapsed["options"]["alias"]
        assert (b["operator"], b["right"]) == ("/", {"fixed": "60000"})
        x = minutes["options"]["alias"]
        assert p["options"]["xField"] == x, p["title"]
        # only x and the panel's values reach the chart: no raw time, no ms column
        dropped = organize["options"]["excludeByName"]
        assert organize["id"] == "organize"
        assert dropped == {"Time": True, elapsed["options"]["alias"]: True}
        (ov,) = [o for o in p["fieldConfig"]["overrides"] if o["matcher"]["options"] == x]
        props = {q["id"]: q["value"] for q in ov["properties"]}
        assert props["unit"] == "none" and props["custom.axisPlacement"] != "hidden"
        assert "minutes" in props["custom.axisLabel"]
        for step in p["transformations"]:
            validate(step, dashboard_schema(), "#/definitions/DataTransformerConfig")
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    image = compose["services"]["grafana"]["image"]
    name, tag = image.split(":")
    assert name == "grafana/grafana"
    assert tuple(int(v) for v in tag.split(".")[:2]) >= VARIABLES_IN_TRANSFORMATIONS, image


def test_live_board_shows_pace_as_min_sec_per_km():
    board = json.loads((GRAFANA / "dashboards" / "live.json").read_text())
    (pace,) = [p for p in board["panels"] if p["title"].startswith("Pace")]
    assert pace["type"] == "stat" and "per km" in pace["title"]
    defaults = pace["fieldConfig"]["defaults"]
    # Grafana's clocks unit takes seconds; one decimal shows minutes and seconds
    assert defaults["unit"] == "clocks" and defaults["decimals"] == 1
    q = pace["targets"][0]["query"]
    assert q.startswith('SELECT 1000 / LAST("speed_mps") FROM "run"') and '"speed_mps" > 0.5' in q
    stats = [p for p in board["panels"] if p["type"] == "stat"]
    assert sum(p["gridPos"]["w"] for p in stats) == 24 and {p["gridPos"]["y"] for p in stats} == {0}


def test_board_uids_are_unique_and_linked():
    boards = [json.loads(p.read_text()) for p in BOARD_FILES]
    uids = {b["uid"] for b in boards}
    assert len(uids) == 4
    squad = next(b for b in boards if b["uid"] == "sensorhub-squad")
    links = [lk["url"] for p in squad["panels"] for lk in p.get("links", [])]
    assert any("/d/sensorhub-athlete/" in u for u in links)
    assert any("/d/sensorhub-run/" in u for u in links)


def test_datasource_provisioning_validates_and_reads_env():
    doc = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "influxdb.yaml").read_text())
    validate(doc, schema("grafana-provisioning-datasources.UNOFFICIAL.schema.json"))
    ds = doc["datasources"][0]
    assert ds["uid"] == DS_UID and ds["type"] == "influxdb"
    assert ds["jsonData"]["version"] == "InfluxQL"
    assert ds["url"] == "${INFLUX_URL}" and ds["jsonData"]["dbName"] == "${INFLUX_DB}"
    assert ds["secureJsonData"]["password"] == "${INFLUX_PASSWORD}"


def test_dashboard_provider_points_at_the_mounted_folder():
    doc = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "sensorhub.yaml").read_text())
    (prov,) = doc["providers"]
    assert doc["apiVersion"] == 1 and prov["type"] == "file"
    assert prov["options"]["path"] == "/var/lib/grafana/dashboards"
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert any(str(m).endswith(":/var/lib/grafana/dashboards:ro") for m in mounts)


def test_alert_rules_validate():
    doc = yaml.safe_load(
        (GRAFANA / "provisioning" / "alerting" / "sensorhub-rules.yaml").read_text()
    )
    validate(doc, schema("grafana-provisioning-alerting.UNOFFICIAL.schema.json"))
    rules = [r for g in doc["groups"] for r in g["rules"]]
    assert {r["labels"]["rule"] for r in rules} == {
        "acwr_spike",
        "load_increase",
        "monotony",
        "gct_asymmetry_baseline",
        "gct_balance_band",
        "pain",
    }
    for r in rules:
        assert "injury" not in r["title"].lower()
        for d in r["data"]:
            assert d["datasourceUid"] in (DS_UID, "__expr__")


def test_committed_files_are_the_generator_output():
    spec = importlib.util.spec_from_file_location("grafana_generate", GRAFANA / "generate.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    for name, fn in gen.BOARDS.items():
        committed = json.loads((GRAFANA / "dashboards" / f"{name}.json").read_text())
        assert committed == fn(), f"{name}.json is stale: run grafana/generate.py"
    rules = yaml.safe_load(
        (GRAFANA / "provisioning" / "alerting" / "sensorhub-rules.yaml").read_text()
    )
    assert rules == gen.alert_rules()
