"""Common base class for contact detectors (one class per sensor placement).

The contract follows gaitmap (mad-lab-fau): a detector's ``__init__`` only stores its
parameters, each as an explicit named argument kept under the same attribute name;
``get_params()``, ``set_params(**p)`` and ``clone()`` read and copy them; ``detect(frame)``
returns ``self`` and leaves its results in attributes ending in ``_``:

* ``contacts_``: DataFrame, one row per ground contact, columns ``ic_s``, ``to_s`` (s),
  ``gct_ms`` (ground contact time, ms), ``side`` ('L', 'R' or missing) and ``partial``;
* ``fs_hz_``: sampling rate used; ``warnings_``: list of human-readable warnings.

``detect_arrays(t_s, signals)`` is the same detection on plain arrays (a dict of columns),
for callers that run it many times a second (the live sliding window): the same contacts as
``contact_arrays_``, a dict of arrays with the ``contacts_`` columns, and no DataFrame built.

**Partial contacts.** A stance cut by the start or the end of a gap-free segment (the
recording's edges, or a gap) is kept with ``partial`` True: the event that was seen keeps its
time, the one outside the data is NaN, and so is ``gct_ms``. Step counts and the step time of
the neighbouring contact stay right; metrics that need both events ignore it.

The base class validates and cleans the samples (order, units, NaNs, gaps, non-uniform
sampling, minimum rate) in numpy, for both entry points, and calls ``_detect_segment`` once
per gap-free segment, so every placement is validated on the same data in the same way.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from . import signal as sg
from .errors import GaitError

CONTACT_COLUMNS = ["ic_s", "to_s", "gct_ms", "side", "partial"]
#: one segment's contacts from ``_detect_segment``: ``ic_s``/``to_s`` arrays (s), maybe
#: a ``side`` list
Part = dict[str, Any]


def empty_contacts() -> pd.DataFrame:
    """An empty contacts table with the standard columns."""
    return pd.DataFrame(
        {
            "ic_s": pd.Series(dtype=float),
            "to_s": pd.Series(dtype=float),
            "gct_ms": pd.Series(dtype=float),
            "side": pd.Series(dtype=object),
            "partial": pd.Series(dtype=bool),
        }
    )


def no_contacts() -> Part:
    """A segment without contacts (what ``_detect_segment`` returns when it finds none)."""
    return {"ic_s": np.empty(0), "to_s": np.empty(0)}


def event_time(contacts: pd.DataFrame) -> pd.Series:
    """IC time, or TO time for a contact whose IC lies before the data (partial)."""
    return contacts["ic_s"].fillna(contacts["to_s"])


class Params:
    """gaitmap-style parameter handling: parameters are the ``__init__`` arguments."""

    @classmethod
    def param_names(cls) -> list[str]:
        """Names of the constructor parameters (no ``*args``/``**kwargs`` allowed)."""
        names = []
        for p in inspect.signature(cls.__init__).parameters.values():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError(f"{cls.__name__}.__init__ must not take *args/**kwargs")
            if p.name != "self":
                names.append(p.name)
        return names

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters, read back from the attributes of the same names."""
        return {name: getattr(self, name) for name in self.param_names()}

    def set_params(self, **params: Any) -> Params:
        """Set parameters by name; unknown names raise :class:`GaitError`. Returns self."""
        unknown = sorted(set(params) - set(self.param_names()))
        if unknown:
            raise GaitError(
                f"{type(self).__name__} has no parameter(s) {unknown}; valid: {self.param_names()}"
            )
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def clone(self) -> Params:
        """A new, unfitted instance with (deep copies of) the same parameters."""
        params = {
            k: v.clone() if isinstance(v, Params) else copy.deepcopy(v)
            for k, v in self.get_params().items()
        }
        return type(self)(**params)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


