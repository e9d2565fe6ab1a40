"""Errors raised by the readiness tests."""


class ReadinessError(ValueError):
    """A recording the readiness analysis cannot use; the message is one line saying why."""
