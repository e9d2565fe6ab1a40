"""FIT messages → the running frame of DESIGN.md: SI units in column names, UTC time index.

One :class:`SessionFrame` per FIT ``session`` message (multisport files give several). The
per-record frame ``run`` has a ``datetime64[ns, UTC]`` index named ``time`` and columns
such as ``speed_mps``, ``hr_bpm``, ``cadence_spm``, ``gct_ms``... (docs/schema.md lists them).
Unknown and unmapped FIT fields are kept in ``FitMessages``; only mapped ones reach ``run``.

Device-relative times (FIT system time: a ``date_time`` below 0x10000000, seconds since the
device powered on) are anchored to UTC here (:func:`time_anchor`); developer fields are
converted with the units, scale and offset their ``field_description`` declares.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from pandas._libs import lib

from drivers.fit import FitMessages
from drivers.fit.frame import labels as column_labels

from .gait import balance, symmetry_index

SEMICIRCLE_DEG = 180.0 / 2**31
#: Sessions whose summary gets running dynamics and asymmetry (sensorhub.session).
RUNNING_SPORTS = {"running", "walking", "hiking", "training", "generic"}
#: Sports whose FIT ``cadence`` counts strides (one foot) per minute: the FIT profile gives
#: ``total_strides`` (session/lap ``total_cycles`` subfield) for running and walking only;
#: every other sport's cadence is cycles/min ("rpm") and stays ``cadence_rpm``.
STRIDE_CADENCE_SPORTS = {"running", "walking"}
# Timestamps outside this range are device clock faults, not data (FIT epoch is 1989-12-31).
PLAUSIBLE_FROM = pd.Timestamp("1995-01-01", tz="UTC")
FIT_EPOCH = pd.Timestamp("1989-12-31", tz="UTC")
_UTC_NS = pd.DatetimeTZDtype("ns", "UTC")
_OBJECT = np.dtype(object)
_UTC_TZ = pd.Timestamp(0, tz="UTC").tzinfo
_STR_ARRAY = type(pd.array(["a"], dtype="str"))  # pandas' str array (ArrowStringArray in 3.x)
#: FIT date_time values below this are system time (seconds since power-on), not dates.
SYSTEM_TIME_MAX = 0x10000000

PowerSource = Literal["auto", "native", "developer"]

try:  # pandas' public block API (3.0+): a frame of one float block without per-column checks
    from pandas.api.internals import create_dataframe_from_blocks as _from_blocks
except ImportError:  # pragma: no cover - older pandas
    _from_blocks = None

# (FIT record field, our column, factor) — first present source wins for a column.
NATIVE_FIELDS: list[tuple[str, str, float]] = [
    ("enhanced_speed", "speed_mps", 1.0),
    ("speed", "speed_mps", 1.0),
    ("distance", "distance_m", 1.0),
    ("enhanced_altitude", "altitude_m", 1.0),
    ("altitude", "altitude_m", 1.0),
    ("heart_rate", "hr_bpm", 1.0),
    ("stance_time", "gct_ms", 1.0),
    ("stance_time_balance", "gct_balance_left_pct", 1.0),
    ("stance_time_percent", "gct_pct", 1.0),
    ("vertical_oscillation", "vo_mm", 1.0),
    ("vertical_ratio", "vertical_ratio_pct", 1.0),
    ("step_length", "step_length_mm", 1.0),
    ("power", "power_w", 1.0),
    ("temperature", "temperature_c", 1.0),
    ("grade", "grade_pct", 1.0),
    ("position_lat", "lat_deg", SEMICIRCLE_DEG),
    ("position_long", "lon_deg", SEMICIRCLE_DEG),
]

# Developer fields that carry running dynamics, by field_description name: Stryd (footpod
# Connect IQ field), RunScribe ("GCT_L" style names from Scribe Labs' Connect IQ field, and
# the averaged "currContactTime" style). A native column wins, except power (see
# ``power_source``). Units come from the field_description (:data:`UNIT_FACTORS`).
DEVELOPER_FIELDS: list[tuple[str, str]] = [
    ("Power", "power_w"),
    ("Form Power", "form_power_w"),
    ("Air Power", "air_power_w"),
    ("Leg Spring Stiffness", "lss_kn_m"),
    ("Ground Time", "gct_ms"),
    ("Vertical Oscillation", "vo_mm"),
    ("GCT_L", "gct_left_ms"),
    ("GCT_R", "gct_right_ms"),
    ("IG_L", "impact_left_g"),
    ("IG_R", "impact_right_g"),
    ("BG_L", "braking_left_g"),
    ("BG_R", "braking_right_g"),
    ("P_L", "pronation_left_deg"),
    ("P_R", "pronation_right_deg"),
    ("FR_L", "flight_ratio_left_pct"),
    ("FR_R", "flight_ratio_right_pct"),
    ("FS_L", "footstrike_left"),
    ("FS_R", "footstrike_right"),
    ("currContactTime", "gct_ms"),
    ("currImpactGs", "impact_g"),
    ("currBrakingGs", "braking_g"),
    ("currPronation", "pronation_deg"),
    ("currPower", "power_w"),
]

#: Column-name suffix → our unit; a developer field for such a column is converted from its
#: declared units. Columns without a suffix here (``footstrike_left``) take the value as is.
COLUMN_UNITS = {
    "_ms": "ms",
    "_mm": "mm",
    "_w": "W",
    "_kn_m": "kN/m",
    "_g": "g",
    "_deg": "deg",
    "_pct": "%",
}
#: Our unit → {declared unit (lower case) → factor to multiply by}.
UNIT_FACTORS: dict[str, dict[str, float]] = {
    "mm": {
        "mm": 1.0,
        "millimeters": 1.0,
        "millimetres": 1.0,
        "cm": 10.0,
        "centimeters": 10.0,
        "centimetres": 10.0,
        "m": 1000.0,
        "meters": 1000.0,
        "metres": 1000.0,
    },
    "ms": {"ms": 1.0, "milliseconds": 1.0, "s": 1000.0, "sec": 1000.0, "seconds": 1000.0},
    "W": {"w": 1.0, "watt": 1.0, "watts": 1.0, "kw": 1000.0},
    "kN/m": {"kn/m": 1.0, "n/m": 0.001},
    "g": {"g": 1.0, "gs": 1.0, "g's": 1.0},
    "deg": {"deg": 1.0, "degree": 1.0, "degrees": 1.0, "°": 1.0, "rad": 180.0 / math.pi},
    "%": {"%": 1.0, "percent": 1.0, "pct": 1.0},
}

# Left/right column pairs whose asymmetry is summarised per session.
LR_PAIRS = {
    "gct": ("gct_left_ms", "gct_right_ms"),
    "impact": ("impact_left_g", "impact_right_g"),
    "braking": ("braking_left_g", "braking_right_g"),
    "pronation": ("pronation_left_deg", "pronation_right_deg"),
    "flight_ratio": ("flight_ratio_left_pct", "flight_ratio_right_pct"),
}
# Fields only Stryd's Connect IQ field writes: a developer app declaring one is Stryd.
STRYD_ONLY = {"Form Power", "Air Power", "Leg Spring Stiffness"}
STRYD_MANUFACTURER = 95  # FIT profile ``manufacturer``: stryd


@dataclass
class SessionFrame:
    """One session of a file: its per-record frame and what the FIT session message says.

    ``power_source``: where ``run.power_w`` comes from — ``"native"`` (FIT ``power``),
    ``"stryd"`` (Stryd's developer field), ``"developer"`` (another app's) or None.
    """

    index: int
    sport: str
    sub_sport: str
    start: pd.Timestamp
    end: pd.Timestamp
    run: pd.DataFrame
    fit_summary: dict = field(default_factory=dict)
    duplicates_merged: int = 0
    warnings: list[str] = field(default_factory=list)
    power_source: str | None = None

    @property
    def is_running(self) -> bool:
        return self.sport in RUNNING_SPORTS


# --- developer field descriptions -------------------------------------------------------------


@dataclass(frozen=True)
class DevField:
    """A developer field as its ``field_description`` declares it (FIT profile message 206).

    Value in ``units`` = raw / ``scale`` − ``offset`` (the FIT scale/offset rule); ``app`` is
    ``"stryd"`` when the declaring developer app is Stryd's, else ``"developer"``.
    """

    name: str
    units: str = ""
    scale: float = 1.0
    offset: float = 0.0
    app: str = "developer"


def developer_fields(msgs: FitMessages) -> dict[str, DevField]:
    """Developer field descriptions by name; a description for ``record`` (or for no
    message in particular) wins over one of the same name for another message."""
    fd = msgs.frame("field_description")
    if fd.empty or "field_name" not in fd:
        return {}
    rows = _records(fd)
    apps = _stryd_indexes(msgs, rows if "developer_data_index" in fd else [])
    out: dict[str, tuple[bool, DevField]] = {}
    for row in rows:
        name = row.get("field_name")
        if not isinstance(name, str):
            continue
        for_record = row.get("native_mesg_num") in (None, "record", 20) or _missing(
            row.get("native_mesg_num")
        )
        if name in out and (out[name][0] or not for_record):
            continue
        units = row.get("units")
        out[name] = (
            for_record,
            DevField(
                name=name,
                units=units.strip() if isinstance(units, str) else "",
                scale=_number(row.get("scale"), 1.0) or 1.0,
                offset=_number(row.get("offset"), 0.0),
                app="stryd" if row.get("developer_data_index") in apps else "developer",
            ),
        )
    return {k: v for k, (_, v) in out.items()}


def _stryd_indexes(msgs: FitMessages, descriptions: list[dict]) -> set:
    """Developer data indexes that belong to Stryd: its manufacturer id in developer_data_id,
    or a field only Stryd writes (``descriptions``: field_description rows that have a
    ``developer_data_index``)."""
    # (rows, not isin/loc/dropna or even df[c]: a few rows, where pandas' per-call cost is
    # all of it)
    out = {
        i
        for row in descriptions
        if row["field_name"] in STRYD_ONLY and not _missing(i := row["developer_data_index"])
    }
    ids = msgs.frame("developer_data_id")
    if "manufacturer_id" in ids and "developer_data_index" in ids:
        for row in _records(ids):
            i = row["developer_data_index"]
            if _is_stryd(row["manufacturer_id"]) and not _missing(i):
                out.add(i)
    return out


def _is_stryd(manufacturer: object) -> bool:
    """FIT ``manufacturer`` 95 (a number, or the profile name ``stryd``)."""
    if isinstance(manufacturer, str):
        return manufacturer == "stryd"
    return _finite(manufacturer) and manufacturer == STRYD_MANUFACTURER


def _number(v: object, default: float) -> float:
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    return f if math.isfinite(f) else default


def _missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def unit_factor(column: str, units: str) -> float | None:
    """Factor from a declared unit to ``column``'s unit (1 for columns without a unit
    suffix; None when the declared unit is not one of that quantity's)."""
    ours = next((u for sfx, u in COLUMN_UNITS.items() if column.endswith(sfx)), None)
    if ours is None:
        return 1.0
    return UNIT_FACTORS[ours].get(units.strip().lower())


