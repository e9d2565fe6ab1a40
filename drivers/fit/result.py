"""The container every FIT decoder returns."""

from __future__ import annotations

import pandas as pd


class FitMessages(dict[str, pd.DataFrame]):
    """Messages of one FIT file (all chained parts), one DataFrame per message name.

    Keys are FIT profile message names (``record``, ``session``, ``lap``, ``file_id``...;
    messages the profile does not know are ``unknown_<num>``). Columns are profile field
    names, values scaled as fitparse returns them; ``date_time`` fields are
    ``datetime64[ns, UTC]``. Developer fields appear under their ``field_description`` name.

    Attributes:
        partial: True when decoding stopped at damage; the frames hold what came before it.
        error: where and why decoding stopped (None when the whole file was read).
        warnings: non-fatal findings (CRC mismatch, trailing bytes...).
        units: ``{(message, column): unit}`` as the profile or developer field declares.
    """

    def __init__(self) -> None:
        super().__init__()
        self.partial: bool = False
        self.error: str | None = None
        self.warnings: list[str] = []
        self.units: dict[tuple[str, str], str] = {}

    def frame(self, name: str) -> pd.DataFrame:
        """The frame for ``name``, or an empty frame when the file has none."""
        return self.get(name, pd.DataFrame())
