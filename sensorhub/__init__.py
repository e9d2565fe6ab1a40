"""sensorhub: running data from wearables into gait metrics, training load and InfluxDB."""

__version__ = "0.1.0"
