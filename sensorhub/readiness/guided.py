"""The guided live test (pure; no I/O): the prompts of ``sensorhub test KIND --live`` and the
running count shown while a leg is recorded.

For each leg in turn (LEFT, then RIGHT) :class:`GuidedTest` schedules: "get ready", a countdown
(3, 2, 1), the cue ("hop on your LEFT leg now"), a recording window of ``seconds``, "stop";
between the legs a rest (time to move a shank pod to the other leg). Time comes from an injected
clock (seconds, any origin): the runner gives the collector's arrival clock, tests a fake one.

Samples arrive with their arrival time (same clock) and their sensor time; only samples that
arrive inside a leg's window belong to that leg. The running count is the analysis's own count
(:func:`sensorhub.readiness.analyse_leg`) on what has streamed so far, re-run every
``update_s`` of sensor time and once more at "stop", so the last count shown is the count the
stored result has (not a second, simpler counter that could disagree with it).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .api import MIN_FS_SLOW_HZ, analyse_leg
from .errors import ReadinessError
from .hop import MIN_FS_HZ

LEG_WORDS = {"L": "LEFT", "R": "RIGHT"}
#: Default recording window per leg (s): hop 10 s, heel raises 30 s, balance 30 s.
DEFAULT_SECONDS = {"hop": 10.0, "heel-raise": 30.0, "balance": 30.0}
#: The per-leg figure shown as the running count.
COUNT_FIELD = {"hop": "hops", "heel-raise": "reps_total", "balance": "losses"}
COUNT_WORD = {"hop": "hops", "heel-raise": "reps", "balance": "touch-downs"}
#: Kinds whose analysis uses the gyro when the pod streams it (heel raises: shank pitch).
USES_GYRO = frozenset({"heel-raise"})
_CUE = {
    "hop": "hop on your {leg} leg now",
    "heel-raise": "heel raises on your {leg} leg now, until you cannot",
    "balance": "stand on your {leg} leg now, hands on hips",
}


def min_rate_hz(kind: str) -> float:
    """The lowest sampling rate the analysis of ``kind`` accepts (hop 200 Hz, else 50 Hz)."""
    return MIN_FS_HZ if kind == "hop" else MIN_FS_SLOW_HZ


def check_rate(kind: str, fs_hz: float, pod: str) -> None:
    """Raise :class:`ReadinessError` when ``pod`` streams below :func:`min_rate_hz` (1 %
    tolerance for clock jitter, as the file path)."""
    need = min_rate_hz(kind)
    if fs_hz < 0.99 * need:
        why = " (10 ms of flight ≈ 1.2 cm of height at 0.5 s flight)" if kind == "hop" else ""
        raise ReadinessError(
            f"{kind} test: pod {pod!r} streams at {fs_hz:.0f} Hz; at least {need:.0f} Hz "
            f"is needed{why}"
        )


def cue_text(kind: str, leg: str) -> str:
    """The go prompt, e.g. "hop on your LEFT leg now"."""
    return _CUE[kind].format(leg=LEG_WORDS[leg])


def warm_up(kind: str, placement: str) -> None:
    """Run the analysis once on a synthetic recording (standing still with sensor noise), so
    its first real run (the first running count) does not stall the stream on imports
    (scipy.signal takes seconds to import on a busy machine). The result is thrown away."""
    rng = np.random.default_rng(0)
    t = np.arange(0.0, 6.0, 1.0 / 200.0)
    noise = rng.normal(0.0, 0.002, (t.size, 3))
    still = pd.DataFrame({"t_s": t, "acc_x_g": noise[:, 0], "acc_y_g": noise[:, 1]})
    still["acc_z_g"] = 1.0 + noise[:, 2]
    if kind in USES_GYRO:
        still = still.assign(gyr_x_dps=0.1, gyr_y_dps=0.0, gyr_z_dps=0.0)
    with contextlib.suppress(ReadinessError):
        analyse_leg(kind, still, placement)


@dataclass(frozen=True)
class Prompt:
    """One thing to show. ``phase``: ready | countdown | go | count | stop | rest | done;
    ``count``: the running count (count prompts, stop); ``seconds_left`` of the window."""

    leg: str
    phase: str
    text: str
    count: int | None = None
    seconds_left: float | None = None


class LegCounter:
    """One leg's samples and its running count (module doc). ``t_s``: sensor time (s);
    ``acc``: (n, 3) g; ``gyr``: (n, 3) deg/s, kept only for kinds in :data:`USES_GYRO`."""

    def __init__(self, kind: str, placement: str, update_s: float = 0.5) -> None:
        self.kind, self.placement, self.update_s = kind, placement, update_s
        self._acc: list[tuple[np.ndarray, np.ndarray]] = []
        self._gyr: list[tuple[np.ndarray, np.ndarray]] = []
        self._checked_t: float | None = None
        self.count = 0

    def add_acc(self, t_s: np.ndarray, acc: np.ndarray) -> bool:
        """Keep ACC samples; True when the running count changed."""
        if len(t_s) == 0:
            return False
        self._acc.append((np.asarray(t_s, float), np.asarray(acc, float)))
        last = float(t_s[-1])
        if self._checked_t is None:
            self._checked_t = float(t_s[0])
        if last - self._checked_t < self.update_s:
            return False
        self._checked_t = last
        return self.update()

    def add_gyr(self, t_s: np.ndarray, gyr: np.ndarray) -> None:
        if self.kind in USES_GYRO and len(t_s):
            self._gyr.append((np.asarray(t_s, float), np.asarray(gyr, float)))

    @property
    def n_samples(self) -> int:
        return sum(len(t) for t, _ in self._acc)

    def frame(self) -> pd.DataFrame:
        """The leg's recording: ``t_s`` from its first sample, ``acc_x/y/z_g`` and, when the
        gyro streamed, ``gyr_x/y/z_dps`` interpolated onto the ACC times (one sensor clock)."""
        if not self._acc:
            return pd.DataFrame(columns=["t_s", "acc_x_g", "acc_y_g", "acc_z_g"])
        t = np.concatenate([t for t, _ in self._acc])
        acc = np.concatenate([a for _, a in self._acc])
        order = np.argsort(t, kind="stable")
        t, acc = t[order], acc[order]
        out = pd.DataFrame({"t_s": t - t[0]})
        for j, ax in enumerate("xyz"):
            out[f"acc_{ax}_g"] = acc[:, j]
        if self._gyr:
            tg = np.concatenate([x for x, _ in self._gyr])
            g = np.concatenate([y for _, y in self._gyr])
            o = np.argsort(tg, kind="stable")
            for j, ax in enumerate("xyz"):
                out[f"gyr_{ax}_dps"] = np.interp(t, tg[o], g[o, j])
        return out

    def update(self) -> bool:
        """Re-count on everything so far; True when the count changed."""
        try:
            summary = analyse_leg(self.kind, self.frame(), self.placement)
        except ReadinessError:
            return False  # nothing countable yet (no hop landed, < 5 s of stance...)
        count = int(summary.get(COUNT_FIELD[self.kind]) or 0)
        changed, self.count = count != self.count, count
        return changed


@dataclass
class _Step:
    at: float  # seconds after start
    leg: str
    phase: str
    text: str


@dataclass
class GuidedTest:
    """The schedule and state of one guided test of both legs (module doc).

    Call :meth:`start`, then :meth:`poll` often (prompts now due) and :meth:`feed_acc` /
    :meth:`feed_gyr` with every frame; :attr:`done` after the last "stop". ``legs`` holds each
    leg's :class:`LegCounter`; ``frames()`` the recordings.
    """

    kind: str
    placement: str
    seconds: float | None = None
    rest_s: float = 10.0
    countdown: int = 3
    clock: Callable[[], float] = time.monotonic
    update_s: float = 0.5
    legs: dict[str, LegCounter] = field(init=False)
    done: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        if self.kind not in DEFAULT_SECONDS:
            raise ReadinessError(f"unknown test {self.kind!r}")
        self.seconds = float(self.seconds or DEFAULT_SECONDS[self.kind])
        if not self.seconds > 0:
            raise ReadinessError(f"{self.kind} test: --seconds must be > 0")
        self.legs = {leg: LegCounter(self.kind, self.placement, self.update_s) for leg in "LR"}
        self._t0: float | None = None
        self._steps: list[_Step] = []
        self._windows: dict[str, tuple[float, float]] = {}
        self._next_tick: dict[str, float] = {}

    # ------------------------------------------------------------------ schedule
    def start(self) -> None:
        """Fix the schedule from now."""
        self._t0, at = self.clock(), 0.0
        for i, leg in enumerate("LR"):
            word = LEG_WORDS[leg]
            if i:
                self._steps.append(_Step(at, leg, "rest", self._rest_text(word)))
                at += self.rest_s
            secs = f"{self.seconds:.0f} s"
            self._steps.append(_Step(at, leg, "ready", f"{word} leg, {self.kind} test ({secs})"))
            for k in range(self.countdown, 0, -1):
                self._steps.append(_Step(at, leg, "countdown", str(k)))
                at += 1.0
            self._steps.append(_Step(at, leg, "go", cue_text(self.kind, leg)))
            self._windows[leg] = (at, at + self.seconds)
            self._next_tick[leg] = at + 1.0
            at += self.seconds
            self._steps.append(_Step(at, leg, "stop", "stop"))

    def _rest_text(self, word: str) -> str:
        move = f"move the pod to your {word} shank; " if self.placement == "shank" else ""
        return f"rest: {move}{word} leg in {self.rest_s:.0f} s"

    def _now(self) -> float:
        if self._t0 is None:
            raise RuntimeError("GuidedTest.start() first")
        return self.clock() - self._t0

    @property
    def started(self) -> bool:
        return self._t0 is not None

    @property
    def recording(self) -> str | None:
        """The leg being recorded now, or None."""
        now = self._now()
        for leg, (a, b) in self._windows.items():
            if a <= now < b:
                return leg
        return None

    def next_due_s(self) -> float:
        """Seconds until the next scheduled prompt (0 when one is due)."""
        if not self._steps:
            return 0.0
        return max(0.0, self._steps[0].at - self._now())

    def poll(self) -> list[Prompt]:
        """The prompts due now, in order (a stop carries the leg's final count)."""
        now, out = self._now(), []
        leg = self.recording
        if self.kind == "balance" and leg and now >= self._next_tick[leg]:
            out.append(self._count_prompt(leg, now))
            while self._next_tick[leg] <= now:
                self._next_tick[leg] += 1.0
        while self._steps and self._steps[0].at <= now:
            s = self._steps.pop(0)
            if s.phase == "stop":
                counter = self.legs[s.leg]
                counter.update()
                word = COUNT_WORD[self.kind]
                out.append(Prompt(s.leg, "stop", f"stop ({word}: {counter.count})", counter.count))
            else:
                out.append(Prompt(s.leg, s.phase, s.text))
        if not self._steps and not self.done:
            self.done = True
            out.append(Prompt("R", "done", "done: both legs recorded"))
        return out

    # ------------------------------------------------------------------ samples
    def leg_at(self, arrival_s: float) -> str | None:
        """The leg whose window holds clock time ``arrival_s`` (None: outside every window)."""
        if self._t0 is None:
            return None
        rel = arrival_s - self._t0
        for leg, (a, b) in self._windows.items():
            if a <= rel < b:
                return leg
        return None

    def feed_acc(self, arrival_s: float, t_s: np.ndarray, acc: np.ndarray) -> list[Prompt]:
        """ACC samples that arrived at ``arrival_s`` (clock seconds) with sensor times ``t_s``;
        kept when inside a leg's window. Returns a count prompt when the count changed."""
        leg = self.leg_at(arrival_s)
        if leg is None or not self.legs[leg].add_acc(t_s, acc):
            return []
        return [self._count_prompt(leg, arrival_s - self._t0)]

    def feed_gyr(self, arrival_s: float, t_s: np.ndarray, gyr: np.ndarray) -> None:
        leg = self.leg_at(arrival_s)
        if leg is not None:
            self.legs[leg].add_gyr(t_s, gyr)

    def _count_prompt(self, leg: str, now: float) -> Prompt:
        left = max(0.0, self._windows[leg][1] - now)
        n = self.legs[leg].count
        if self.kind == "balance":
            text = f"{left:.0f} s left, touch-downs: {n}"
        else:
            text = f"{COUNT_WORD[self.kind]}: {n}"
        return Prompt(leg, "count", text, n, left)

    def frames(self) -> dict[str, pd.DataFrame]:
        """Each leg's recording (see :meth:`LegCounter.frame`)."""
        return {leg: c.frame() for leg, c in self.legs.items()}
