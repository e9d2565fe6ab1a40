"""The symptom diary and return-to-run plan state in the journal (tables ``checkins``,
``plan_state``, ``plan_events``). See docs/return-to-run.md."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .journal import Journal

DIARY_SCHEMA = """
"""


class Diary:
    """Check-ins and plan state of a :class:`Journal` (same connection, same transactions)."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.db: sqlite3.Connection = journal.db
