"""RSC and HR notifications -> the per-second ``run`` series (tags athlete, sport, source=ble).

Each second of arrival time is one point. Fields are running means over the notifications
that arrived in that second (``speed_mps``, ``cadence_spm``, ``step_length_mm``, ``hr_bpm``,
``rr_ms``) and the latest ``distance_m``. The point is re-emitted after every notification
with the mean so far, so it can be written at once (bounded latency): InfluxDB keeps the
last write of a series and timestamp, which is the mean over the whole second.

Units and sources:

* RSC (Bluetooth SIG RSCS 1.0): stride length is same foot to same foot, so one step is
  half of it: ``step_length_mm = 1000 * stride_m / 2`` (DESIGN.md); cadence is steps/min.
* RSC total distance counts from the sensor's last reset: ``distance_m`` is the distance
  since the first notification of the session (a counter that goes backwards — reset or
  wrap — is bridged, so the session distance keeps growing).
* HRS 1.0: ``hr_bpm``; ``rr_ms`` is the mean of the RR intervals reported in that second
  (beat-to-beat timing for HRV needs its own series; not written here).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..store.lineprotocol import line_at, series_key

NS = 1_000_000_000
_MEAN_FIELDS = ("speed_mps", "cadence_spm", "step_length_mm", "hr_bpm", "rr_ms")


@dataclass
class _Second:
    sums: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    last: dict[str, float] = field(default_factory=dict)

    def add(self, name: str, value: float | None) -> None:
        if value is None or not np.isfinite(value):
            return
        self.sums[name] = self.sums.get(name, 0.0) + float(value)
        self.counts[name] = self.counts.get(name, 0) + 1

    def fields(self) -> dict[str, float]:
        out = {k: self.sums[k] / self.counts[k] for k in _MEAN_FIELDS if k in self.sums}
        out.update(self.last)
        return out


class _Odometer:
    """Session distance from a total-distance counter that may reset or wrap."""

    def __init__(self) -> None:
        self.first: float | None = None
        self.prev: float | None = None
        self.offset = 0.0

    def __call__(self, total_m: float) -> float:
        if self.first is None:
            self.first = self.prev = total_m
        if total_m < self.prev:  # reset or wrap: continue from where it was
            self.offset += self.prev - total_m
        self.prev = total_m
        return total_m - self.first + self.offset


class RunSeries:
    """The live ``run`` series of one athlete.

    ``add_rsc`` / ``add_hr`` take the arrival time (Unix ns) and the parsed notification
    and return ``(key, line)``: the line-protocol point of that second with the values so
    far; a later line with the same key replaces it. ``frame()`` gives every second as a
    DataFrame (UTC index) for the session summary.
    """

    def __init__(self, athlete: str, sport: str = "running", source: str = "ble") -> None:
        self.athlete = athlete
        self.key = series_key("run", {"athlete": athlete, "sport": sport, "source": source})
        self.seconds: dict[int, _Second] = {}
        self._odometers: dict[str, _Odometer] = {}

    def add_rsc(self, t_ns: int, m, device: str = "") -> tuple[tuple, str]:
        sec = self._second(t_ns)
        sec.add("speed_mps", m.speed_mps)
        sec.add("cadence_spm", float(m.cadence_spm))
        if m.stride_m is not None:
            sec.add("step_length_mm", 1000.0 * m.stride_m / 2.0)
        if m.distance_m is not None:
            odo = self._odometers.setdefault(device, _Odometer())
            sec.last["distance_m"] = odo(m.distance_m)
        return self._line(t_ns // NS, sec)

    def add_hr(self, t_ns: int, m) -> tuple[tuple, str]:
        sec = self._second(t_ns)
        sec.add("hr_bpm", float(m.hr_bpm))
        for rr in m.rr_s:
            sec.add("rr_ms", 1000.0 * rr)
        return self._line(t_ns // NS, sec)

    def _second(self, t_ns: int) -> _Second:
        s = t_ns // NS
        sec = self.seconds.get(s)
        if sec is None:
            sec = self.seconds[s] = _Second()
        return sec

    def _line(self, s: int, sec: _Second) -> tuple[tuple, str]:
        return ("run", self.key, s), line_at(self.key, sec.fields(), s * 1000) or ""

    def frame(self) -> pd.DataFrame:
        """Every second so far: UTC DatetimeIndex, one column per field (NaN when absent)."""
        if not self.seconds:
            return pd.DataFrame(index=pd.DatetimeIndex([], tz="UTC", name="time"))
        secs = sorted(self.seconds)
        rows = [self.seconds[s].fields() for s in secs]
        index = pd.to_datetime(np.array(secs, dtype="int64") * NS, utc=True).rename("time")
        return pd.DataFrame(rows, index=index)