# --- the record frame --------------------------------------------------------------------------


def running_frame(
    record: pd.DataFrame,
    running: bool = True,
    *,
    power_source: PowerSource = "auto",
    developer: Mapping[str, DevField] | None = None,
) -> pd.DataFrame:
    """Map FIT ``record`` columns to SI-named columns, indexed by UTC ``time``.

    ``running``: the sport counts cadence in strides/min (:data:`STRIDE_CADENCE_SPORTS`),
    so steps/min = 2 × (cadence + fractional_cadence) (FIT profile: ``record.cadence`` "rpm",
    ``total_strides`` for running/walking); otherwise ``cadence_rpm`` is kept as recorded.
    ``developer``: :func:`developer_fields` of the file; without it developer fields are left
    out (their units are unknown). ``power_source`` (see :func:`map_record`) is in
    ``attrs["power_source"]``. Record times must be absolute (see :func:`sessions`).
    """
    out, source, _ = map_record(
        record, running, power_source=power_source, developer=developer or {}
    )
    out.attrs["power_source"] = source
    return out


def map_record(
    record: pd.DataFrame,
    running: bool = True,
    *,
    power_source: PowerSource = "auto",
    developer: Mapping[str, DevField],
) -> tuple[pd.DataFrame, str | None, list[str]]:
    """:func:`running_frame`'s work: ``(frame, power source, warnings)``.

    ``power_source``: ``"auto"`` takes a developer power field (a dedicated sensor such as a
    Stryd footpod) when it has values, else FIT ``power`` (often wrist-estimated);
    ``"native"`` only FIT ``power``; ``"developer"`` only developer power.
    """
    if power_source not in ("auto", "native", "developer"):
        raise ValueError(f"power_source must be auto, native or developer, not {power_source!r}")
    return _map_columns(_arrays(record), running, power_source, developer)


