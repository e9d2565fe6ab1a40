"""Training load: session load, daily series, ACWR, monotony/strain and the PMC.

Pure functions over pandas/numpy (no I/O). Loads are in arbitrary units (AU); TRIMP,
sRPE and duration are different scales, so use one method per athlete.

ACWR describes load change and is **not** a validated injury predictor
(Impellizzeri et al. 2020, Int J Sports Physiol Perform 15:907): alerts should speak of a
"load spike", not of injury risk.
"""

from sensorhub.load.acwr import ACWR_METHODS, acute_load, acwr, chronic_load
from sensorhub.load.daily import as_daily, daily_series
from sensorhub.load.monotony import monotony, strain
from sensorhub.load.pmc import pmc
from sensorhub.load.session import TRIMP_WEIGHTS, session_load, srpe, trimp_banister
from sensorhub.load.table import LOAD_COLUMNS, load_table

__all__ = [
    "ACWR_METHODS",
    "LOAD_COLUMNS",
    "TRIMP_WEIGHTS",
    "acute_load",
    "acwr",
    "as_daily",
    "chronic_load",
    "daily_series",
    "load_table",
    "monotony",
    "pmc",
    "session_load",
    "srpe",
    "strain",
    "trimp_banister",
]
