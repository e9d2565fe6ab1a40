"""Checks on single values from devices: FIT fields can be missing, NaN, strings or arrays."""

from __future__ import annotations

import numpy as np


def finite_number(v: object) -> bool:
    """True for an int or float (numpy included) that is finite; False for anything else."""
    return isinstance(v, int | float | np.integer | np.floating) and bool(np.isfinite(v))
