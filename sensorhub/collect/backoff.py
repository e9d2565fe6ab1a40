"""Exponential reconnect backoff with jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delay before reconnect attempt ``n`` (0-based): ``min(max_s, initial_s * factor**n)``,
    scaled by a uniform factor in ``[1 - jitter, 1 + jitter]`` so that many devices that
    dropped together do not retry in lockstep."""

    initial_s: float = 0.5
    factor: float = 2.0
    max_s: float = 30.0
    jitter: float = 0.1
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int) -> float:
        base = min(self.max_s, self.initial_s * self.factor**attempt)
        return base * (1.0 + self.jitter * (2.0 * self.rng.random() - 1.0))
