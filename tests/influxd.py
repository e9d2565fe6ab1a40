"""Start a real ``influxd`` (InfluxDB 1.x from Debian's ``influxdb`` package) for tests.

Each server gets free loopback ports and a temporary data directory; it can be stopped
and started again on the same port and data (to test InfluxDB going away mid-ingest).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx

CONFIG = """
reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{root}/meta"
[data]
  dir = "{root}/data"
  wal-dir = "{root}/wal"
  query-log-enabled = false
[coordinator]
[retention]
  enabled = false
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:{http_port}"
  log-enabled = false
[continuous_queries]
  enabled = false
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def influxd_binary() -> str | None:
    return shutil.which("influxd") or (
        "/usr/bin/influxd" if Path("/usr/bin/influxd").exists() else None
    )


class InfluxServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.http_port = free_port()
        self.rpc_port = free_port()
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.proc: subprocess.Popen | None = None
        self.conf = root / "influxdb.conf"
        self.conf.write_text(
            CONFIG.format(root=root, rpc_port=self.rpc_port, http_port=self.http_port)
        )

    def start(self, timeout: float = 30.0) -> None:
        binary = influxd_binary()
        if binary is None:
            raise RuntimeError("influxd not found: install Debian's influxdb package")
        log = open(self.root / "influxd.log", "ab")  # noqa: SIM115 - lives as long as the process
        self.proc = subprocess.Popen([binary, "-config", str(self.conf)], stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/ping", timeout=1).status_code == 204:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"influxd did not start; see {self.root / 'influxd.log'}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def query(self, db: str, q: str) -> list[dict]:
        """Run InfluxQL; returns the series of the first statement (``[]`` when empty)."""
        r = httpx.post(f"{self.url}/query", params={"db": db, "q": q, "epoch": "ms"}, timeout=30)
        r.raise_for_status()
        res = r.json()["results"][0]
        if "error" in res:
            raise RuntimeError(res["error"])
        return res.get("series", [])

    def count(self, db: str, measurement: str, field: str, where: str = "") -> int:
        series = self.query(db, f'SELECT COUNT("{field}") FROM "{measurement}" {where}')
        return int(sum(s["values"][0][1] for s in series)) if series else 0
