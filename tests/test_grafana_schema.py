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


def schema(name: str) -> dict:
    return json.loads(shared_dir("schemas", name).read_text())


def validate(instance: object, sch: dict, ref: str | None = None) -> None:
    if ref:
        sch = {**sch, "$ref": ref}
    errors = sorted(jsonschema.Draft7Validator(sch).iter_errors(instance), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def test_there_are_four_boards():
    assert {p.stem for p in BOARD_FILES} == {"squad", "athlete-load", "run", "live"}


@pytest.mark.parametrize("path", BOARD_FILES, ids=lambda p: p.stem)
def test_dashboard_validates_against_the_grafana_schema(path):
    validate(
        json.loads(path.read_text()), schema("grafana-foundation-sdk.dashboard.jsonschema.json")
    )


@pytest.mark.parametrize("path", BOARD_FILES, ids=lambda p: p.stem)
def test_panel_options_validate_against_the_panel_schemas(path):
    ts = schema("grafana-foundation-sdk.timeseries.jsonschema.json")
    st = schema("grafana-foundation-sdk.stat.jsonschema.json")
    board = json.loads(path.read_text())
    kinds = set()
    for p in board["panels"]:
        kinds.add(p["type"])
        if p["type"] == "timeseries":
            validate(p["options"], ts, "#/definitions/Options")
            validate(p["fieldConfig"]["defaults"]["custom"], ts, "#/definitions/FieldConfig")
        elif p["type"] == "stat":
            validate(p["options"], st, "#/definitions/Options")
    assert "timeseries" in kinds


@pytest.mark.parametrize("path", BOARD_FILES, ids=lambda p: p.stem)
def test_dashboard_uses_the_provisioned_datasource_and_unique_ids(path):
    board = json.loads(path.read_text())
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    for p in board["panels"]:
        for t in p.get("targets", []):
            assert t["datasource"]["uid"] == DS_UID and t["rawQuery"] is True
            assert "$timeFilter" in t["query"] or "FROM (SELECT" in t["query"], t["query"]
    names = [v["name"] for v in board["templating"]["list"]]
    assert "athlete" in names
    var = next(v for v in board["templating"]["list"] if v["name"] == "athlete")
    assert var["query"] == 'SHOW TAG VALUES FROM "session" WITH KEY = "athlete"'


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
