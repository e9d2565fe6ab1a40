"""Training load: session load, daily series, ACWR, monotony/strain and the PMC.

Pure functions over pandas/numpy (no I/O). Loads are in arbitrary units (AU); TRIMP,
sRPE and duration are different scales, so use one method per athlete
(:func:`series_loads`).

ACWR describes load change and is **not** a validated injury predictor
(Impellizzeri et al. 2020, Int J Sports Physiol Perform 15:907): alerts should speak of a
"load spike", not of injury risk.
"""

from sensorhub.load.acwr import (
    ACWR_METHODS,
    ACWR_STATUSES,
    RebuildRule,
    acute_load,
    acwr,
    acwr_status,
    chronic_load,
)
from sensorhub.load.daily import as_daily, daily_series
from sensorhub.load.method import SESSION_STATUSES, SeriesLoads, choose_method, series_loads
from sensorhub.load.monotony import monotony, strain
from sensorhub.load.pmc import pmc
from sensorhub.load.session import (
    TRIMP_WEIGHTS,
    session_load,
    srpe,
    trimp_banister,
    trimp_mean_hr,
)
from sensorhub.load.table import LOAD_COLUMNS, LOAD_TEXT_COLUMNS, load_table

__all__ = [
    "ACWR_METHODS",
    "ACWR_STATUSES",
    "LOAD_COLUMNS",
    "LOAD_TEXT_COLUMNS",
    "SESSION_STATUSES",
    "TRIMP_WEIGHTS",
    "RebuildRule",
    "SeriesLoads",
    "acute_load",
    "acwr",
    "acwr_status",
    "as_daily",
    "choose_method",
    "chronic_load",
    "daily_series",
    "load_table",
    "monotony",
    "pmc",
    "series_loads",
    "session_load",
    "srpe",
    "strain",
    "trimp_banister",
    "trimp_mean_hr",
]
