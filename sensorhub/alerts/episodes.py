"""Hysteresis: observations in time order become alert episodes (open → cleared).

One episode per rule and athlete at a time: while an episode is open, further firing
observations do not open another one (dedup); it closes at the first observation on the
safe side of the rule's clear level. Pure functions, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .rules import Rule


@dataclass
class Episode:
    """One alert: when it opened (the first firing observation) and when it cleared."""

    rule: str
    severity: str
    opened_at: pd.Timestamp
    value: float
    threshold: float
    message: str
    ref: str
    cleared_at: pd.Timestamp | None = None
    cleared_value: float | None = None
    peak: float | None = None  # most extreme value while open

    @property
    def open(self) -> bool:
        return self.cleared_at is None


def episodes(obs: pd.DataFrame, rule: Rule, is_open: bool = False) -> list[Episode]:
    """Episodes of ``rule`` over observations ``obs`` (sorted by time).

    ``is_open``: an episode was already open before the first observation (incremental
    evaluation); the first clearing observation then closes it as an episode with
    ``opened_at`` NaT.
    """
    out: list[Episode] = []
    current: Episode | None = None
    if is_open:
        current = Episode(rule.name, rule.severity, pd.NaT, float("nan"), rule.threshold, "", "")
    obs = obs.sort_index()
    values = [float(x) for x in obs["value"].tolist()]
    for i, (t, v) in enumerate(zip(obs.index, values, strict=True)):
        if current is None:
            if rule.fires(v):
                row = obs.iloc[i]  # the whole row only where an episode opens (no iterrows)
                current = Episode(
                    rule.name,
                    rule.severity,
                    t,
                    v,
                    rule.threshold,
                    rule.describe(row),
                    str(row.get("ref", "")),
                    peak=v,
                )
                out.append(current)
        elif rule.clears(v):
            current.cleared_at, current.cleared_value = t, v
            if pd.isna(current.opened_at):
                out.append(current)
            current = None
        elif current.peak is not None and abs(v) > abs(current.peak):
            current.peak = v
    return out
