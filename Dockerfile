# sensorhub: `sensorhub watch /inbox` (and, with the ble extra, the live collector).
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    SENSORHUB_HOME=/data

WORKDIR /app
COPY pyproject.toml setup.py README.md* ./
COPY sensorhub ./sensorhub
COPY drivers ./drivers
RUN pip install ".[ble]" \
    && useradd --create-home --uid 1000 sensorhub \
    && mkdir -p /data /inbox \
    && chown sensorhub:sensorhub /data /inbox

USER sensorhub
VOLUME ["/data"]
CMD ["sensorhub", "watch", "/inbox"]
