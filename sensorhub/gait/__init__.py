"""IMU gait engine: ground contacts, step metrics and asymmetry (pure; no I/O).

Quick start (notebook)::

    from sensorhub.gait import analyse, detect_contacts
    res = analyse(frame, "sacrum")          # frame: t_s + acc_v_g/acc_ap_g/acc_ml_g (g)
    res.contacts, res.summary, res.warnings

Contacts cut by a recording's edge (or a gap) are kept with ``partial`` True: the event seen
keeps its time, the other and ``gct_ms`` are NaN; they count as steps (``n_steps``,
``n_partial_contacts``) and metrics that need both events skip them. Callers that need whole
contacts only (e.g. a stream that emits each contact once) drop the partial rows.
Detectors follow a gaitmap-style contract: see :mod:`sensorhub.gait.base`.

Placements and sources: ``foot`` (gyro, Falbriard et al. 2018), ``shank`` and ``sacrum``
(accelerometer methods of the kinds compared by Kiernan et al. 2023), left/right from the
sacrum after Lee et al. 2010. Minimum sampling rate: ``MIN_FS_HZ`` (100 Hz).
"""

from .analysis import DETECTORS, GaitAnalysis, analyse, detect_contacts, make_detector
from .asymmetry import asymmetry, balance, symmetry_angle, symmetry_index
from .base import ContactDetector, event_time
from .errors import GaitError, SamplingRateError
from .foot import FootGyroDetector
from .metrics import drift, step_metrics, summarise, window_summary
from .orientation import body_rotation, to_body_axes
from .sacrum import SacrumDetector
from .shank import ShankDetector
from .side import SacrumSideDetector
from .signal import MIN_FS_HZ

__all__ = [
    "DETECTORS",
    "MIN_FS_HZ",
    "ContactDetector",
    "FootGyroDetector",
    "GaitAnalysis",
    "GaitError",
    "SacrumDetector",
    "SacrumSideDetector",
    "SamplingRateError",
    "ShankDetector",
    "analyse",
    "asymmetry",
    "balance",
    "body_rotation",
    "detect_contacts",
    "drift",
    "event_time",
    "make_detector",
    "step_metrics",
    "summarise",
    "symmetry_angle",
    "symmetry_index",
    "to_body_axes",
    "window_summary",
]