def _map_columns(
    cols: Mapping[str, object],
    running: bool,
    power_source: PowerSource,
    developer: Mapping[str, DevField],
) -> tuple[pd.DataFrame, str | None, list[str]]:
    """:func:`map_record` of the record frame whose column arrays are ``cols``."""
    index, out, source, warnings = _mapped_arrays(cols, running, power_source, developer)
    if index is None:
        return pd.DataFrame(index=pd.DatetimeIndex([], tz="UTC", name="time")), None, []
    if not out:
        return pd.DataFrame(index=index), source, warnings
    return _float_frame(out, index), source, warnings


def _mapped_arrays(
    cols: Mapping[str, object],
    running: bool,
    power_source: PowerSource,
    developer: Mapping[str, DevField],
) -> tuple[pd.DatetimeIndex | None, dict[str, np.ndarray], str | None, list[str]]:
    """:func:`_map_columns` before the frame: ``(index, column → float64 values, power
    source, warnings)``; index None without records or timestamps."""
    stamps = cols.get("timestamp")
    if stamps is None or not len(stamps):  # type: ignore[arg-type]
        return None, {}, None, []
    if getattr(stamps, "dtype", None) == _UTC_NS:  # (a Series of it costs ~50 us)
        index = pd.DatetimeIndex(stamps, name="time")
    else:
        times = utc_times(pd.Series(stamps, copy=False))
        index = pd.DatetimeIndex(times, name="time").as_unit("ns")
    warnings: list[str] = []
    dev = _developer_columns(cols, developer, warnings)
    out: dict[str, np.ndarray] = {}  # built as a dict, made a frame once (one float block)
    for src, col, factor in NATIVE_FIELDS:
        if col == "power_w" or src not in cols or col in out:
            continue
        values = _numbers(cols[src])
        if np.isfinite(values).any():
            out[col] = values * factor if factor != 1.0 else values  # (a copy already)
    for col, (values, _) in dev.items():
        if col != "power_w" and col not in out:
            out[col] = values
    source = _choose_power(out, cols, dev.get("power_w"), power_source)
    if "cadence" in cols:
        cad = _numbers(cols["cadence"])
        if "fractional_cadence" in cols:
            cad = cad + np.nan_to_num(_numbers(cols["fractional_cadence"]), copy=False)
        if running:
            out["cadence_spm"] = 2.0 * cad
        else:
            out["cadence_rpm"] = cad
    return index, out, source, warnings


def _float_frame(columns: dict[str, np.ndarray], index: pd.Index) -> pd.DataFrame:
    """``pd.DataFrame(columns, index=index)`` of float64 arrays, written straight into the
    one float block pandas would copy them into (the constructor's checks cost ~10 us a
    column, a good part of a short session's normalisation)."""
    block = np.empty((len(columns), len(index)))
    for row, values in zip(block, columns.values(), strict=True):
        row[:] = values
    if _from_blocks is None:  # pragma: no cover - pandas < 3
        return pd.DataFrame(block.T, index=index, columns=list(columns), copy=False)
    placement = np.arange(len(columns), dtype=np.intp)
    return _from_blocks([(block, placement)], index=index, columns=column_labels(list(columns)))


def _arrays(record: pd.DataFrame) -> dict[str, object]:
    """Column name -> column array (numpy or pandas), read once: ``record[c]`` makes a
    Series and looks the name up in a str Index (~15x a column's conversion here)."""
    names = _labels(record)
    if all(isinstance(c, str) for c in names):
        arrays = _block_arrays(record)
        if arrays is not None:
            return dict(zip(names, arrays, strict=True))
    return {str(c): s.array for c, s in record.items()}


