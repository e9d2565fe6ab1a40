"""Source plugins: each kind of input becomes an :class:`IngestedSource` (see ``base``).

Telegraf's inputs are the model: a kind is one module whose class registers itself with
:func:`register` (``registry``), and the registry line at the end of this file imports it.
Adding a kind touches no other file (docs/architecture.md has a worked example).
"""

from __future__ import annotations

from . import checkin, fit, imu, live, readiness, track
from .base import (
    FileSource,
    HrLimits,
    IngestedSource,
    Series,
    SessionRecord,
    SourceError,
    SourceKind,
    SourceSkipped,
)
from .registry import REGISTRY, file_kinds, kind_for, register

# the registry line: one module per kind, in the order files are offered to them
KINDS = (fit, imu, live, track, readiness, checkin)

__all__ = [
    "REGISTRY",
    "FileSource",
    "HrLimits",
    "IngestedSource",
    "Series",
    "SessionRecord",
    "SourceError",
    "SourceKind",
    "SourceSkipped",
    "file_kinds",
    "kind_for",
    "register",
]
