"""Errors raised by the gait engine."""


class GaitError(ValueError):
    """Input that the gait engine cannot analyse (wrong columns, units, rate...)."""


class SamplingRateError(GaitError):
    """Sampling rate below the documented minimum (see ``signal.MIN_FS_HZ``)."""
