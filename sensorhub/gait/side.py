"""Left/right assignment of consecutive steps from a sacral accelerometer.

Lee et al. (2010), *J Sci Med Sport* 13:270-273 ("The use of a single inertial sensor to
identify stride, step, and stance durations of running gait"): the medio-lateral
acceleration of the sacrum during stance points toward the midline, i.e. away from the
stance foot. With ``acc_ml_g`` positive to the **right**, a left stance shows a positive
mean ML acceleration.

Steps alternate, so rather than classify each step alone we fit the alternating pattern
(even steps vs odd steps) and label all steps of a run at once; if the evidence is weak
(``min_separation``) the side is left missing.
"""

from __future__ import annotations

import numpy as np

from .base import Params


class SacrumSideDetector(Params):
    """Assign 'L'/'R' to steps (Lee et al. 2010) from ML acceleration during stance.

    Parameters follow the detectors' contract (``get_params``/``set_params``/``clone``);
    it has no ``detect``: :class:`~sensorhub.gait.sacrum.SacrumDetector` calls ``assign``.
    """

    def __init__(self, min_separation: float = 1.0) -> None:
        #: required |mean(even) − mean(odd)| / pooled SD of the stance ML means
        self.min_separation = min_separation

    def assign(self, ml: np.ndarray, rises: np.ndarray, falls: np.ndarray) -> list:
        """Side per step given fractional stance indices; None where undecided.

        Partial stances (cut by the data's edge) take part with the samples that were seen.
        """
        ml = np.asarray(ml, float) - np.nanmean(ml)
        m = np.array(
            [np.nanmean(ml[int(a) : int(b) + 1]) for a, b in zip(rises, falls, strict=True)]
        )
        out: list = [None] * m.size
        # split into runs of consecutive steps (a missing step breaks alternation)
        steps = np.diff(rises)
        brk = np.flatnonzero(steps > 1.6 * np.median(steps)) + 1 if steps.size else []
        for idx in np.split(np.arange(m.size), brk):
            if idx.size < 4:
                continue
            even, odd = m[idx[0::2]], m[idx[1::2]]
            sd = np.sqrt(0.5 * (even.var() + odd.var())) + 1e-9
            if abs(even.mean() - odd.mean()) / sd < self.min_separation:
                continue
            first_left = even.mean() > odd.mean()
            for k, i in enumerate(idx):
                out[i] = "L" if (k % 2 == 0) == first_left else "R"
        return out
