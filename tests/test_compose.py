"""docker-compose.yml validates against the Compose Specification (no Docker engine needed)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from .shared import shared_dir

ROOT = Path(__file__).resolve().parents[1]
VAR = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def env_example() -> dict[str, str]:
    out = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            k, _, v = line.partition("=")
            out[k.strip()] = v.split("#")[0].strip()
    return out


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} substitution."""

    def sub(m: re.Match) -> str:
        name, op, arg = m.groups()
        if env.get(name):
            return env[name]
        if op == "?":
            raise KeyError(f"{name} is required: {arg}")
        return arg if op == "-" else ""

    return VAR.sub(sub, text)


@pytest.mark.parametrize(
    "name,validator",
    [
        ("compose-spec.json", jsonschema.Draft7Validator),
        ("compose-spec.compose-go.json", jsonschema.Draft202012Validator),
    ],
)
def test_compose_file_validates(name, validator):
    sch = json.loads(shared_dir("schemas", name).read_text())
    raw = (ROOT / "docker-compose.yml").read_text()
    for doc in (yaml.safe_load(raw), yaml.safe_load(interpolate(raw, env_example()))):
        errors = list(validator(sch).iter_errors(doc))
        assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:10]]


def test_every_required_secret_is_in_env_example():
    raw = (ROOT / "docker-compose.yml").read_text()
    required = {m.group(1) for m in VAR.finditer(raw) if m.group(2) == "?"}
    assert required and required <= set(env_example())
    with pytest.raises(KeyError):
        interpolate(raw, {})  # secrets have no defaults


def test_services_are_pinned_healthy_and_private():
    services = compose()["services"]
    assert {"influxdb", "grafana", "sensorhub", "collector"} <= set(services)
    assert re.fullmatch(r"influxdb:1\.11\.\d+", services["influxdb"]["image"])
    assert re.fullmatch(r"grafana/grafana:\d+\.\d+\.\d+", services["grafana"]["image"])
    for name, svc in services.items():
        assert "healthcheck" in svc, name
    assert services["grafana"]["environment"]["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert services["sensorhub"]["command"] == ["sensorhub", "watch", "/inbox"]
    assert any(str(v).endswith(":/inbox") for v in services["sensorhub"]["volumes"])
    assert services["sensorhub"]["environment"]["SENSORHUB_INFLUX_URL"].endswith("influxdb:8086}")


def test_ble_profile_runs_the_collector_on_the_host_network_with_dbus():
    col = compose()["services"]["collector"]
    assert col["profiles"] == ["ble"]
    assert col["network_mode"] == "host"
    assert any("/run/dbus" in str(v) for v in col["volumes"])
    assert "profiles" not in compose()["services"]["sensorhub"]


def test_grafana_mounts_the_provisioning():
    vols = compose()["services"]["grafana"]["volumes"]
    assert "./grafana/provisioning:/etc/grafana/provisioning:ro" in vols
    for path in (
        "grafana/provisioning/datasources/influxdb.yaml",
        "grafana/provisioning/dashboards/sensorhub.yaml",
        "grafana/provisioning/alerting/sensorhub-rules.yaml",
    ):
        assert (ROOT / path).is_file()
    assert (ROOT / "Dockerfile").is_file() and (ROOT / ".dockerignore").is_file()
    assert ".env" in (ROOT / ".dockerignore").read_text().split()


def test_the_stacks_influxdb_gets_the_shard_duration_sensorhub_gives_its_own(influxd, db_name):
    """The image creates ``INFLUXDB_DB`` itself (one-week shards), then sources the mounted
    init script: run here by bash against a real influxd, ``$INFLUX_CMD`` posting to /query."""
    from sensorhub.config import InfluxConfig

    vols = compose()["services"]["influxdb"]["volumes"]
    assert any(v.startswith("./scripts/influxdb-init:/docker-entrypoint-initdb.d") for v in vols)
    script = ROOT / "scripts" / "influxdb-init" / "shard-duration.sh"
    assert f'SHARD DURATION {InfluxConfig().shard_duration}"' in script.read_text()
    influxd.query(db_name, f'CREATE DATABASE "{db_name}"')
    shell = (
        'post() { curl -sf -XPOST "$URL/query" --data-urlencode "q=$1" | grep -v error; }\n'
        f"INFLUX_CMD=post INFLUXDB_DB={db_name} . {script}"
    )
    done = subprocess.run(
        ["bash", "-c", shell], env={**os.environ, "URL": influxd.url}, capture_output=True
    )
    assert done.returncode == 0, done
    (series,) = influxd.query(db_name, f'SHOW RETENTION POLICIES ON "{db_name}"')
    assert series["values"][0][series["columns"].index("shardGroupDuration")] == "8736h0m0s"