def _labels(df: pd.DataFrame) -> list:
    """``df.columns.tolist()`` (str labels read as :func:`_str_list` reads them)."""
    labels = df.columns.array
    return _str_list(labels) if type(labels) is _STR_ARRAY else df.columns.tolist()


def _str_list(values: object) -> list:
    """``values.tolist()`` of a pandas ``str`` array: pandas makes it ``list(to_numpy())``
    (str objects, its NaN where missing, ~10 us), pyarrow's ``to_pylist`` the same str
    objects in ~1 us (None where missing)."""
    arrow = getattr(values, "_pa_array", None)  # pandas-internal: the pyarrow array
    na = getattr(getattr(values, "dtype", None), "na_value", None)
    if arrow is None or not isinstance(na, float):  # pragma: no cover - another pandas
        return values.tolist()  # type: ignore[attr-defined]
    return [na if v is None else v for v in arrow.to_pylist()]


def _block_arrays(df: pd.DataFrame) -> list | None:
    """The column arrays of ``df`` in column order, as ``DataFrame._iter_column_arrays``
    yields them (row views of 2-D blocks, 1-D extension arrays as stored), read block by
    block: ~0.2 us a column instead of ~2.5 us. None where pandas' internals differ."""
    blocks = getattr(getattr(df, "_mgr", None), "blocks", None)  # pandas-internal
    if blocks is None:  # pragma: no cover - another pandas
        return None
    out: list = [None] * df.shape[1]
    for blk in blocks:
        values, locs = blk.values, blk.mgr_locs.as_array.tolist()
        if values.ndim == 1:  # an extension block holds one column
            out[locs[0]] = values
        else:
            for j, loc in enumerate(locs):
                out[loc] = values[j]
    return out


def _numbers(a: object) -> np.ndarray:
    """A column as floats, ``pd.to_numeric(errors="coerce")`` (a copy: callers keep it)."""
    if isinstance(a, np.ndarray) and a.dtype.kind in "fiub":
        return a.astype(float)  # already numbers: to_numeric would give the same
    if _all_none(a):  # a field the device never filled: to_numeric takes ~1 ms to say so
        return np.full(len(a), np.nan)  # type: ignore[arg-type]
    return pd.to_numeric(pd.Series(a, copy=False), errors="coerce").to_numpy(dtype=float)


def _all_none(a: object) -> bool:
    """An object ndarray of None only (``lib.infer_dtype`` "empty": nothing but missing
    values, C speed; then each is checked to be None, not NaT or NA, by C calls too)."""
    return (
        isinstance(a, np.ndarray)
        and a.dtype == _OBJECT
        and lib.infer_dtype(a, skipna=True) == "empty"
        and not any(map(operator.is_not, a.tolist(), itertools.repeat(None)))
    )


def _developer_columns(
    cols: Mapping[str, object],
    developer: Mapping[str, DevField],
    warnings: list[str],
) -> dict[str, tuple[np.ndarray, str]]:
    """``column → (values in the column's unit, app)`` for the mapped developer fields
    present (first name wins per column)."""
    out: dict[str, tuple[np.ndarray, str]] = {}
    if not developer:  # (most files)
        return out
    for name, col in DEVELOPER_FIELDS:
        info = developer.get(name)
        if col in out or name not in cols or info is None:
            continue
        values = _numbers(cols[name])
        if not np.isfinite(values).any():
            continue
        factor = unit_factor(col, info.units or _default_unit(col))
        if factor is None:
            warnings.append(f"developer field {name!r} in unknown unit {info.units!r}: left out")
            continue
        if not info.units and factor is not None and _default_unit(col):
            warnings.append(f"developer field {name!r} declares no unit: read as {col}")
        out[col] = ((values / info.scale - info.offset) * factor, info.app)
    return out


def _default_unit(col: str) -> str:
    return next((u for sfx, u in COLUMN_UNITS.items() if col.endswith(sfx)), "")


def _choose_power(
    out: dict[str, np.ndarray],
    cols: Mapping[str, object],
    dev: tuple[np.ndarray, str] | None,
    power_source: PowerSource,
) -> str | None:
    """Put ``power_w`` in ``out`` from the preferred source; returns that source's name."""
    if dev is not None and power_source in ("auto", "developer"):
        out["power_w"] = dev[0]
        return dev[1]
    native = _numbers(cols["power"]) if "power" in cols else None
    if native is not None and not np.isfinite(native).any():
        native = None
    if native is not None and power_source in ("auto", "native"):
        out["power_w"] = native
        return "native"
    return None


# --- time ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Anchor:
    """System time → UTC: FIT seconds = system seconds + ``offset_s``; ``source`` names
    the message that gave it."""

    offset_s: float
    source: str


def utc_times(values: pd.Series, anchor: Anchor | None = None) -> pd.Series:
    """A decoded FIT ``date_time`` column as ``datetime64[ns, UTC]``: system times (ints
    below 0x10000000) placed with ``anchor``, NaT without one."""
    if values.dtype == _UTC_NS:
        return values  # already what is asked for (the conversion below would copy it)
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    rel, absolute = _split_times(values)
    secs = np.where(np.isnan(rel), absolute, rel + (anchor.offset_s if anchor else np.nan))
    ns = np.full(len(secs), np.iinfo(np.int64).min)
    ok = ~np.isnan(secs)
    # whole milliseconds in integers: FIT seconds × 1e9 in a float would lose ~100 ns
    ns[ok] = FIT_EPOCH.value + np.round(secs[ok] * 1e3).astype(np.int64) * 1_000_000
    idx = pd.DatetimeIndex(ns.view("M8[ns]")).tz_localize("UTC")
    return pd.Series(idx, index=values.index, name=values.name)


