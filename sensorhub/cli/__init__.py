"""The ``sensorhub`` command: one typer app (:mod:`.app`) and a module per group of commands.

Each command module adds its commands to the shared app when imported; the lines below are
the registry (adding a command group is one module plus one line here).
"""

# importing a command module registers its commands on the shared app
from . import athletes, fixes, ingest, jobs, live, plans, readiness, records, report  # noqa: F401
from .app import app

__all__ = ["app"]
