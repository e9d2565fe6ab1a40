"""FIT files (Garmin's Flexible and Interoperable data Transfer) into pandas frames.

``decode(path)`` is the one entry point; see :class:`FitMessages` for the contract.
The default backend is the vectorised decoder (:mod:`drivers.fit.fast`); fitparse stays
available as the reference (``backend="fitparse"`` or :func:`decode_with_fitparse`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from .errors import FitError
from .fast import CrcPolicy, decode_fast
from .fitparse_backend import decode_with_fitparse
from .result import FitMessages

__all__ = ["FitError", "FitMessages", "decode", "decode_fast", "decode_with_fitparse"]


def decode(
    source: str | Path | bytes,
    *,
    backend: Literal["fast", "fitparse"] = "fast",
    crc: CrcPolicy = "warn",
) -> FitMessages:
    """Decode every message of a FIT file (a path, or its bytes), chained parts included.

    Raises :class:`FitError` when nothing can be decoded; a file damaged part-way
    returns what came before the damage with ``partial`` set and ``error`` saying where.
    ``crc`` (fast backend): a CRC mismatch is a warning (``"warn"``), a :class:`FitError`
    (``"raise"``) or not checked (``"ignore"``).
    """
    if backend == "fitparse":
        return decode_with_fitparse(source)
    if backend != "fast":
        raise ValueError(f"unknown FIT backend {backend!r} (use 'fast' or 'fitparse')")
    return decode_fast(source, crc=crc)
