"""Strava bulk export ``activities.csv`` → one row per activity, SI units, UTC start.

The export's header repeats names: a summary block (``Elapsed Time``, ``Distance``,
``Max Heart Rate``, ``Relative Effort``, ``Commute``) comes first, then a detailed block
with the same names again. The csv module keeps every column by position (pandas would
rename them ``Distance.1``), and each output column reads one documented source:

| column | source column | notes |
|---|---|---|
| ``activity_id`` | ``Activity ID`` | Int64 |
| ``start`` | ``Activity Date`` | UTC (Strava writes it in UTC, not the athlete's zone); text in the export's locale |
| ``name`` | ``Activity Name`` | |
| ``type`` | ``Activity Type`` | Strava's type as written (``Run``, ``Ride``, ``Walk``...) |
| ``filename`` | ``Filename`` | e.g. ``activities/123.fit.gz``; missing (NA) for manual entries |
| ``elapsed_s`` | 2nd ``Elapsed Time`` (seconds, float), else the 1st (seconds, int) | |
| ``distance_m`` | 2nd ``Distance`` (metres) | the 1st is in the athlete's display unit (km or mi): read only with ``distance_unit`` |
| ``rpe`` | ``Perceived Exertion`` | 1–10 (Strava's CR-10 style slider); other values → missing |
| ``private_note`` | ``Activity Private Note`` | |
| ``description`` | ``Activity Description`` | |

Dates: US English ("Jan 5, 2024, 7:00:00 AM", also with a narrow no-break space before
AM/PM), British ("5 Jan 2024, 07:00:00"), ISO ("2024-01-05 07:00:00"), day-first numeric
("05.01.2024, 07:00:00") and abbreviated month names in German, French, Spanish, Italian,
Dutch and Portuguese. A date that none of these reads is left missing and counted in
``df.attrs["warnings"]``.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Literal

import numpy as np
import pandas as pd

COLUMNS = [
    "activity_id",
    "filename",
    "name",
    "type",
    "start",
    "elapsed_s",
    "distance_m",
    "rpe",
    "private_note",
    "description",
]
_UNIT_M = {"km": 1000.0, "mi": 1609.344}


class StravaCsvError(ValueError):
    """Not a Strava activities.csv (one line)."""


def read_activities_csv(
    data: bytes, *, distance_unit: Literal["km", "mi"] | None = None
) -> pd.DataFrame:
    """Activities of a Strava export's ``activities.csv`` (columns in the module docstring).

    ``distance_unit`` is the athlete's display unit, used only when the file has a single
    ``Distance`` column (older exports); without it such distances are left missing.
    Warnings (unreadable dates, RPE out of range...) are in ``df.attrs["warnings"]``.
    """
    header, rows = _rows(data)
    cols = _Columns(header)
    warnings: list[str] = []
    out = pd.DataFrame(
        {
            "activity_id": pd.array(
                [_int(t or "") for t in cols.text(rows, "Activity ID")], dtype="Int64"
            ),
            "filename": cols.text(rows, "Filename"),
            "name": cols.text(rows, "Activity Name"),
            "type": cols.text(rows, "Activity Type"),
            "start": _dates(cols.text(rows, "Activity Date"), warnings),
            "elapsed_s": cols.number(rows, "Elapsed Time", prefer=1),
            "distance_m": _distance(cols, rows, distance_unit, warnings),
            "rpe": _rpe(cols.number(rows, "Perceived Exertion"), warnings),
            "private_note": cols.text(rows, "Activity Private Note"),
            "description": cols.text(rows, "Activity Description"),
        },
        columns=COLUMNS,
    )
    out.attrs["warnings"] = warnings
    return out


def _rows(data: bytes) -> tuple[list[str], list[list[str]]]:
    text = data.decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise StravaCsvError("not a Strava activities.csv: empty file") from None
    header = [h.strip() for h in header]
    if "Activity ID" not in header:
        raise StravaCsvError(
            f"not a Strava activities.csv: no 'Activity ID' column (header starts {header[:3]})"
        )
    width = len(header)
    rows = [(r + [""] * width)[:width] for r in reader if any(c.strip() for c in r)]
    return header, rows


class _Columns:
    """Positions of each header name (a name can repeat)."""

    def __init__(self, header: list[str]) -> None:
        self.pos: dict[str, list[int]] = {}
        for i, name in enumerate(header):
            self.pos.setdefault(name, []).append(i)

    def text(self, rows: list[list[str]], name: str) -> list[str | None]:
        if name not in self.pos:
            return [None] * len(rows)
        i = self.pos[name][0]
        return [r[i].strip() or None for r in rows]

    def number(self, rows: list[list[str]], name: str, prefer: int = 0) -> np.ndarray:
        """Column ``name`` as floats: occurrence ``prefer`` where filled, else the others."""
        out = np.full(len(rows), np.nan)
        positions = self.pos.get(name, [])
        order = positions[prefer : prefer + 1] + [p for k, p in enumerate(positions) if k != prefer]
        for i in reversed(order):  # the preferred occurrence is written last, so it wins
            vals = np.array([_float(r[i]) for r in rows], dtype=float)
            out = np.where(np.isfinite(vals), vals, out)
        return out


def _distance(
    cols: _Columns, rows: list[list[str]], unit: str | None, warnings: list[str]
) -> np.ndarray:
    positions = cols.pos.get("Distance", [])
    if len(positions) >= 2:
        i = positions[1]
        return np.array([_float(r[i]) for r in rows], dtype=float)
    if positions and unit in _UNIT_M:
        i = positions[0]
        return np.array([_float(r[i]) for r in rows], dtype=float) * _UNIT_M[unit]
    if positions:
        warnings.append(
            "one Distance column only (the athlete's display unit, km or mi): distance_m left "
            "missing; pass distance_unit"
        )
    return np.full(len(rows), np.nan)


def _rpe(values: np.ndarray, warnings: list[str]) -> np.ndarray:
    bad = np.isfinite(values) & ((values < 1) | (values > 10))
    if bad.any():
        warnings.append(f"{int(bad.sum())} Perceived Exertion values outside 1–10 left out")
    return np.where(bad, np.nan, values)


def _float(text: str) -> float:
    try:
        return float(text) if text.strip() else np.nan  # a decimal comma → NaN, never 1000×
    except ValueError:
        return np.nan


def _int(text: str) -> int | None:
    value = _float(text)
    return int(value) if np.isfinite(value) else None


# --- dates ----------------------------------------------------------------------------------

# Abbreviated (and full) month names of the export locales we know, → English abbreviation.
_MONTHS = {
    "jan": ["jan", "janv", "ene", "gen", "januar", "janeiro", "enero", "gennaio", "janvier"],
    "feb": ["feb", "févr", "fevr", "fév", "fev", "februar", "fevereiro", "febrero", "febbraio"],
    "mar": ["mar", "mär", "mrt", "mars", "märz", "março", "marzo", "maart"],
    "apr": ["apr", "avr", "abr", "april", "avril", "abril", "aprile"],
    "may": ["may", "mai", "mei", "mayo", "mag", "maio", "maggio"],
    "jun": ["jun", "juin", "giu", "juni", "junio", "junho", "giugno"],
    "jul": ["jul", "juil", "lug", "juli", "julio", "julho", "luglio", "juillet"],
    "aug": ["aug", "août", "aout", "ago", "august", "agosto", "augustus"],
    "sep": ["sep", "sept", "set", "september", "septembre", "septiembre", "setembro", "settembre"],
    "oct": ["oct", "okt", "out", "ott", "oktober", "octobre", "octubre", "outubro", "ottobre"],
    "nov": ["nov", "november", "novembre", "noviembre", "novembro"],
    "dec": [
        "dec",
        "déc",
        "dez",
        "dic",
        "dezember",
        "décembre",
        "diciembre",
        "dezembro",
        "dicembre",
    ],
}
_MONTH_OF = {alias: en for en, aliases in _MONTHS.items() for alias in aliases}
_WORD = re.compile(r"[^\W\d_]+\.?", re.UNICODE)
_FORMATS = [
    "%b %d, %Y, %I:%M:%S %p",  # en-US: Jan 5, 2024, 7:00:00 AM
    "%b %d, %Y %I:%M:%S %p",
    "%d %b %Y, %H:%M:%S",  # en-GB: 5 Jan 2024, 07:00:00
    "%d %b %Y %H:%M:%S",
    "%d %b, %Y, %H:%M:%S",
    "%b %d, %Y, %H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%SZ",
    "%d.%m.%Y, %H:%M:%S",  # de: 05.01.2024, 07:00:00
    "%d.%m.%Y %H:%M:%S",
    "%d/%m/%Y, %H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
]


def parse_strava_date(text: str | None) -> pd.Timestamp:
    """A Strava ``Activity Date`` as a UTC Timestamp (NaT when unreadable)."""
    if not text:
        return pd.NaT
    norm = text.replace("\u202f", " ").replace("\u00a0", " ").strip()
    norm = re.sub(r"\s+", " ", _WORD.sub(_month_word, norm.lower()))
    norm = re.sub(r"\b(\d{1,2})\. ", r"\1 ", norm)  # "5. jan 2024" (de)
    norm = norm.replace(" de ", " ").replace(" à ", ", ").replace(" um ", ", ")
    for fmt in _FORMATS:
        try:
            return pd.Timestamp(datetime.strptime(norm, fmt), tz="UTC")  # %b, %p: any case
        except ValueError:
            continue
    return pd.NaT


def _month_word(m: re.Match[str]) -> str:
    word = m.group(0).rstrip(".")
    if word in ("am", "pm", "a", "p"):
        return word
    return _MONTH_OF.get(word, word)


def _dates(texts: list[str | None], warnings: list[str]) -> pd.Series:
    parsed = pd.Series([parse_strava_date(t) for t in texts], dtype="datetime64[ns, UTC]")
    bad = int((parsed.isna() & pd.Series([t is not None for t in texts])).sum())
    if bad:
        warnings.append(f"{bad} Activity Date values not readable: start left missing")
    return parsed
