"""A fresh install prints no build warnings (issue 15, item 12).

``pip install -e .`` in a new virtual environment, the way README.md says, with pip's verbose
output so the build backend's own warnings (setuptools' BuildBackendWarning, deprecated
license or packaging keys, "warning:" lines from the build commands) are all shown; the test
fails on any of them. The project sources are copied to a temporary directory first so the
editable build does not write into the working tree other tests import from.

Needs the package index (or pip's cache) for the isolated build's setuptools, like any install.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# what a source checkout needs to build; the build must not depend on anything else
SOURCES = ["pyproject.toml", "setup.py", "README.md", "LICENSE", "sensorhub", "drivers"]
# "warning" in any case: BuildBackendWarning, SetuptoolsDeprecationWarning, "warning: ..." lines
WARNING = re.compile(r"warn", re.IGNORECASE)

pytestmark = pytest.mark.install


def _copy_sources(dest: Path) -> Path:
    src = dest / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.so", "*.egg-info", "build")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            shutil.copy2(path, src / name)
    return src


def _pip_env() -> dict[str, str]:
    env = dict(os.environ)
    # byte-compiling off is this machine's choice, not the project's: its notice is not ours
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    return env


def _warning_lines(output: str) -> list[str]:
    # pip echoes the package name "sensorhub" etc.; only lines that say warn count
    return [line.strip() for line in output.splitlines() if WARNING.search(line)]


def test_fresh_editable_install_prints_no_warnings(tmp_path):
    src = _copy_sources(tmp_path)
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # the pip scripts/bootstrap.sh installs: a newer pip shows the backend's warnings that the
    # bundled one hid (setuptools' "Editable installation" notice got past this test so)
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--upgrade", "pip"],
        check=True,
        capture_output=True,
        env=_pip_env(),
        timeout=300,
    )
    proc = subprocess.run(
        [python, "-m", "pip", "install", "-v", "--no-deps", "-e", str(src)],
        capture_output=True,
        text=True,
        env=_pip_env(),
        timeout=300,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    assert "Successfully installed sensorhub" in output
    assert _warning_lines(output) == []
    # the optional native walk was declared (setup.py) and built in place, not silently dropped
    if shutil.which("cc") or shutil.which("gcc"):
        assert list((src / "drivers" / "fit").glob("_walkc*.so")), output[-3000:]


def test_the_warning_check_sees_a_backend_warning():
    """The filter above would catch today's setuptools notice (guards against a blind regex)."""
    sample = (
        "  /tmp/pip-build-env/overlay/setuptools/config/pyprojecttoml.py:72: BuildBackendWarning:"
        " `[tool.setuptools.ext-modules]` in `pyproject.toml` is still *experimental*\n"
        "  Successfully built sensorhub\n"
    )
    assert len(_warning_lines(sample)) == 1
