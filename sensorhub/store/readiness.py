"""Readiness-test results in the journal (table ``readiness``). See docs/readiness.md."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .journal import Journal

READINESS_SCHEMA = """
"""


class ReadinessStore:
    """Readiness results of a :class:`Journal` (same connection, same transactions)."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.db: sqlite3.Connection = journal.db
