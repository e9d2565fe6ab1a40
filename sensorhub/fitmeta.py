"""What a FIT file says about itself: its identity, its devices, its wearer's HR limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from drivers.fit import FitMessages

from .config import Athlete
from .values import finite_number


def fit_file_id(msgs: FitMessages) -> str | None:
    """``manufacturer/product/serial/time_created/type`` of the first file_id, when it identifies."""
    row = _first_row(
        msgs,
        "file_id",
        ("serial_number", "time_created", "manufacturer", "product", "garmin_product", "type"),
    )
    if not row:
        return None
    serial, created = row.get("serial_number"), row.get("time_created")
    if serial is None or pd.isna(serial) or created is None or pd.isna(created):
        return None
    parts = [
        row.get("manufacturer"),
        row.get("product") or row.get("garmin_product"),
        serial,
        created,
        row.get("type"),
    ]
    return "/".join(
        "" if p is None or (not isinstance(p, str) and pd.isna(p)) else str(p) for p in parts
    )


def device_serials(msgs: FitMessages) -> list[str]:
    """Serial numbers of the recording device first, then of the other devices in the file."""
    out = []
    for name in ("file_id", "device_info"):
        df = msgs.fields(name, ("serial_number",))  # not the whole frame: ~25 columns
        if "serial_number" in df:
            out += [str(int(s)) for s in df["serial_number"].tolist() if finite_number(s)]
    return list(dict.fromkeys(out))


@dataclass(frozen=True)
class HrLimits:
    """Resting and maximum heart rate (bpm) and sex, as Banister TRIMP needs them.

    ``reason`` says why TRIMP cannot be computed (a limit missing, or max ≤ rest), else None;
    ``sources`` names where each limit came from (``config``, ``user_profile``,
    ``zones_target``, ``hr_zone``); ``threshold`` is the lactate-threshold HR the watch's
    zones declare (``zones_target.threshold_heart_rate``), for information only.
    """

    rest: float | None
    max: float | None
    sex: str
    reason: str | None = None
    sources: dict[str, str] = field(default_factory=dict)
    threshold: float | None = None


#: Heart rates outside this range are placeholders, not limits: 0 ("not set") and the
#: 254/255 that closes an open-ended top zone in hr_zone messages.
PLAUSIBLE_BPM = (25.0, 240.0)


def hr_limits(athlete: Athlete, msgs: FitMessages) -> HrLimits:
    """HR rest/max and sex for TRIMP: the athlete's config first, then the watch's
    ``user_profile`` (``resting_heart_rate``, ``default_max_heart_rate``), then its HR zones
    (``zones_target.max_heart_rate``, else the ``high_bpm`` of the top ``hr_zone`` when that
    zone is closed: Wahoo and Sigma end an open top zone with 254). Values outside
    :data:`PLAUSIBLE_BPM` (0 = not set) are skipped. FIT profile messages 3, 7 and 8.
    """
    prof = _first_row(
        msgs,
        "user_profile",
        ("resting_heart_rate", "default_max_heart_rate", "max_heart_rate", "gender"),
    )
    zones = _first_row(msgs, "zones_target", ("max_heart_rate", "threshold_heart_rate"))
    sources: dict[str, str] = {}
    rest = _pick(
        sources,
        "rest",
        ("config", athlete.hr_rest),
        ("user_profile", prof.get("resting_heart_rate")),
    )
    hrmax = _pick(
        sources,
        "max",
        ("config", athlete.hr_max),
        ("user_profile", prof.get("default_max_heart_rate")),
        ("user_profile", prof.get("max_heart_rate")),
        ("zones_target", zones.get("max_heart_rate")),
        ("hr_zone", _zone_top(msgs)),
    )
    sex = athlete.sex
    if athlete.hr_rest is None and prof.get("gender") in ("male", "female"):
        sex = prof["gender"]
    threshold = _bpm(zones.get("threshold_heart_rate"))
    reason = _reason(athlete.id, rest, hrmax, sources)
    if reason and rest and hrmax:
        rest = hrmax = None  # inconsistent limits are not used at all
    return HrLimits(rest, hrmax, sex, reason, sources, threshold)


def hr_params(athlete: Athlete, msgs: FitMessages) -> tuple[float | None, float | None, str]:
    """``(rest, max, sex)`` of :func:`hr_limits` (rest and max are None when inconsistent)."""
    lim = hr_limits(athlete, msgs)
    return lim.rest, lim.max, lim.sex


def _reason(who: str, rest: float | None, hrmax: float | None, sources: dict) -> str | None:
    if rest is None and hrmax is None:
        return f"no HR limits for {who}: set hr_rest/hr_max in the config"
    if rest is None:
        return (
            f"no resting HR for {who} (max {hrmax:g} from {sources['max']}): "
            "set hr_rest in the config"
        )
    if hrmax is None:
        return (
            f"no maximum HR for {who} (rest {rest:g} from {sources['rest']}): "
            "set hr_max in the config"
        )
    if hrmax <= rest:
        return (
            f"HR limits for {who} are inconsistent: max {hrmax:g} ({sources['max']}) <= "
            f"rest {rest:g} ({sources['rest']}): fix hr_rest/hr_max in the config"
        )
    return None


def _pick(sources: dict[str, str], key: str, *candidates: tuple[str, Any]) -> float | None:
    for where, v in candidates:
        bpm = _bpm(v)
        if bpm is not None:
            sources[key] = where
            return bpm
    return None


def _first_row(msgs: FitMessages, name: str, fields: tuple[str, ...]) -> dict[str, Any]:
    """``fields`` of the first message ``name`` that it has, as Python values (what
    ``df.iloc[0].to_dict()`` holds for them; {} without such a message). Only these columns
    are decoded (:meth:`FitMessages.fields`) and read: a row of every column costs ~15 us a
    column (``session`` has ~70)."""
    df = msgs.fields(name, fields)
    if not len(df):
        return {}
    names = df.columns.tolist()
    arrays = getattr(df, "_iter_column_arrays", None)  # pandas-internal; public way below
    if arrays is None or not all(isinstance(c, str) for c in names):
        row = df.iloc[0].to_dict()
        return {f: row[f] for f in fields if f in row}
    wanted = set(fields)
    # a column's first value as a Python scalar: ``a[:1].tolist()`` (no Series made)
    have = {c: a[:1].tolist()[0] for c, a in zip(names, arrays(), strict=True) if c in wanted}
    return {f: have[f] for f in fields if f in have}


def _zone_top(msgs: FitMessages) -> float | None:
    """The top of the highest HR zone, when it is a heart rate (not an open-ended 254/255)."""
    hz = msgs.fields("hr_zone", ("high_bpm",))
    if "high_bpm" not in hz:
        return None
    highs = [_bpm(v) for v in hz["high_bpm"].tolist()]
    if not highs or highs[-1] is None:
        return None
    return max(h for h in highs if h is not None)


def _bpm(v: Any) -> float | None:
    lo, hi = PLAUSIBLE_BPM
    return float(v) if finite_number(v) and lo <= float(v) <= hi else None
