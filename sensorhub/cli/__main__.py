"""``python -m sensorhub.cli``."""

from . import app

app()
