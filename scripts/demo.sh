#!/usr/bin/env bash
# Quick start: the project's own demo data (fixtures/, three synthetic athletes over 10 weeks)
# into a local state dir (.state/demo, no InfluxDB needed): sessions, daily load, alerts, Ben's
# two-pod IMU session and Cara's return-to-run decision. Installs the Bluetooth extras too, so
# `sensorhub emulate` / `collect` (docs/live.md) work afterwards.
set -euo pipefail
EXTRAS=ble
source "$(dirname "$0")/bootstrap.sh"
export SENSORHUB_HOME="${SENSORHUB_HOME:-$ROOT/.state/demo}"
export SENSORHUB_CONFIG="${SENSORHUB_CONFIG:-$ROOT/fixtures/sensorhub.toml}"
sh=.venv/bin/sensorhub
$sh ingest fixtures/fit
$sh ingest --athlete ben --placement shank fixtures/imu/shank_left_200hz.csv \
    --right fixtures/imu/shank_right_200hz.csv
$sh sessions --last 10
$sh load --athlete ana
$sh alerts
# Cara: her symptom diary and her plan (fixtures/plans/cara.toml); `plan start` prints the decision
$sh checkin import fixtures/checkins/cara.csv --athlete cara
$sh plan start --athlete cara --state fixtures/plans/cara.toml
$sh status
