"""The per-athlete-day load table stored by the pipeline (InfluxDB measurement ``load``)."""

from __future__ import annotations

import pandas as pd

from sensorhub.load.acwr import acute_load, acwr, chronic_load
from sensorhub.load.daily import as_daily
from sensorhub.load.monotony import monotony, strain
from sensorhub.load.pmc import pmc

LOAD_COLUMNS = (
    "daily_load",
    "acute",
    "chronic",
    "acwr_rac",
    "acwr_rau",
    "acwr_ewma",
    "monotony",
    "strain",
    "ctl",
    "atl",
    "tsb",
)


def load_table(daily: pd.Series) -> pd.DataFrame:
    """Every day-level load metric in one DataFrame, one row per day of ``daily``.

    Columns (see each function for definition and source):
    ``daily_load`` (AU); ``acute`` = 7-day rolling mean and ``chronic`` = 28-day rolling
    *coupled* mean (AU/day, Gabbett 2016) — the coupled chronic is stored because it is the
    denominator of ``acwr_rac``, the most widely reported variant, and is defined on the
    same days as the ratio; ``acwr_rac``, ``acwr_rau``, ``acwr_ewma`` (ratios; NaN for the
    first 27 days and on zero chronic load); ``monotony`` (population SD) and ``strain``
    (Foster 1998); ``ctl``, ``atl``, ``tsb`` (Banister/Coggan PMC). ACWR describes load
    change, not injury risk (Impellizzeri et al. 2020).
    """
    daily = as_daily(daily)
    table = pd.DataFrame(
        {
            "daily_load": daily,
            "acute": acute_load(daily),
            "chronic": chronic_load(daily),
            "acwr_rac": acwr(daily, "rac"),
            "acwr_rau": acwr(daily, "rau"),
            "acwr_ewma": acwr(daily, "ewma"),
            "monotony": monotony(daily),
            "strain": strain(daily),
        },
        index=daily.index,
    )
    table = table.join(pmc(daily))
    return table[list(LOAD_COLUMNS)]
