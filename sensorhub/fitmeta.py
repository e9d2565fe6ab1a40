"""What a FIT file says about itself: its identity, its devices, its wearer's HR limits."""

from __future__ import annotations

from typing import Any

import pandas as pd

from drivers.fit import FitMessages

from .config import Athlete
from .values import finite_number


def fit_file_id(msgs: FitMessages) -> str | None:
    """``manufacturer/product/serial/time_created/type`` of the first file_id, when it identifies."""
    fid = msgs.frame("file_id")
    if fid.empty:
        return None
    row = fid.iloc[0]
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
        df = msgs.frame(name)
        if "serial_number" in df:
            out += [str(int(s)) for s in df["serial_number"].dropna() if finite_number(s)]
    return list(dict.fromkeys(out))


def hr_params(athlete: Athlete, msgs: FitMessages) -> tuple[float | None, float | None, str]:
    """HR rest/max and sex for TRIMP: the athlete's config first, else the watch's user_profile."""
    prof = msgs.frame("user_profile")
    row = prof.iloc[0].to_dict() if not prof.empty else {}
    rest = athlete.hr_rest or _positive(row.get("resting_heart_rate"))
    hrmax = (
        athlete.hr_max
        or _positive(row.get("default_max_heart_rate"))
        or _positive(row.get("max_heart_rate"))
    )
    sex = athlete.sex
    if athlete.hr_rest is None and row.get("gender") in ("male", "female"):
        sex = row["gender"]
    if rest and hrmax and hrmax <= rest:
        return None, None, sex
    return rest, hrmax, sex


def _positive(v: Any) -> float | None:
    return float(v) if finite_number(v) and float(v) > 0 else None
