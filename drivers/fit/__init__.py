"""FIT files (Garmin's Flexible and Interoperable data Transfer) into pandas frames.

``decode(path)`` is the one entry point; see :class:`FitMessages` for the contract.
"""

from __future__ import annotations

from pathlib import Path

from .errors import FitError
from .fitparse_backend import decode_with_fitparse
from .result import FitMessages

__all__ = ["FitError", "FitMessages", "decode"]


def decode(path: str | Path) -> FitMessages:
    """Decode every message of a FIT file (chained parts included).

    Raises :class:`FitError` when nothing can be decoded; a file damaged part-way
    returns what came before the damage with ``partial`` set and ``error`` saying where.
    """
    return decode_with_fitparse(path)
