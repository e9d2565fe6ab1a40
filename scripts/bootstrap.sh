# Sourced by the other scripts: a project venv with sensorhub installed (editable).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv 2>/dev/null || {
        echo "python3 -m venv failed: on Debian run 'apt-get install python3-venv' (Python 3.11+ is needed)" >&2
        exit 1
    }
fi
STAMP=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)-${EXTRAS:-base}
if [ ! -f "$STAMP" ]; then
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -e ".${EXTRAS:+[$EXTRAS]}"
    touch "$STAMP"
fi
