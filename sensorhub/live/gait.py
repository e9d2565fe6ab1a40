"""Streaming gait: PMD ACC frames -> ground contacts on a sliding window -> steps, once each.

:class:`PodStream` (one IMU pod) buffers the last ``window_s`` seconds of acceleration and,
every ``hop_s`` of new data, runs the placement's contact detector of
:mod:`sensorhub.gait` (shank: Kiernan et al. 2023 impact-front family; sacrum: Lee et al.
2010 sides) on the window. A contact is *final* once its IC lies at least ``settle_s``
before the newest sample (so its toe-off has been seen) and is handed on once: contacts
whose IC is within ``dedupe_s`` of one already emitted are the same contact seen again in
a later window.

:class:`StepStream` (one athlete) merges the final contacts of the athlete's pods in IC
order and emits each step when the next contact (any side) is known, with the metrics of
:func:`sensorhub.gait.step_metrics` (Cavanagh & Kram 1989): step time = IC(k+1) − IC(k),
flight = IC(k+1) − TO(k), cadence = 60 000 / step time; with one leg only, step = stride/2.
It keeps the last ``asym_window_s`` seconds of steps for the rolling symmetry index
SI = (L − R)/(0.5 (L + R)) × 100 (Robinson et al. 1987) used by live alerts.

Times: PMD samples carry the sensor clock (ns since 2000). :class:`SensorClock` maps it to
Unix time with the smallest arrival-minus-sensor offset seen over the last frames (the
frame with the shortest radio delay is the best estimate of the clock offset).
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..gait import ContactDetector, GaitError, asymmetry, body_rotation, make_detector

log = logging.getLogger(__name__)
NS = 1_000_000_000
LOCATIONS = ("shank", "sacrum")
_SIDES = {"left": "L", "l": "L", "right": "R", "r": "R"}


def parse_placement(placement: str) -> tuple[str | None, str | None]:
    """``left_shank`` -> ('shank', 'L'); ``sacrum`` -> ('sacrum', None); others -> (None, None).

    Only accelerometer placements are analysed live (foot needs gyro fusion: not yet).
    """
    words = placement.lower().replace("-", "_").split("_")
    location = next((w for w in words if w in LOCATIONS), None)
    side = next((_SIDES[w] for w in words if w in _SIDES), None)
    return location, side


class SensorClock:
    """Sensor ns -> Unix ns: offset = min(arrival − sensor time) over the last ``n`` frames."""

    def __init__(self, n: int = 3000) -> None:
        self.offsets: deque[int] = deque(maxlen=n)

    def reset(self) -> None:
        self.offsets.clear()

    def observe(self, sensor_ns: int, arrival_ns: int) -> None:
        self.offsets.append(arrival_ns - sensor_ns)

    @property
    def offset_ns(self) -> int:
        return min(self.offsets) if self.offsets else 0


@dataclass(frozen=True, slots=True)
class Contact:
    """A final ground contact: Unix seconds, ms, 'L'/'R'/None, the pod it came from."""

    ic_s: float
    to_s: float
    gct_ms: float
    side: str | None
    pod: str
    location: str


class PodStream:
    """Sliding-window contact detection for one pod (see the module docstring)."""

    def __init__(
        self,
        pod: str,
        location: str,
        side: str | None = None,
        window_s: float = 4.0,
        hop_s: float = 0.2,
        settle_s: float = 0.4,
        dedupe_s: float = 0.15,
        **detector_settings,
    ) -> None:
        self.pod, self.location, self.side = pod, location, side
        self.athlete = ""
        self.window_s, self.hop_s, self.settle_s, self.dedupe_s = (
            window_s,
            hop_s,
            settle_s,
            dedupe_s,
        )
        self.rotation_every_s = detector_settings.pop("rotation_every_s", 5.0)
        self.detector_settings = detector_settings
        self._detector: ContactDetector | None = None  # made on first use (settings checked)
        self._rot: np.ndarray | None = None
        self._rot_at = -np.inf
        self.clock = SensorClock()
        self._t: deque[np.ndarray] = deque()
        self._xyz: deque[np.ndarray] = deque()
        self._last_run_s = -np.inf
        self._last_ic_s = -np.inf  # sensor seconds
        self.horizon_s = -np.inf  # Unix seconds up to which contacts are final
        self.errors: list[str] = []
        self.frames = 0

    def add(self, t_ns: np.ndarray, xyz: np.ndarray, arrival_ns: int) -> list[Contact]:
        """Add one ACC frame (sensor ns, (n, 3) g); returns the contacts that became final."""
        if len(t_ns) == 0:
            return []
        self.frames += 1
        self.clock.observe(int(t_ns[-1]), arrival_ns)
        t = (np.asarray(t_ns, dtype=np.int64) / NS).astype(float)
        if self._t and t[0] <= self._t[-1][-1]:  # sensor restarted or clock jumped
            self._t.clear()
            self._xyz.clear()
            self._last_run_s, self._last_ic_s = -np.inf, -np.inf
            self._rot = None
        self._t.append(t)
        self._xyz.append(np.asarray(xyz, dtype=float))
        while self._t and self._t[0][-1] < t[-1] - self.window_s:
            self._t.popleft()
            self._xyz.popleft()
        if t[-1] - self._last_run_s < self.hop_s:
            return []
        self._last_run_s = t[-1]
        return self._detect(t[-1] - self.settle_s)

    def finish(self) -> list[Contact]:
        """At the end of a session: every contact whose toe-off is in the buffer."""
        if not self._t:
            return []
        return self._detect(np.inf)

    def _rotation(self, t: np.ndarray, xyz: np.ndarray) -> np.ndarray:
        """Sensor -> body axes (:func:`sensorhub.gait.body_rotation`), refreshed every
        ``rotation_every_s``: a strapped pod does not turn from one window to the next."""
        if self._rot is None or t[-1] - self._rot_at > self.rotation_every_s:
            self._rot, self._rot_at = body_rotation(xyz), t[-1]
        return self._rot

    def _detect(self, final_until_s: float) -> list[Contact]:
        t = np.concatenate(self._t)
        xyz = np.concatenate(self._xyz)
        offset_s = self.clock.offset_ns / NS
        self.horizon_s = min(final_until_s, t[-1]) + offset_s
        if t[-1] - t[0] < 1.0:
            return []
        try:
            body = xyz @ self._rotation(t, xyz).T
            if self._detector is None:
                self._detector = make_detector(self.location, **self.detector_settings)
            # arrays, not a DataFrame: this runs every hop_s for every pod, and pandas'
            # per-call cost was most of the collector's CPU (benchmarks/live.py)
            found = self._detector.detect_arrays(
                t, {"acc_ap_g": body[:, 0], "acc_ml_g": body[:, 1], "acc_v_g": body[:, 2]}
            ).contact_arrays_
        except GaitError as exc:  # e.g. a 52 Hz stream: below the detector's minimum rate
            if str(exc) not in self.errors:
                self.errors.append(str(exc))
                log.warning("%s: no live gait: %s", self.pod, exc)
            return []
        whole = ~found["partial"]  # a stance cut by this window is seen whole in another
        out = []
        for ic, to, gct, side in zip(
            found["ic_s"][whole].tolist(),
            found["to_s"][whole].tolist(),
            found["gct_ms"][whole].tolist(),
            found["side"][whole].tolist(),
            strict=True,
        ):
            if ic > final_until_s or ic <= self._last_ic_s + self.dedupe_s:
                continue
            self._last_ic_s = ic
            side = self.side or (side if isinstance(side, str) else None)
            out.append(
                Contact(ic + offset_s, to + offset_s, float(gct), side, self.pod, self.location)
            )
        return out


@dataclass(frozen=True, slots=True)
class Step:
    """One emitted step: the contact that starts it and the metrics until the next IC."""

    contact: Contact
    step_time_ms: float
    flight_ms: float
    cadence_spm: float
    end_s: float  # Unix seconds at which the step was complete (next IC, or toe-off)

    def fields(self) -> dict[str, float]:
        return {
            "gct_ms": self.contact.gct_ms,
            "flight_ms": self.flight_ms,
            "step_time_ms": self.step_time_ms,
            "cadence_spm": self.cadence_spm,
        }


class StepStream:
    """Merge one athlete's pods' contacts into steps (see the module docstring).

    ``max_step_s``: a longer interval is a missed step or a pause (metrics left out);
    ``stale_s``: a pod silent this long no longer holds the others back.
    """

    def __init__(
        self, max_step_s: float = 1.0, asym_window_s: float = 60.0, stale_s: float = 3.0
    ) -> None:
        self.max_step_s, self.asym_window_s, self.stale_s = max_step_s, asym_window_s, stale_s
        self.pending: list[Contact] = []
        self.horizons: dict[str, tuple[float, float]] = {}  # pod -> (horizon, last update)
        self.locations: dict[str, tuple[str, str | None]] = {}
        self.recent: deque[Step] = deque()
        self.steps: list[Step] = []

    def register(self, pod: PodStream) -> None:
        """Declare a configured pod up front (so two shank pods count as two-sided at once)."""
        self.locations[pod.pod] = (pod.location, pod.side)

    def add(self, pod: PodStream, contacts: list[Contact], now_s: float) -> list[Step]:
        self.register(pod)
        self.horizons[pod.pod] = (pod.horizon_s, now_s)
        self.pending.extend(contacts)
        self.pending.sort(key=lambda c: c.ic_s)
        live = [h for h, seen in self.horizons.values() if now_s - seen < self.stale_s]
        return self._emit(min(live) if live else -np.inf)

    def finish(self) -> list[Step]:
        return self._emit(np.inf, final=True)

    @property
    def two_sided(self) -> bool:
        """Both feet seen: a sacral pod, or pods on both legs."""
        locs = set(self.locations.values())
        return any(loc == "sacrum" for loc, _ in locs) or {s for _, s in locs} >= {"L", "R"}

    def _emit(self, horizon_s: float, final: bool = False) -> list[Step]:
        out = []
        while self.pending and self.pending[0].ic_s <= horizon_s:
            c = self.pending[0]
            nxt = self._successor(c, horizon_s)
            if nxt is None and not final and horizon_s - c.ic_s < 2 * self.max_step_s:
                break  # wait for the next contact
            self.pending.pop(0)
            out.append(self._step(c, nxt))
        for s in out:
            self.recent.append(s)
            self.steps.append(s)
        while self.recent and self.recent[0].contact.ic_s < (
            self.recent[-1].contact.ic_s - self.asym_window_s
        ):
            self.recent.popleft()
        return out

    def _successor(self, c: Contact, horizon_s: float) -> Contact | None:
        same_pod = not self.two_sided
        for n in self.pending[1:]:
            if n.ic_s > horizon_s:
                return None
            if not same_pod or n.pod == c.pod:
                return n
        return None

    def _step(self, c: Contact, nxt: Contact | None) -> Step:
        nan = float("nan")
        if nxt is None:
            return Step(c, nan, nan, nan, c.to_s)
        per_stride = 2 if self.two_sided else 1
        step = (nxt.ic_s - c.ic_s) * (1.0 if per_stride == 2 else 0.5)
        missed = per_stride == 2 and c.side is not None and c.side == nxt.side
        if missed or not 0 < step <= self.max_step_s:
            return Step(c, nan, nan, nan, nxt.ic_s)
        flight = nxt.ic_s - c.to_s if per_stride == 2 else step - c.gct_ms / 1000.0
        return Step(c, 1000.0 * step, 1000.0 * flight, 60.0 / step, nxt.ic_s)

    def frame(self, steps: list[Step] | None = None) -> pd.DataFrame:
        """Steps as a table with the columns of :func:`sensorhub.gait.step_metrics`."""
        rows = [
            {"ic_s": s.contact.ic_s, "to_s": s.contact.to_s, "side": s.contact.side, **s.fields()}
            for s in (self.steps if steps is None else steps)
        ]
        cols = ["ic_s", "to_s", "side", "gct_ms", "flight_ms", "step_time_ms", "cadence_spm"]
        return pd.DataFrame(rows, columns=cols)

    def rolling_asymmetry(self) -> dict[str, float]:
        """SI/SA/balance of GCT, flight and step time over the last ``asym_window_s``."""
        out = asymmetry(self.frame(list(self.recent)))
        out["n_steps"] = len(self.recent)
        out["window_s"] = self.asym_window_s
        return out
