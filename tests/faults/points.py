"""Small helpers for the fault tests: line protocol, a settable clock, reading InfluxDB back."""

from __future__ import annotations

import pandas as pd

from sensorhub.store import point_line

T0 = pd.Timestamp("2026-03-01", tz="UTC")


def load_lines(value: float, days: int = 30, athlete: str = "eva") -> list[str]:
    """One ``load`` point per day with ``daily_load = value + day`` (a recompute's output)."""
    return [
        point_line(
            "load", {"athlete": athlete}, {"daily_load": value + d}, T0 + pd.Timedelta(days=d)
        )
        for d in range(days)
    ]


def run_lines(n: int, athlete: str = "eva", start_s: int = 0) -> list[str]:
    """``n`` per-second ``run`` points with distinct values."""
    return [
        point_line(
            "run",
            {"athlete": athlete, "sport": "running", "source": "fit"},
            {"hr_bpm": 100.0 + i % 50, "speed_mps": 3.0 + i / 1e4},
            T0 + pd.Timedelta(seconds=start_s + i),
        )
        for i in range(n)
    ]


class Clock:
    """A Unix-seconds clock the test moves by hand (retry schedules, not deadlines)."""

    def __init__(self, t: float = 1_780_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, dt: float) -> None:
        self.t += dt


def load_values(influxd, db: str, athlete: str = "eva") -> dict[int, float]:
    series = influxd.query(db, f"SELECT daily_load FROM load WHERE athlete='{athlete}'")
    return {t: v for s in series for t, v in s["values"]}


def journal_points(lines: list[str]) -> set[tuple[str, tuple, int]]:
    """(series key, sorted float fields, ms) of simple lines (no escaped spaces or strings)."""
    out = set()
    for ln in lines:
        series, fields, t = ln.split(" ")
        kv = sorted((k, float(v)) for k, v in (f.split("=") for f in fields.split(",")))
        out.add((series, tuple(kv), int(t)))
    return out
