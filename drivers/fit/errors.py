"""Errors raised by the FIT drivers."""


class FitError(Exception):
    """A file that cannot be read as FIT at all (not FIT, empty, impossible structure).

    The message is one line, suitable for ``path: reason`` reports.
    """
