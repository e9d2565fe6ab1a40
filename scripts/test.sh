#!/usr/bin/env bash
# The whole test suite. Installs what it needs: the venv with the test extras, and the
# Debian packages the tests drive for real when they are missing: influxd (tests start their
# own server on a free port), chromium (the HTML report is rendered headless), and a C compiler.
set -euo pipefail
need=()
command -v influxd >/dev/null 2>&1 || [ -x /usr/bin/influxd ] || need+=(influxdb)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
# PostgreSQL server programs: the store contract tests start their own server (tests/pg.py)
command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
# a C compiler and Python headers build the optional native FIT walk (tests check it is built)
command -v cc >/dev/null 2>&1 || need+=(gcc)
"${PYTHON:-python3}" -c 'import os, sysconfig; assert os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))' 2>/dev/null || need+=(python3-dev)
if [ ${#need[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "installing ${need[*]} (Debian packages) ..." >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
    # the influxdb package's own service is not needed: tests run their own server
    $SUDO systemctl disable --now influxdb >/dev/null 2>&1 || true
    $SUDO systemctl disable --now postgresql >/dev/null 2>&1 || true
fi
EXTRAS=test,ble,postgres
source "$(dirname "$0")/bootstrap.sh"
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
