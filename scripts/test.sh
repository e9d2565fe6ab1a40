#!/usr/bin/env bash
# The whole test suite. Installs what it needs: the venv with test extras and, when influxd
# is missing, Debian's influxdb package (tests start their own influxd on a free port).
set -euo pipefail
if ! command -v influxd >/dev/null 2>&1 && [ ! -x /usr/bin/influxd ]; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq influxdb >/dev/null
    # the package's own service is not needed: tests run their own server
    $SUDO systemctl disable --now influxdb >/dev/null 2>&1 || true
fi
EXTRAS=test,ble
source "$(dirname "$0")/bootstrap.sh"
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
