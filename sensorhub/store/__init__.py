"""Storage: the journal (SQLite by default, or PostgreSQL) with its outbox, and the InfluxDB
writer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .backends import ConflictError, PgTarget, parse_target
from .influx import FlushReport, InfluxWriter
from .journal import Journal, SessionRow, StoreError
from .lineprotocol import delete_span, frame_to_lines, point_line

if TYPE_CHECKING:
    from pathlib import Path

    from ..config import Config

__all__ = [
    "ConflictError",
    "FlushReport",
    "InfluxWriter",
    "Journal",
    "PgTarget",
    "SessionRow",
    "StoreError",
    "frame_to_lines",
    "journal_target",
    "open_journal",
    "delete_span",
    "point_line",
]


def journal_target(cfg: Config) -> Path | PgTarget:
    """Where ``cfg``'s journal lives: ``[journal] url`` / ``$SENSORHUB_JOURNAL_URL``
    (``sqlite:///path`` or ``postgresql://…``), else the state dir's ``journal.sqlite``."""
    url = cfg.journal.url
    if url and "://" not in url:  # not echoed: it may hold a password
        raise StoreError(
            "journal url ([journal] url or SENSORHUB_JOURNAL_URL): use sqlite:///path"
            " or postgresql://user@host/database"
        )
    return parse_target(url or cfg.journal_path, default=cfg.journal_path)


def open_journal(cfg: Config) -> Journal:
    """The configured journal (a :class:`StoreError` when it cannot be opened)."""
    return Journal(journal_target(cfg))
