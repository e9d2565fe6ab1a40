"""The container every FIT decoder returns."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pandas as pd

#: Builds one message frame on demand: ``name → (frame, {(name, column): unit})``.
Loader = Callable[[str], tuple[pd.DataFrame, dict[tuple[str, str], str]]]
#: Builds some columns of one message frame: ``(name, wanted) → frame[those it has]``.
ColumnLoader = Callable[[str, tuple[str, ...]], pd.DataFrame]


class _Pending:
    """Placeholder value of a message whose frame is not built yet."""

    __slots__ = ()


_PENDING = _Pending()
_EMPTY = pd.DataFrame()  # copied for a missing name: ~5x cheaper than building a new one


class FitMessages(dict[str, pd.DataFrame]):
    """Messages of one FIT file (all chained parts), one DataFrame per message name.

    Keys are FIT profile message names (``record``, ``session``, ``lap``, ``file_id``...;
    messages the profile does not know are ``unknown_<num>``). Columns are profile field
    names, values scaled as fitparse returns them; ``date_time`` fields are
    ``datetime64[ns, UTC]``, except that a value below 0x10000000 is system time (seconds
    since device power-on) and stays that ``int``, as in fitparse: a column holding any is an
    object column of UTC ``Timestamp`` and ``int`` (``sensorhub.normalise`` anchors them).
    Developer fields appear under their ``field_description`` name, unscaled (fitparse does
    not apply a field_description's scale/offset either).

    Frames may be built lazily: every name is a key from the start (``list(msgs)``,
    ``len``, ``in`` need no frame), and a frame is built the first time it is read
    (``msgs[name]``, ``get``, ``frame``, ``items``, ``values``...). ``units`` builds all.
    :meth:`fields` reads a few columns of a frame not built yet without building (or
    keeping) the rest.

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
        self._units: dict[tuple[str, str], str] = {}
        self._loader: Loader | None = None
        self._columns: ColumnLoader | None = None

    # --- lazy frames --------------------------------------------------------------------

    def defer(self, names: list[str], loader: Loader, columns: ColumnLoader | None = None) -> None:
        """Register ``names`` whose frames ``loader(name)`` builds on first access;
        ``columns(name, wanted)``, when given, builds only some columns (:meth:`fields`)."""
        self._loader = loader
        self._columns = columns
        for name in names:
            dict.__setitem__(self, name, _PENDING)

    def _load(self, name: str) -> pd.DataFrame:
        frame, units = self._loader(name)
        dict.__setitem__(self, name, frame)
        for k, v in units.items():
            self._units.setdefault(k, v)
        if not any(v is _PENDING for v in dict.values(self)):
            self._loader = self._columns = None  # let the file's bytes go
        return frame

    def materialise(self) -> None:
        """Build every pending frame now."""
        for name, v in list(dict.items(self)):
            if v is _PENDING:
                self._load(name)
        self._loader = self._columns = None

    @property
    def pending(self) -> list[str]:
        """Names whose frames are not built yet."""
        return [k for k, v in dict.items(self) if v is _PENDING]

    @property
    def units(self) -> dict[tuple[str, str], str]:
        self.materialise()
        return self._units

    @units.setter
    def units(self, value: dict[tuple[str, str], str]) -> None:
        self._units = value

    # --- dict interface that never hands out a placeholder ----------------------------

    def __getitem__(self, name: str) -> pd.DataFrame:
        v = dict.__getitem__(self, name)
        return self._load(name) if v is _PENDING else v

    def get(self, name: str, default=None):
        return self[name] if dict.__contains__(self, name) else default

    def frame(self, name: str) -> pd.DataFrame:
        """The frame for ``name``, or an empty frame when the file has none."""
        return self[name] if dict.__contains__(self, name) else _EMPTY.copy()

    def fields(self, name: str, wanted: tuple[str, ...]) -> pd.DataFrame:
        """The columns of ``wanted`` that the frame of ``name`` has, in ``wanted``'s order:
        equal to ``frame(name)[those]`` (values, dtypes, index), an empty frame when the
        file has no ``name``. A frame not built yet stays unbuilt when the decoder can
        build columns (the fast one: :meth:`defer` with ``columns``): only the fields that
        can give these columns are decoded (``device_info`` has ~25 columns, a caller
        wants its serial numbers), and nothing is kept, so a later ``frame(name)`` is as
        it would have been. Otherwise the frame is built (and kept) as ``frame`` does."""
        if not dict.__contains__(self, name):
            return _EMPTY.copy()
        if dict.__getitem__(self, name) is _PENDING and self._columns is not None:
            return self._columns(name, tuple(wanted))
        df = self[name]
        at = {c: i for i, c in enumerate(df.columns.tolist())}
        # by position: ``df[list]`` costs ~0.8 ms on a small frame, ``take`` a third of it
        return df.take([at[c] for c in dict.fromkeys(wanted) if c in at], axis=1)

    def __iter__(self) -> Iterator[str]:  # a Python __iter__ also stops dict(x)'s fast copy
        return iter(dict.keys(self))

    def items(self):
        self.materialise()
        return dict.items(self)

    def values(self):
        self.materialise()
        return dict.values(self)

    def pop(self, name: str, *default):
        if dict.__contains__(self, name):
            frame = self[name]
            dict.__delitem__(self, name)
            return frame
        return dict.pop(self, name, *default)

    def popitem(self) -> tuple[str, pd.DataFrame]:
        self.materialise()
        return dict.popitem(self)

    def setdefault(self, name: str, default=None):
        if dict.__contains__(self, name):
            return self[name]
        dict.__setitem__(self, name, default)
        return default

    def copy(self) -> dict[str, pd.DataFrame]:
        self.materialise()
        return dict.copy(self)

    def __or__(self, other):
        return self.copy() | other

    def __eq__(self, other: object) -> bool:
        self.materialise()
        if isinstance(other, FitMessages):
            other.materialise()
        return dict.__eq__(self, other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"FitMessages({', '.join(f'{k}: {len(self[k])} rows' for k in self)})"

    def __reduce__(self):
        self.materialise()
        state = {
            "partial": self.partial,
            "error": self.error,
            "warnings": self.warnings,
            "_units": self._units,
            "_loader": None,
            "_columns": None,
        }
        return (FitMessages, (), state, None, iter(dict.items(self)))