class ContactDetector(Params):
    """Base class: subclasses set ``placement``, ``required`` and ``_detect_segment``.

    Subclasses list ``min_fs_hz``, ``min_gct_s`` and ``max_gct_s`` explicitly in their own
    ``__init__`` (no ``**kwargs``), so every parameter is visible in the signature.
    """

    placement: str = ""
    #: columns that must be present (after orientation), e.g. ("acc_v_g",)
    required: tuple[str, ...] = ()
    #: optional columns used when present
    optional: tuple[str, ...] = ()

    def __init__(
        self, min_fs_hz: float = sg.MIN_FS_HZ, min_gct_s: float = 0.08, max_gct_s: float = 0.6
    ) -> None:
        self.min_fs_hz = min_fs_hz
        self.min_gct_s = min_gct_s
        self.max_gct_s = max_gct_s

    # -- public -------------------------------------------------------------------
    def detect(self, frame: pd.DataFrame) -> ContactDetector:
        """Detect contacts in ``frame`` (``t_s`` plus body-axis columns); returns self."""
        self._clear_results()
        self.warnings_: list[str] = []
        if not isinstance(frame, pd.DataFrame) or "t_s" not in frame.columns:
            raise GaitError("frame must be a DataFrame with a 't_s' column (seconds)")
        self._check_columns(frame.columns)
        # every acc_* column takes part in the unit check and the clipping warning
        names = [c for c in frame.columns if c.startswith("acc_")]
        names += [c for c in self.required + self.optional if c in frame and c not in names]
        signals = {c: frame[c].to_numpy(float) for c in names}
        parts = self._detect_parts(frame["t_s"].to_numpy(float), signals)
        self.contacts_ = self._assemble(parts)
        self._warn_empty(len(self.contacts_))
        return self

    def detect_arrays(self, t_s: np.ndarray, signals: Mapping[str, np.ndarray]) -> ContactDetector:
        """:meth:`detect` on plain arrays, without building DataFrames (the live path calls
        it on every sliding window, where pandas' per-call cost dominated the collector).

        ``t_s``: time stamps (s); ``signals``: body-axis columns by name (``acc_v_g``..., in
        g, m/s² or mg as for :meth:`detect`). Same validation, warnings and contacts as
        :meth:`detect` on the equivalent frame; results: ``contact_arrays_`` (dict of arrays
        with the ``contacts_`` columns; ``side`` an object array of 'L'/'R'/None), ``fs_hz_``
        and ``warnings_``. Returns self.
        """
        self._clear_results()
        self.warnings_ = []
        self._check_columns(signals)
        parts = self._detect_parts(
            np.asarray(t_s, float), {c: np.asarray(v, float) for c, v in signals.items()}
        )
        self.contact_arrays_ = self._assemble_arrays(parts)
        self._warn_empty(self.contact_arrays_["ic_s"].size)
        return self

    # -- to implement -------------------------------------------------------------
    def _detect_segment(self, t: np.ndarray, sig: dict[str, np.ndarray], fs: float) -> Part:
        """``ic_s``, ``to_s`` arrays (NaN for the event of a partial contact outside the
        segment) and optionally a ``side`` list, for one gap-free, uniformly sampled segment."""
        raise NotImplementedError

    # -- helpers ------------------------------------------------------------------
    def _clear_results(self) -> None:
        for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
            delattr(self, name)

    def _check_columns(self, names) -> None:
        missing = [c for c in self.required if c not in names]
        if missing:
            raise GaitError(f"{self.placement} detector needs columns {missing}")

    def _detect_parts(self, t: np.ndarray, signals: dict[str, np.ndarray]) -> list[Part]:
        """Validate and clean (order, units, rate, NaNs, gaps, uniform grid), then
        ``_detect_segment`` on each gap-free segment."""
        if not np.all(np.diff(t) > 0):  # sort (stable, NaN last) and keep the first of equals
            order = np.argsort(t, kind="stable")
            ts = t[order]
            same = (ts[1:] == ts[:-1]) | (np.isnan(ts[1:]) & np.isnan(ts[:-1]))
            order = order[np.insert(~same, 0, True)]
            t = t[order]
            signals = {c: v[order] for c, v in signals.items()}
        if t.size < 2:
            raise GaitError("frame has fewer than two samples")
        signals = self._fix_units(signals)
        cols = [c for c in self.required + self.optional if c in signals]
        self.fs_hz_ = sg.sampling_rate(t)
        sg.check_rate(self.fs_hz_, self.min_fs_hz)
        self._warn_clipping(signals)
        valid = np.logical_and.reduce([np.isfinite(signals[c]) for c in self.required])
        if (~valid).any():
            self.warnings_.append(f"{int((~valid).sum())} samples with NaN were skipped")
        x = np.column_stack([signals[c] for c in cols])
        parts = []
        segs = sg.segments(t, valid, self.fs_hz_)
        if len(segs) > 1:
            self.warnings_.append(f"recording split into {len(segs)} segments at gaps")
        for a, b in segs:
            grid, xs = sg.uniform(t[a:b], x[a:b], self.fs_hz_)
            sig = {c: xs[:, j] for j, c in enumerate(cols)}
            parts.append(self._detect_segment(grid, sig, self.fs_hz_))
        return parts

    def _fix_units(self, signals: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """:func:`signal.fix_units` on arrays: ``acc_*_g`` columns in m/s² or mg -> g."""
        cols = [c for c in signals if c.startswith("acc_") and c.endswith("_g")]
        if not cols:
            return signals
        scale = sg.unit_scale([signals[c] for c in cols], self.warnings_)
        if scale is None:
            return signals
        return {c: v * scale if c in cols else v for c, v in signals.items()}

    def _warn_clipping(self, signals: dict[str, np.ndarray]) -> None:
        acc = [c for c in signals if c.startswith("acc_")]
        frac = max((sg.clipped_fraction(signals[c]) for c in acc), default=0.0)
        if frac > 0.001:
            self.warnings_.append(
                f"{100 * frac:.2f} % of acceleration samples at ≥ 7.9 g: "
                "sensor saturated, impact timing may be less precise"
            )

    def _warn_empty(self, n: int) -> None:
        if n == 0:
            self.warnings_.append(
                f"no ground contacts found ({self.placement}): "
                "standing still, walking or not a running recording?"
            )

    def _assemble(self, parts: list[Part]) -> pd.DataFrame:
        parts = [_part_frame(p) for p in parts if len(p["ic_s"])]
        if not parts:
            return empty_contacts()
        df = pd.concat(parts, ignore_index=True)
        df = df.iloc[np.argsort(event_time(df).to_numpy(), kind="stable")]
        df["gct_ms"] = 1000.0 * (df["to_s"] - df["ic_s"])
        df["partial"] = df["ic_s"].isna() | df["to_s"].isna()
        # partial contacts have no GCT to check; detectors bound their seen part instead
        ok = df["partial"] | df["gct_ms"].between(1000 * self.min_gct_s, 1000 * self.max_gct_s)
        ok &= event_time(df).notna()
        if "side" not in df.columns:
            df["side"] = None
        return df.loc[ok, CONTACT_COLUMNS].reset_index(drop=True)

    def _assemble_arrays(self, parts: list[Part]) -> dict[str, np.ndarray]:
        """:meth:`_assemble` in numpy: the same rows, order and filter."""
        parts = [p for p in parts if len(p["ic_s"])]
        ic = np.concatenate([np.asarray(p["ic_s"], float) for p in parts] or [np.empty(0)])
        to = np.concatenate([np.asarray(p["to_s"], float) for p in parts] or [np.empty(0)])
        side = np.full(ic.size, None, dtype=object)
        k = 0
        for p in parts:
            n = len(p["ic_s"])
            if "side" in p:
                side[k : k + n] = [s if isinstance(s, str) else None for s in p["side"]]
            k += n
        ev = np.where(np.isnan(ic), to, ic)
        order = np.argsort(ev, kind="stable")
        ic, to, side, ev = ic[order], to[order], side[order], ev[order]
        gct = 1000.0 * (to - ic)
        partial = np.isnan(ic) | np.isnan(to)
        ok = partial | ((gct >= 1000 * self.min_gct_s) & (gct <= 1000 * self.max_gct_s))
        ok &= ~np.isnan(ev)
        return {
            "ic_s": ic[ok],
            "to_s": to[ok],
            "gct_ms": gct[ok],
            "side": side[ok],
            "partial": partial[ok],
        }


def _part_frame(part: Part) -> pd.DataFrame:
    """One segment's contacts as a table (``side`` dtype inferred by pandas, as before)."""
    df = pd.DataFrame({"ic_s": part["ic_s"], "to_s": part["to_s"]})
    if "side" in part:
        df["side"] = part["side"]
    return df
