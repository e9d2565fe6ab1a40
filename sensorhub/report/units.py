"""Distance units of the listings and reports: ``[display] distance_unit`` in the config.

The journal, InfluxDB and every CSV keep SI units (metres, seconds; pace as ``s_per_km`` in a
column name that says so); only text for people is converted. A mile is the international
mile, 1609.344 m.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

METRES = {"km": 1000.0, "mi": 1609.344}


@dataclass(frozen=True)
class DistanceUnit:
    """One display unit: its name (``km`` or ``mi``) and its length in metres."""

    name: str = "km"

    @property
    def metres(self) -> float:
        return METRES[self.name]

    def of(self, metres):
        """A distance in metres (number or Series) in this unit."""
        return metres / self.metres

    def pace_s(self, speed_mps):
        """Seconds per unit (min:ss pace once formatted) at ``speed_mps`` (m/s, number or
        Series); NaN where the speed is missing or not above 0."""
        if isinstance(speed_mps, pd.Series):
            return self.metres / speed_mps.where(speed_mps > 0)
        try:
            speed = float(speed_mps)
        except (TypeError, ValueError):
            return np.nan
        return self.metres / speed if speed > 0 else np.nan


KM = DistanceUnit("km")


def unit_of(cfg) -> DistanceUnit:
    """The configured unit (``cfg.display.distance_unit``; km when the config has none)."""
    display = getattr(cfg, "display", None)
    return DistanceUnit(getattr(display, "distance_unit", "km") or "km")
