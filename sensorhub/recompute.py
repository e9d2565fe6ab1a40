"""Daily load and alerts of an athlete, recomputed from their sessions.

Every change to an athlete's sessions is stored with a durable mark (``journal.mark_dirty``,
in the same transaction as the change). :meth:`Recompute.pending` rebuilds the daily table
(ACWR, monotony, PMC: :mod:`sensorhub.load`) and re-evaluates the alert rules of every marked
athlete, queues the days that changed for InfluxDB and clears the mark in the transaction
that stores the new table — so a crash between storing a file and its recompute is finished
by the next command that opens the journal, and never leaves daily load missing.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from . import faultpoints
from . import load as loadlib
from .alerts import AlertEngine
from .alerts.plans import PlanAlerts
from .config import Config
from .plans import PlanError
from .recorder import session_line
from .store import Journal, SessionRow, delete_span
from .store.lineprotocol import frame_points, to_ms

log = logging.getLogger(__name__)
# Daily load runs on past the last session as rest days up to today, at most this long:
# the CTL time constant, after which an idle athlete's numbers say nothing new.
REST_TAIL_DAYS = 42


class Recompute:
    """Recompute daily load and alerts in ``journal`` (one alert engine per instance)."""

    def __init__(self, cfg: Config, journal: Journal, now: pd.Timestamp | None = None) -> None:
        self.cfg = cfg
        self.journal = journal
        self.now = now
        self.alerts = AlertEngine(cfg, journal, now=now)
        self.plans = PlanAlerts(cfg, journal, now=now)

    def pending(self) -> list[str]:
        """Recompute every athlete marked dirty; returns their ids."""
        done = []
        for athlete, (_since, marks) in self.journal.dirty().items():
            self.athlete(athlete, marks)
            done.append(athlete)
        return done

    def athlete(self, athlete_id: str, marks: int | None = None) -> int:
        """Rebuild one athlete's daily table and alerts; returns the number of days queued."""
        athlete = self.cfg.athlete(athlete_id)
        rows = self.journal.session_rows(athlete_id)
        table, relabelled = pd.DataFrame(), []
        if rows:
            series = self.series(rows)
            relabelled = _relabel(rows, series)
            days = pd.DataFrame({"day": [r.day for r in rows], "load": series.loads.to_numpy()})
            end = self._table_end(max(r.day for r in rows), athlete.tz)
            table = loadlib.load_table(loadlib.daily_series(days, end=end))
        old = self.journal.daily_load(athlete_id)
        changed = _changed_rows(old, table)
        # days the table no longer has (its last session deleted, moved or replaced), and days
        # where a number became NaN (no field is written for it, and InfluxDB keeps a point's
        # other fields): their points would otherwise keep numbers the journal no longer holds
        deletes = [
            delete_span(
                "load", {"athlete": athlete_id}, *(_day_start_utc(d, athlete.tz) for d in span)
            )
            for span in _dropped_spans(old, table) + _emptied_spans(old, changed)
        ]
        starts = pd.DatetimeIndex(changed.index).tz_localize(athlete.tz).tz_convert("UTC")
        lines = frame_points("load", {"athlete": athlete_id}, changed, to_ms(starts))
        with self.journal.transaction():
            for row in relabelled:  # sessions whose load changed to the series' method
                self.journal.update_session(
                    row.id, load=row.load, load_method=row.load_method, summary=row.summary
                )
            self.journal.outbox.enqueue(
                "session", [session_line(r) for r in relabelled], self.cfg.influx.batch_points
            )
            self.journal.replace_daily_load(athlete_id, table)
            self.journal.outbox.enqueue("load", deletes, self.cfg.influx.batch_points)
            self.journal.outbox.enqueue("load", lines, self.cfg.influx.batch_points)
            faultpoints.checkpoint("recompute.mid")
            self.alerts.evaluate_athlete(athlete_id, in_transaction=True)
            if self.journal.diary.plan_state(athlete_id):  # a return-to-run plan: re-decide
                try:
                    self.plans.refresh(athlete_id, in_transaction=True)
                except PlanError as exc:  # a plan file that no longer loads stops nothing else
                    log.warning("plan of %s: %s", athlete_id, exc)
            if marks is not None:
                self.journal.clear_dirty(athlete_id, marks)
        return len(lines)

    def series(self, rows: list[SessionRow]) -> loadlib.SeriesLoads:
        """The athlete's session loads, all in one method (:func:`sensorhub.load.series_loads`:
        the configured primary when their history has it, else the first it has)."""
        minutes = pd.Series([(r.duration_s or np.nan) / 60.0 for r in rows], dtype=float)
        rpe = pd.Series([np.nan if r.rpe is None else r.rpe for r in rows], dtype=float)
        trimp = pd.Series([np.nan if r.trimp is None else r.trimp for r in rows], dtype=float)
        frame = pd.DataFrame({"trimp": trimp, "srpe": rpe * minutes, "duration_min": minutes})
        return loadlib.series_loads(frame, self.cfg.load_primary)

    def all(self, athlete: str | None = None) -> list[str]:
        """Rebuild the named athlete, or every athlete with sessions (``sensorhub rebuild``)."""
        ids = [athlete] if athlete else self.journal.athletes()
        pending = self.journal.dirty()
        for a in ids:
            self.athlete(a, pending.get(a, (None, None))[1])
        return ids

    def _table_end(self, last_day: str, tz: str) -> pd.Timestamp:
        now = self.now or pd.Timestamp.now(tz="UTC")
        today = pd.Timestamp(now.tz_convert(tz).date())
        last = pd.Timestamp(last_day)
        return max(last, min(today, last + pd.Timedelta(days=REST_TAIL_DAYS)))


