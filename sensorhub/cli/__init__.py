"""The ``sensorhub`` command: one typer app (:mod:`.app`) and a module per group of commands.

Each command module adds its commands to the shared app when imported; the lines below are
the registry (adding a command group is one module plus one line here).
"""

from . import ingest, live, records, report  # noqa: F401 - registers the commands
from .app import app

__all__ = ["app"]
