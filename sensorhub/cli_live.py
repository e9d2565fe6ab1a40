"""Live commands (`scan`, `collect`, `emulate`), registered on the main CLI."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the live Bluetooth LE commands to ``app``."""
