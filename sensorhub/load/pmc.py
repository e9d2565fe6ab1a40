"""Performance Manager Chart: CTL (fitness), ATL (fatigue) and TSB (form).

Banister's impulse-response model as simplified by Coggan for TrainingPeaks: exponentially
weighted averages of daily load with time constants 42 d (CTL) and 7 d (ATL).

Computed as TrainingPeaks does: smoothing constant α = 1/τ and both averages starting
from 0 the day before the series begins (so with a constant load CTL reaches 95 % of it
only after 125 days).
Other tools differ: intervals.icu appears to use α = 1 − e^(−1/τ) (0.02353 instead of
0.02381 for τ = 42), and EWMA-ACWR seeds with the first day's load instead of 0
(:mod:`sensorhub.load.acwr`), so CTL/ATL here are not the ACWR's EWMA averages.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sensorhub.load._ewma import ewma
from sensorhub.load.daily import as_daily


def pmc(daily: pd.Series, ctl_days: int = 42, atl_days: int = 7) -> pd.DataFrame:
    """CTL, ATL and TSB (all AU/day) from a daily load series (AU).

    ``ctl_t = ctl_{t−1} + (load_t − ctl_{t−1}) / ctl_days`` and likewise ATL with
    ``atl_days``, i.e. α = 1/τ, both starting from 0 the day before the series begins
    (Banister et al. 1975; Coggan's Performance Manager, TrainingPeaks).
    ``tsb_t = ctl_{t−1} − atl_{t−1}``: form is *yesterday's* fitness minus fatigue, i.e.
    how fresh you are going into today's session, as TrainingPeaks defines it; tsb on the
    first day is 0.

    Returns:
        DataFrame with columns ``ctl``, ``atl``, ``tsb`` on the index of ``daily``.
    """
    daily = as_daily(daily)
    ctl = ewma(daily.to_numpy(), 1.0 / ctl_days, seed=0.0)
    atl = ewma(daily.to_numpy(), 1.0 / atl_days, seed=0.0)
    tsb = np.concatenate(([0.0], (ctl - atl)[:-1]))[: len(daily)]
    return pd.DataFrame({"ctl": ctl, "atl": atl, "tsb": tsb}, index=daily.index)
