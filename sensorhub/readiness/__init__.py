"""Readiness tests from one IMU pod (pure; no I/O): repeated single-leg hops, single-leg heel
raises to fatigue and single-leg balance, each per leg with limb symmetry indices (LSI).

Quick start::

    from sensorhub.readiness import analyse_test
    res = analyse_test("hop", left_frame, right_frame, "shank", involved="L")
    res.legs["L"]["height_cm"], res.lsi["lsi_height_pct"], res.to_json()

Frames are the gait engine's (``t_s`` + ``acc_x_g``… or ``acc_v_g``…, optional ``gyr_*_dps``).
Definitions and sources: docs/readiness.md. LSI ≥ 90 % is a conventional criterion that
supports a clinician's decision; nothing here is a diagnosis or an injury-risk estimate.
"""

from .api import KINDS, LSI_FIELDS, PLACEMENTS, ReadinessResult, analyse_leg, analyse_test
from .balance import detect_losses, sway_metrics
from .errors import ReadinessError
from .heel_raise import detect_reps, pitch_from_acc, pitch_from_gyro
from .hop import MIN_FS_HZ, detect_flights, hop_table, jump_height_cm
from .lsi import limb_symmetry_index

__all__ = [
    "KINDS",
    "LSI_FIELDS",
    "MIN_FS_HZ",
    "PLACEMENTS",
    "ReadinessError",
    "ReadinessResult",
    "analyse_leg",
    "analyse_test",
    "detect_flights",
    "detect_losses",
    "detect_reps",
    "hop_table",
    "jump_height_cm",
    "limb_symmetry_index",
    "pitch_from_acc",
    "pitch_from_gyro",
    "sway_metrics",
]