def _relabel(rows: list[SessionRow], series: loadlib.SeriesLoads) -> list[SessionRow]:
    """Rows whose stored load or method differ from the series' (changed in place); a session
    whose load was estimated or is missing in that method says so in its summary
    (``load_status``; absent means measured)."""
    changed = []
    for row, load, status in zip(rows, series.loads, series.status, strict=True):
        load = None if pd.isna(load) else float(load)
        same_load = (row.load is None and load is None) or (
            row.load is not None and load is not None and abs(row.load - load) < 1e-9
        )
        stored = row.summary.get("load_status", "measured")
        if same_load and row.load_method == series.method and stored == status:
            continue
        row.load, row.load_method = load, series.method
        row.summary = {k: v for k, v in row.summary.items() if k != "load_status"}
        if status != "measured":
            row.summary["load_status"] = status
        changed.append(row)
    return changed


def _day_start_utc(day: pd.Timestamp, tz: str) -> pd.Timestamp:
    return pd.Timestamp(day).tz_localize(tz).tz_convert("UTC")


def _dropped_spans(old: pd.DataFrame, new: pd.DataFrame) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """(first, last) day of each run of days ``old`` has and ``new`` has not: before its start
    and after its end (a daily table has every day between its first and last)."""
    if old.empty:
        return []
    if new.empty:
        return [(old.index.min(), old.index.max())]
    head, tail = old.index[old.index < new.index.min()], old.index[old.index > new.index.max()]
    return [(days.min(), days.max()) for days in (head, tail) if len(days)]


def _emptied_spans(
    old: pd.DataFrame, changed: pd.DataFrame
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """(first, last) day of each run of consecutive days of ``changed`` where a number ``old``
    had is now NaN (e.g. the acute load of the new first day after the first session was
    deleted): line protocol cannot write "no value", so those points are deleted and
    rewritten."""
    if old.empty or changed.empty:
        return []
    num = [c for c in changed.columns if pd.api.types.is_numeric_dtype(changed[c])]
    before = old.reindex(index=changed.index, columns=num)
    days = changed.index[(changed[num].isna() & before.notna()).any(axis=1).to_numpy()]
    spans: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    for day in sorted(days):
        if spans and day - spans[-1][1] == pd.Timedelta(days=1):
            spans[-1] = (spans[-1][0], day)
        else:
            spans.append((day, day))
    return spans


def _changed_rows(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``new`` that differ from ``old`` (numbers within 1e-12, text exactly)."""
    if old.empty or new.empty:
        return new
    old = old.reindex(index=new.index, columns=new.columns)
    num = [c for c in new.columns if pd.api.types.is_numeric_dtype(new[c])]
    text = [c for c in new.columns if c not in num]
    a, b = new[num].to_numpy(dtype=float), old[num].to_numpy(dtype=float)
    same = np.isclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True).all(axis=1)
    for c in text:
        same &= (new[c].astype(str) == old[c].astype(str)).to_numpy()
    return new[~same]
