"""Jobs on the shared PostgreSQL journal (docs/scale.md): ``sensorhub submit`` stores files
and queues one job each (:mod:`.submit`), ``sensorhub worker`` runs them (:mod:`.work`), on
Procrastinate (:mod:`.queue`)."""

from .queue import INGEST, RECOMPUTE, FileRejected
from .submit import Submitted, Submitter, job_athlete
from .work import run_worker, run_workers

__all__ = [
    "INGEST",
    "RECOMPUTE",
    "FileRejected",
    "Submitted",
    "Submitter",
    "job_athlete",
    "run_worker",
    "run_workers",
]
