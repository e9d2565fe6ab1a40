"""``sensorhub submit``: store files' bytes in the shared journal and queue one job each.

Each file is one transaction on the journal's connection: its bytes go into ``blobs``
(keyed by sha256) and its ingest job is deferred with the same connection, so a file is
never queued without its bytes nor stored without its job, and a second copy of the same
bytes is a no-op ("already submitted").

The athlete a job locks is decided here, before decoding, the way the recorder decides it:
``--athlete`` if given; else, when the configuration maps device serials to athletes, the
athlete of the FIT file's first configured device (the file is decoded once here for
that); else the default athlete. The worker stores the file under that athlete (it is the
pipeline's ``athlete``), so the lock always names the athlete whose sessions change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import drivers.fit
from drivers.archive import ArchiveError

from ..config import Config
from ..fitmeta import device_serials
from ..pipeline import find_inputs
from ..sources import archive, file_kinds, kind_for
from ..store import Journal, StoreError
from ..store.blobs import MAX_BLOB_BYTES, Blobs
from ..store.roster import refresh_athletes
from .queue import INGEST, ingest_locks, make_app, prepare


@dataclass
class Submitted:
    """What happened to one path: ``queued``, ``duplicate`` or ``refused``."""

    path: Path
    status: str
    message: str = ""
    sha256: str = ""
    athlete: str = ""

    def line(self) -> str:
        return f"{self.path}: {self.message or self.status}"


def job_athlete(cfg: Config, name: str, data: bytes, athlete: str | None = None) -> str:
    """The athlete a file's job locks and is stored under (module docstring)."""
    if athlete:
        return cfg.athlete(athlete).id
    mapped = any(a.devices for a in cfg.roster())
    if mapped and archive.strip_gz(str(archive.inner_path(name))).lower().endswith(".fit"):
        try:
            serials = device_serials(drivers.fit.decode(data))
        except Exception:  # noqa: BLE001 - a file that won't decode fails in its job, with reason
            serials = []
        for serial in serials:
            found = cfg.athlete_for_device(serial)
            if found:
                return found.id
    return cfg.default_athlete


class Submitter:
    """Submit files to the job queue of a PostgreSQL journal."""

    def __init__(self, cfg: Config, journal: Journal, athlete: str | None = None) -> None:
        if journal.backend != "postgresql":
            raise StoreError("sensorhub submit needs a PostgreSQL journal")
        self.cfg, self.journal, self.athlete = cfg, journal, athlete
        self.kinds = file_kinds(cfg)
        prepare(journal.db)
        self.blobs = Blobs(journal.db)
        self.task = make_app(journal.path).tasks[INGEST]

    def submit(self, paths: Iterable[str | Path]) -> Iterator[Submitted]:
        """One result per input (folders and zips expanded as ``sensorhub ingest`` does)."""
        for path in find_inputs(paths, self.kinds):
            yield self.submit_one(path)

    def submit_one(self, path: Path) -> Submitted:
        try:
            data = self._read(path)
        except (OSError, ArchiveError, ValueError) as exc:
            text = getattr(exc, "strerror", None) or str(exc)
            return Submitted(path, "refused", f"cannot read ({text})")
        if isinstance(data, Submitted):
            return data
        sha = hashlib.sha256(data).hexdigest()
        refresh_athletes(self.cfg, self.journal)  # devices of athletes stored in the journal
        athlete = job_athlete(self.cfg, str(path), data, self.athlete)
        with self.journal.db.transaction(lock=None):
            fresh = self.blobs.put(sha, str(path), athlete, data)
            if fresh:
                self.task.configure(
                    connection=self.journal.db.conn, **ingest_locks(sha, athlete)
                ).defer(sha256=sha, name=str(path), athlete=athlete)
        if not fresh:
            return Submitted(path, "duplicate", "already submitted (same bytes)", sha, athlete)
        return Submitted(path, "queued", f"queued for {athlete}", sha, athlete)

    def _read(self, path: Path) -> bytes | Submitted:
        name = archive.strip_gz(str(archive.inner_path(path)))
        kind = kind_for(Path(name), self.kinds)
        if kind is None:
            return Submitted(path, "refused", f"no source kind reads {Path(name).suffix!r} files")
        if kind.companions(path):
            return Submitted(path, "refused", "read with companion files: use sensorhub ingest")
        if not archive.split_member(path) and path.stat().st_size > MAX_BLOB_BYTES:
            return self._too_big(path, path.stat().st_size)
        data = archive.read_input(path)
        return self._too_big(path, len(data)) if len(data) > MAX_BLOB_BYTES else data

    @staticmethod
    def _too_big(path: Path, size: int) -> Submitted:
        limit = MAX_BLOB_BYTES // 1024**2
        return Submitted(
            path,
            "refused",
            f"{size / 1024**2:.1f} MiB: larger than the {limit} MiB a submitted file may be"
            " (use sensorhub ingest on the machine that has it)",
        )
