"""The per-athlete-day load table stored by the pipeline (InfluxDB measurement ``load``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sensorhub.load.acwr import RebuildRule, acute_load, acwr, acwr_status, chronic_load
from sensorhub.load.daily import as_daily
from sensorhub.load.monotony import monotony, strain
from sensorhub.load.pmc import pmc

#: Numeric columns of :func:`load_table`, in order.
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
#: Text columns of :func:`load_table`, after the numeric ones.
LOAD_TEXT_COLUMNS = ("acwr_status",)

_RATIOS = ("acwr_rac", "acwr_rau", "acwr_ewma")


def load_table(daily: pd.Series, rule: RebuildRule | None = None) -> pd.DataFrame:
    """Every day-level load metric in one DataFrame, one row per day of ``daily``.

    Columns (see each function for definition and source), ``LOAD_COLUMNS`` then
    ``LOAD_TEXT_COLUMNS``:
    ``daily_load`` (AU); ``acute`` = 7-day rolling mean and ``chronic`` = 28-day rolling
    *coupled* mean (AU/day, Gabbett 2016) — the coupled chronic is stored because it is the
    denominator of ``acwr_rac``, the most widely reported variant, and is defined on the
    same days as the ratio; ``acwr_rac``, ``acwr_rau``, ``acwr_ewma`` (ratios, reported
    only where ``acwr_status`` is "ok", else NaN; also NaN on zero chronic load);
    ``monotony`` (population SD) and ``strain`` (Foster 1998); ``ctl``, ``atl``, ``tsb``
    (Banister/Coggan PMC); ``acwr_status`` "warming up" | "rebuilding" | "ok"
    (:func:`sensorhub.load.acwr.acwr_status`, rule ``rule``). ACWR describes load change,
    not injury risk (Impellizzeri et al. 2020).
    """
    daily = as_daily(daily)
    status = acwr_status(daily, rule)
    table = pd.DataFrame(
        {
            "daily_load": daily,
            "acute": acute_load(daily),
            "chronic": chronic_load(daily),
            **{col: acwr(daily, col.removeprefix("acwr_")) for col in _RATIOS},
            "monotony": monotony(daily),
            "strain": strain(daily),
        },
        index=daily.index,
    )
    table.loc[(status != "ok").to_numpy(), list(_RATIOS)] = np.nan
    table = table.join(pmc(daily))
    table["acwr_status"] = status
    return table[[*LOAD_COLUMNS, *LOAD_TEXT_COLUMNS]]
