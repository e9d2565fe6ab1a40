"""Start a real PostgreSQL (Debian's ``postgresql`` binaries: ``initdb`` + ``pg_ctl``) for tests.

One server per test session in a temporary directory, on a free loopback port, password
login over TCP (``scram-sha-256``) so that a refused login can be tested. The data directory
belongs to the ``postgres`` user when the tests run as root (PostgreSQL refuses to run as
root). Each test gets its own database, cloned from a template that already holds the
journal's schema (``CREATE DATABASE … TEMPLATE``: a few milliseconds). Durability is off
(``fsync=off``): a test server's data does not outlive the session.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from .influxd import free_port

PASSWORD = "s3cret-" + uuid.uuid4().hex[:8]
TEMPLATE = "sensorhub_template"


def pg_bin(name: str) -> str | None:
    """The path of a PostgreSQL server program (``initdb``, ``pg_ctl``), or None."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return versions[-1] if versions else None


def require_pg() -> None:
    """Skip (or, with ``SENSORHUB_REQUIRE_PG=1``, fail) when the server programs are absent."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        why = "psycopg not installed: pip install -e '.[postgres]' (scripts/test.sh does)"
    else:
        if pg_bin("initdb") and pg_bin("pg_ctl"):
            return
        why = "PostgreSQL server programs (initdb, pg_ctl) not found: apt-get install postgresql"
    if os.environ.get("SENSORHUB_REQUIRE_PG") == "1":
        pytest.fail(f"{why} (SENSORHUB_REQUIRE_PG=1)")
    pytest.skip(why)


class PgServer:
    """A private PostgreSQL server; :meth:`new_database` gives a fresh database URL."""

    def __init__(self, durable_commit: bool = False) -> None:
        # durable_commit: COMMIT waits for the WAL write, so a server stopped with ``-m
        # immediate`` (crash recovery on restart) keeps every commit a client saw succeed —
        # the default ``synchronous_commit=off`` may lose the last ones, as no real one may
        self.synchronous_commit = "on" if durable_commit else "off"
        self.root = Path(tempfile.mkdtemp(prefix="sensorhub-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.user = "postgres"
        self.as_root = os.geteuid() == 0
        self.url_base = f"postgresql://{self.user}:{PASSWORD}@127.0.0.1:{self.port}"

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        cmd = list(args)
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)

    def start(self) -> None:
        if self.as_root:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if self.as_root:
            os.chown(pwfile, pw.pw_uid, pw.pw_gid)
        done = self._run(
            pg_bin("initdb") or "initdb",
            "-D",
            str(self.data),
            "-U",
            self.user,
            "--pwfile",
            str(pwfile),
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        if done.returncode:
            raise RuntimeError(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")
        self._pg_ctl_start()
        self._make_template()

    def _pg_ctl_start(self) -> None:
        opts = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
            f" -c synchronous_commit={self.synchronous_commit} -c full_page_writes=off"
            " -c max_connections=100"
        )
        done = self._run(
            pg_bin("pg_ctl") or "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "log"),
            "-o",
            opts,
            "-w",
            "-t",
            "60",
            "start",
        )
        if done.returncode:
            log = (self.root / "log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"pg_ctl start failed: {done.stderr.strip()} {log}")

    def halt(self, mode: str = "fast") -> None:
        """Stop the server, keeping its data (``mode``: pg_ctl's ``fast`` or ``immediate``):
        every connection is cut, as when a managed database restarts or fails over."""
        done = self._run(
            pg_bin("pg_ctl") or "pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop"
        )
        if done.returncode:
            raise RuntimeError(f"pg_ctl stop failed: {done.stderr.strip()}")

    def resume(self) -> None:
        """Start a :meth:`halt`-ed server again on the same port with the same data."""
        self._pg_ctl_start()

    def url(self, database: str = "postgres") -> str:
        return f"{self.url_base}/{database}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql)

    def _make_template(self) -> None:
        from sensorhub.store import Journal

        self.admin(f"CREATE DATABASE {TEMPLATE}")
        Journal(self.url(TEMPLATE)).close()  # the schema, once

    def new_database(self, schema: bool = True) -> str:
        """A fresh database's URL (with the journal's schema unless ``schema`` is False)."""
        name = "t_" + uuid.uuid4().hex[:12]
        self.admin(f"CREATE DATABASE {name}" + (f" TEMPLATE {TEMPLATE}" if schema else ""))
        return self.url(name)

    def stop(self) -> None:
        self._run(pg_bin("pg_ctl") or "pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
