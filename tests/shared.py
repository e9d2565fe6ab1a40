"""Locate ../shared test data; skip (or fail in CI) when absent."""

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def shared_dir(*parts: str) -> Path:
    p = SHARED.joinpath(*parts)
    if not p.exists():
        if os.environ.get("SENSORHUB_REQUIRE_SHARED") == "1":
            pytest.fail(f"{p} is required (SENSORHUB_REQUIRE_SHARED=1) but missing")
        pytest.skip(f"{p} not present")
    return p