def _split_times(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(system seconds, absolute FIT seconds) per value, NaN where the value is not one."""
    n = len(values)
    rel, absolute = np.full(n, np.nan), np.full(n, np.nan)
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        t = values.dt.tz_convert("UTC")
        absolute = ((t - FIT_EPOCH).dt.total_seconds()).to_numpy(dtype=float, na_value=np.nan)
        return rel, absolute
    for i, v in enumerate(values.tolist()):
        if isinstance(v, pd.Timestamp | np.datetime64) and pd.notna(v):
            t = pd.Timestamp(v)
            t = t.tz_localize("UTC") if t.tzinfo is None else t
            absolute[i] = (t - FIT_EPOCH).total_seconds()
        elif _finite(v):
            (rel if v < SYSTEM_TIME_MAX else absolute)[i] = float(v)
    return rel, absolute


def _finite(v: object) -> bool:
    return (
        isinstance(v, int | float | np.integer | np.floating)
        and not isinstance(v, bool)
        and math.isfinite(v)
    )


def _column(msgs: FitMessages, name: str, col: str) -> pd.Series:
    df = msgs.frame(name)
    return df[col] if col in df else pd.Series([], dtype=object)


def _has_system_time(values: pd.Series) -> bool:
    return values.dtype == object and not np.isnan(_split_times(values)[0]).all()


def time_anchor(msgs: FitMessages, tz: str | None = None) -> Anchor | None:
    """How to place the file's system times in UTC, or None.

    In order: a ``timestamp_correlation`` message (FIT profile: ``timestamp`` and
    ``system_timestamp`` of one instant, with their ms/fractional parts); an absolute
    ``file_id.time_created``, taken as the file's first system time; the first absolute
    record timestamp, taken as one record step after the system time recorded before it (or
    an absolute ``session.start_time`` as the first record's); with ``tz`` (an IANA zone,
    the athlete's), ``activity.local_timestamp`` paired with ``activity.timestamp``.
    """
    for find in (_by_correlation, _by_time_created, _by_first_absolute):
        a = find(msgs)
        if a is not None:
            return a
    return _by_local_time(msgs, tz) if tz else None


def _by_correlation(msgs: FitMessages) -> Anchor | None:
    tc = msgs.frame("timestamp_correlation")
    if tc.empty or "timestamp" not in tc or "system_timestamp" not in tc:
        return None
    _, utc = _split_times(tc["timestamp"])
    sys_rel, sys_abs = _split_times(tc["system_timestamp"])
    sys = np.where(np.isnan(sys_rel), sys_abs, sys_rel)
    for i in np.flatnonzero(~np.isnan(utc) & ~np.isnan(sys)):
        row = tc.iloc[int(i)]
        t = utc[i] + _part(row, "timestamp_ms", 1e-3) + _part(row, "fractional_timestamp", 1.0)
        s = sys[i] + _part(row, "system_timestamp_ms", 1e-3)
        s += _part(row, "fractional_system_timestamp", 1.0)
        return Anchor(t - s, "timestamp_correlation")
    return None


def _part(row: pd.Series, col: str, factor: float) -> float:
    v = row.get(col)
    return _number(v, 0.0) * factor


def _first_system_time(msgs: FitMessages) -> float | None:
    """The earliest system time of the records and sessions (NaN-free), or None."""
    values = [
        _split_times(_column(msgs, "record", "timestamp"))[0],
        _split_times(_column(msgs, "session", "start_time"))[0],
    ]
    rel = np.concatenate(values)
    rel = rel[~np.isnan(rel)]
    return float(rel.min()) if len(rel) else None


def _by_time_created(msgs: FitMessages) -> Anchor | None:
    _, created = _split_times(_column(msgs, "file_id", "time_created"))
    created = created[~np.isnan(created)]
    first = _first_system_time(msgs)
    if not len(created) or first is None:
        return None
    return Anchor(float(created[0]) - first, "file_id.time_created")


def _by_first_absolute(msgs: FitMessages) -> Anchor | None:
    rel, absolute = _split_times(_column(msgs, "record", "timestamp"))
    has_rel = np.flatnonzero(~np.isnan(rel))
    has_abs = np.flatnonzero(~np.isnan(absolute))
    if not len(has_rel):
        return None
    if len(has_abs):
        i = int(has_abs[0])
        before = has_rel[has_rel < i]
        steps = np.diff(rel[has_rel])
        step = float(np.median(steps[steps > 0])) if (steps > 0).any() else 1.0
        if len(before):  # the clock was set: this record is one step after the one before
            return Anchor(absolute[i] - rel[before[-1]] - step, "the first absolute timestamp")
        after = int(has_rel[0])
        return Anchor(absolute[i] - rel[after] + step, "the first absolute timestamp")
    _, start = _split_times(_column(msgs, "session", "start_time"))
    start = start[~np.isnan(start)]
    if len(start):
        return Anchor(float(start[0]) - float(rel[has_rel].min()), "session.start_time")
    return None


def _by_local_time(msgs: FitMessages, tz: str) -> Anchor | None:
    act = msgs.frame("activity")
    if act.empty or "timestamp" not in act or "local_timestamp" not in act:
        return None
    rel, _ = _split_times(act["timestamp"])
    for i in np.flatnonzero(~np.isnan(rel)):
        local = act["local_timestamp"].iloc[int(i)]
        if _missing(local) or local is pd.NaT:
            continue
        t = pd.Timestamp(local)
        t = t.tz_localize(None) if t.tzinfo else t
        try:
            utc = t.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        except Exception:  # noqa: BLE001 - an unknown zone name: no anchor, the reason says so
            return None
        if utc is pd.NaT:
            continue
        fit_s = (utc.tz_convert("UTC") - FIT_EPOCH).total_seconds()
        return Anchor(fit_s - rel[i], f"activity.local_timestamp in {tz}")
    return None


def no_time_reason(
    msgs: FitMessages, tz: str | None = None, now: pd.Timestamp | None = None
) -> str | None:
    """Why :func:`sessions` finds nothing in a file that has records (one line, starting
    ``"<n> records but none has a usable UTC timestamp: "``); None when it finds sessions
    or the file has no records. ``tz`` and ``now`` as given to :func:`sessions`."""
    record = msgs.frame("record")
    if record.empty:
        return None
    head = f"{len(record)} records but none has a usable UTC timestamp"
    if "timestamp" not in record or not record["timestamp"].notna().any():
        return f"{head}: the records carry no timestamp"
    if sessions(msgs, now=now, tz=tz):
        return None
    if _has_system_time(record["timestamp"]) and time_anchor(msgs, tz) is None:
        why = (
            f"{head}: only device-relative times (seconds since power-on) and nothing to "
            "anchor them (no timestamp_correlation, no absolute file_id.time_created or "
            "record timestamp)"
        )
        act = msgs.frame("activity")
        if tz is None and "local_timestamp" in act and act["local_timestamp"].notna().any():
            why += "; activity.local_timestamp could, given the athlete's time zone (tz=)"
        return why
    t = utc_times(record["timestamp"], time_anchor(msgs, tz)).dropna()
    return (
        f"{head}: times {t.min():%Y-%m-%d %H:%M:%S} to {t.max():%Y-%m-%d %H:%M:%S} UTC fall "
        f"outside {PLAUSIBLE_FROM:%Y-%m-%d} to now + 1 day (device clock not set?)"
    )


# --- sessions -----------------------------------------------------------------------------------


def clean_times(
    run: pd.DataFrame, now: pd.Timestamp | None = None
) -> tuple[pd.DataFrame, int, int]:
    """Drop rows without a plausible timestamp, sort, and merge duplicate timestamps.

    Two records with one timestamp would overwrite each other in InfluxDB, so they are
    merged on purpose: per column the last non-missing value wins (a later record completes
    or corrects an earlier one). Returns (frame, n_merged, n_implausible).
    """
    now = now or pd.Timestamp.now(tz="UTC")
    idx = run.index
    latest = now + pd.Timedelta(days=1)
    if idx.dtype == _UTC_NS:  # compared as int64 ns (NaT is int64 min: below 1995)
        ns = idx.asi8
        ok = (ns >= PLAUSIBLE_FROM.value) & (ns <= latest.as_unit("ns").value)
    else:
        ok = idx.notna() & (idx >= PLAUSIBLE_FROM) & (idx <= latest)
    n_bad = len(ok) - int(np.count_nonzero(ok))
    if n_bad:  # (a frame with nothing to drop is not copied)
        run = run[ok]
    if not run.index.is_monotonic_increasing:
        run = run.sort_index(kind="stable")
    if run.index.dtype == _UTC_NS:  # sorted: a duplicate follows its twin
        ns = run.index.asi8
        n_dup = int(np.count_nonzero(ns[1:] == ns[:-1]))
    else:
        n_dup = int(run.index.duplicated().sum())
    if n_dup:
        run = run.groupby(level=0, sort=False).last()
        run.index.name = "time"
    return run, n_dup, n_bad


def sessions(
    msgs: FitMessages,
    now: pd.Timestamp | None = None,
    *,
    power_source: PowerSource = "auto",
    tz: str | None = None,
) -> list[SessionFrame]:
    """Split a decoded file into sessions with normalised per-record frames.

    System times are anchored with :func:`time_anchor` (``tz``: the athlete's IANA zone, for
    files whose only anchor is local time); ``power_source`` as in :func:`map_record`.
    An empty list for a file with records: :func:`no_time_reason` says why.
    """
    record = msgs.frame("record")
    sess = msgs.frame("session")
    cols = _arrays(record)  # column arrays, read once (a Series of a column costs ~50 us)
    scols = _arrays(sess)
    anchor = None
    if any(
        a is not None and _has_system_time(a)
        for a in (cols.get("timestamp"), scols.get("start_time"), scols.get("timestamp"))
    ):
        anchor = time_anchor(msgs, tz)
    if _is_object(cols.get("timestamp")):
        record = record.assign(timestamp=utc_times(record["timestamp"], anchor))
        cols = _arrays(record)
    for col in ("start_time", "timestamp"):
        if _is_object(scols.get(col)):
            sess = sess.assign(**{col: utc_times(sess[col], anchor)})
    out = _split(msgs, record, cols, sess, now, power_source)
    if anchor is not None:
        for sf in out:
            sf.warnings.append(f"device-relative times anchored by {anchor.source}")
    return out


def _is_object(values: object) -> bool:
    return values is not None and getattr(values, "dtype", None) == _OBJECT


def _split(
    msgs: FitMessages,
    record: pd.DataFrame,
    cols: dict[str, object],
    sess: pd.DataFrame,
    now: pd.Timestamp | None,
    power_source: PowerSource,
) -> list[SessionFrame]:
    """The sessions of ``record`` (whose column arrays are ``cols``) and ``sess``."""
    if 0 in sess.shape:  # (DataFrame.empty, without its generator)
        if 0 in record.shape or "timestamp" not in cols:
            return []
        sess = pd.DataFrame([{"sport": _file_sport(msgs)}])
    developer = developer_fields(msgs) if not _DEVELOPER_NAMES.isdisjoint(cols) else {}
    now = now or pd.Timestamp.now(tz="UTC")
    latest_ns = (now + pd.Timedelta(days=1)).as_unit("ns").value
    stamps = cols.get("timestamp")
    rows = _records(sess)
    bounds = _session_bounds(rows, stamps, now)
    ns = stamps.asi8 if getattr(stamps, "dtype", None) == _UTC_NS else None  # type: ignore[union-attr]
    out: list[SessionFrame] = []
    for i, (row, (start, end)) in enumerate(zip(rows, bounds, strict=True)):
        sport = str(row.get("sport") or "generic")
        sub = str(row.get("sub_sport") or "generic")
        part = cols if len(bounds) == 1 else _session_part(record, cols, ns, start, end)
        index, values, source, warnings = _mapped_arrays(
            part, sport in STRIDE_CADENCE_SPORTS, power_source, developer
        )
        if index is not None and values and index.dtype == _UTC_NS:
            index, values, n_dup, n_bad = _clean_arrays(index, values, latest_ns)
            run = _float_frame(values, index)
        else:  # no records, or no mapped column: the frame's own way
            if index is None:
                run = pd.DataFrame(index=pd.DatetimeIndex([], tz="UTC", name="time"))
            else:
                run = pd.DataFrame(index=index)
            run, n_dup, n_bad = clean_times(run, now)
        sf = SessionFrame(i, sport, sub, start, end, run, row, n_dup, warnings, source)
        run.attrs["power_source"] = source
        if n_bad:
            sf.warnings.append(f"{n_bad} records without a plausible timestamp left out")
        if len(run.index):
            sf.start, sf.end = min(sf.start, run.index[0]), max(sf.end, run.index[-1])
        out.append(sf)
    return [s for s in out if pd.notna(s.start)]


def _session_part(
    record: pd.DataFrame,
    cols: dict[str, object],
    ns: np.ndarray | None,
    start: pd.Timestamp,
    end: pd.Timestamp,
) -> dict[str, object]:
    """The mapped columns of ``record[(times >= start) & (times <= end)]``; ``ns``: the
    record times as int64 ns when they are UTC ns (NaT, int64 min, is below any bound)."""
    if ns is not None:
        if pd.isna(start) or pd.isna(end):  # a comparison with NaT is False
            mask = np.zeros(len(ns), dtype=bool)
        else:
            mask = (ns >= start.value) & (ns <= end.value)
    elif "timestamp" not in cols:  # no times to split by: as pandas answers it
        times = pd.Series([], dtype=_UTC_NS)
        return _arrays(record[(times >= start) & (times <= end)])
    else:
        times = record["timestamp"]
        mask = ((times >= start) & (times <= end)).to_numpy()
    return {k: a[mask] for k, a in cols.items() if k in _MAPPED}  # type: ignore[index]


def _clean_arrays(
    index: pd.DatetimeIndex, values: dict[str, np.ndarray], latest_ns: int
) -> tuple[pd.DatetimeIndex, dict[str, np.ndarray], int, int]:
    """:func:`clean_times` of ``_float_frame(values, index)`` (a UTC ns index, float64
    columns) on the arrays: ``(index, values, n_merged, n_implausible)``. numpy does in
    ~20 us what the frame's boolean indexing, sort and ``groupby().last()`` take ~2 ms for
    (30 of the 277 files of the season benchmark have duplicate timestamps)."""
    ns = index.asi8
    plausible_ends = len(ns) and ns[0] >= PLAUSIBLE_FROM.value and ns[-1] <= latest_ns
    if plausible_ends and (ns[1:] > ns[:-1]).all():  # sorted, no duplicates: the common case
        return index, values, 0, 0
    ok = (ns >= PLAUSIBLE_FROM.value) & (ns <= latest_ns)  # NaT is int64 min: below 1995
    n_bad = len(ok) - int(np.count_nonzero(ok))
    if n_bad:
        index, ns = index[ok], ns[ok]
        values = {c: v[ok] for c, v in values.items()}
    if not (ns[1:] >= ns[:-1]).all():  # sort_index(kind="stable") on a NaT-free index
        order = np.argsort(ns, kind="stable")
        index, ns = index.take(order), ns[order]
        values = {c: v[order] for c, v in values.items()}
    first = np.empty(len(ns), dtype=bool)  # sorted: a duplicate follows its twin
    first[:1] = True
    np.not_equal(ns[1:], ns[:-1], out=first[1:])
    n_dup = len(ns) - int(np.count_nonzero(first))
    if n_dup:  # groupby(level=0).last(): per column the last non-NaN value of each time
        starts = np.flatnonzero(first)
        rows = np.arange(len(ns))
        index = index.take(starts)
        merged = {}
        for c, v in values.items():
            last = np.maximum.reduceat(np.where(np.isnan(v), -1, rows), starts)
            merged[c] = np.where(last >= 0, v[last], np.nan)
        values = merged
    return index, values, n_dup, n_bad


def _records(df: pd.DataFrame) -> list[dict]:
    """``df.to_dict("records")`` with Python scalars, column by column (pandas goes through
    ``iloc`` once per column: 10-30 ms for a 100-column session frame). A 2-D block's
    columns come from one ``tolist`` (a session frame is ~70 columns in ~10 blocks)."""
    cols = [c if type(c) is str else str(c) for c in _labels(df)]
    values = _block_lists(df)
    if values is None:  # pragma: no cover - another pandas
        values = [s.tolist() for _, s in df.items()]
    return [dict(zip(cols, row, strict=True)) for row in zip(*values, strict=True)]


def _block_lists(df: pd.DataFrame) -> list[list] | None:
    """``[df[c].tolist() for c in df]`` read block by block (None as :func:`_block_arrays`)."""
    arrays = _block_arrays(df)
    if arrays is None:  # pragma: no cover - another pandas
        return None
    return [_str_list(a) if type(a) is _STR_ARRAY else a.tolist() for a in arrays]


_DEVELOPER_NAMES = frozenset(name for name, _ in DEVELOPER_FIELDS)
#: The record columns :func:`map_record` reads.
_MAPPED = frozenset(
    [src for src, _, _ in NATIVE_FIELDS]
    + list(_DEVELOPER_NAMES)
    + ["timestamp", "power", "cadence", "fractional_cadence"]
)


def _session_bounds(
    rows: list[dict], stamps: object, now: pd.Timestamp
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """[start, end] per session: FIT start_time + elapsed time, else the plausible record span."""
    latest = now + pd.Timedelta(days=1)
    span: list[pd.Timestamp] = []  # the plausible record span, found when a row needs it
    bounds = []
    for row in rows:
        start = _time(row.get("start_time"), latest)
        elapsed = row.get("total_elapsed_time")
        if pd.notna(start) and isinstance(elapsed, int | float) and np.isfinite(elapsed):
            end = start + pd.Timedelta(seconds=float(elapsed))
        elif pd.notna(start):
            end = _time(row.get("timestamp"), latest)
            end = end if pd.notna(end) and end >= start else start
        else:
            if not span:
                times = (
                    pd.Series(stamps, copy=False)
                    if stamps is not None
                    else pd.Series([], dtype="datetime64[ns, UTC]")
                )
                span += _plausible_span(times, latest)
            start, end = span
        bounds.append((start, end))
    return bounds


def _plausible_span(times: pd.Series, latest: pd.Timestamp) -> list[pd.Timestamp]:
    """[first, last] record time from 1995 to ``latest`` (NaT, NaT without one)."""
    ok = times[(times >= PLAUSIBLE_FROM) & (times <= latest)] if len(times) else times
    return [ok.min() if len(ok) else pd.NaT, ok.max() if len(ok) else pd.NaT]


def _time(v: object, latest: pd.Timestamp) -> pd.Timestamp:
    """A plausible UTC timestamp (1995 to ``latest``) or NaT; a bare number is not a time."""
    if v is None or not isinstance(v, pd.Timestamp | np.datetime64 | str):
        return pd.NaT
    if type(v) is pd.Timestamp and v.tzinfo is _UTC_TZ:
        t = v  # what to_datetime(utc=True) returns for it (~40 us a call saved)
    else:
        t = pd.to_datetime(v, utc=True, errors="coerce")
    return t if pd.notna(t) and PLAUSIBLE_FROM <= t <= latest else pd.NaT


def _file_sport(msgs: FitMessages) -> str:
    sport = msgs.frame("sport")
    if not sport.empty and "sport" in sport:
        return str(sport["sport"].iloc[0])
    return "generic"


def asymmetry(run: pd.DataFrame) -> dict[str, float]:
    """Session asymmetry from GCT balance and from any left/right field pairs.

    GCT balance B = L/(L+R) × 100 (% left) gives SI = 4 (B − 50) (DESIGN.md, science notes);
    pairs such as RunScribe's ``GCT_L``/``GCT_R`` give SI from their session means.
    Positive SI: the left value is larger.
    """
    out: dict[str, float] = {}
    cols = _arrays(run)
    floats = {c: a for c, a in cols.items() if isinstance(a, np.ndarray) and a.dtype == np.float64}
    if "gct_balance_left_pct" in floats:  # numpy: pandas' mean of floats is sum / count
        b = floats["gct_balance_left_pct"]
        b = b[(b > 0) & (b < 100)]
        if len(b):
            out["gct_balance_left_pct"] = float(b.sum() / len(b))
            out["gct_si_pct"] = 4.0 * (out["gct_balance_left_pct"] - 50.0)
    elif "gct_balance_left_pct" in cols:
        b = run["gct_balance_left_pct"]
        b = b[(b > 0) & (b < 100)]
        if len(b):
            out["gct_balance_left_pct"] = float(b.mean())
            out["gct_si_pct"] = 4.0 * (out["gct_balance_left_pct"] - 50.0)
    for name, (lcol, rcol) in LR_PAIRS.items():
        if lcol not in cols or rcol not in cols:
            continue
        if lcol in floats and rcol in floats:
            lv, rv = floats[lcol], floats[rcol]
            keep = ~np.isnan(lv) & ~np.isnan(rv) & (lv != 0) & (rv != 0)
            n = int(np.count_nonzero(keep))
            if not n:
                continue
            left, right = float(lv[keep].sum() / n), float(rv[keep].sum() / n)
        else:
            both = run[[lcol, rcol]].dropna()
            both = both[(both[lcol] != 0) & (both[rcol] != 0)]
            if not len(both):
                continue
            left, right = float(both[lcol].mean()), float(both[rcol].mean())
        out[f"{name}_si_pct"] = symmetry_index(left, right)
        if name == "gct" and "gct_si_pct" not in out:
            out["gct_si_pct"] = symmetry_index(left, right)
            out["gct_balance_left_pct"] = balance(left, right)
    return out
