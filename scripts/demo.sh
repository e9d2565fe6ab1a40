#!/usr/bin/env bash
# Quick start: ingest the project's own demo FIT files (fixtures/fit, two athletes, 10+ weeks)
# into a local state dir (.state/demo, no InfluxDB needed) and print sessions, daily load and alerts.
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
export SENSORHUB_HOME="${SENSORHUB_HOME:-$ROOT/.state/demo}"
export SENSORHUB_CONFIG="${SENSORHUB_CONFIG:-$ROOT/fixtures/sensorhub.toml}"
.venv/bin/sensorhub ingest fixtures/fit
.venv/bin/sensorhub sessions --last 10
.venv/bin/sensorhub load --days 21
.venv/bin/sensorhub alerts
.venv/bin/sensorhub status
