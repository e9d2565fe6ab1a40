"""The one place where a source becomes stored results.

``Pipeline.ingest(paths)``: decode each file, normalise it into sessions, summarise them,
compute session load, store sources/sessions in the journal and queue line protocol in
the outbox — one SQLite transaction per file, so a crash never leaves half a file. Then
recompute daily load (ACWR, monotony, PMC) for every athlete touched, queue the days that
changed, and ship the outbox when InfluxDB is configured.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import drivers.fit
from drivers.fit import FitError, FitMessages

from . import load as loadlib
from .config import Athlete, Config
from .fitmeta import device_serials, fit_file_id, hr_params
from .imu import IMU_SUFFIXES, ImuInputError, imu_session, read_recording
from .normalise import SessionFrame
from .normalise import sessions as split_sessions
from .session import summarise
from .store import FlushReport, InfluxWriter, Journal, frame_to_lines, point_line

FIT_SUFFIXES = {".fit"}
# Daily load runs on past the last session as rest days up to today, at most this long:
# the CTL time constant, after which an idle athlete's numbers say nothing new.
REST_TAIL_DAYS = 42
MAX_NOTES = 3
# FIT messages the pipeline reads (the others stay undecoded in the lazy FitMessages).
PIPELINE_MESSAGES = (
    "file_id",
    "device_info",
    "user_profile",
    "sport",
    "session",
    "record",
)  # warnings shown in a file's one-line report


@dataclass
class FileResult:
    """What happened to one input file."""

    path: Path
    status: str  # ingested | duplicate | skipped | failed
    message: str = ""
    sessions: int = 0
    points: int = 0
    partial: bool = False

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def line(self) -> str:
        """One line for the user: ``path: what happened``."""
        return f"{self.path}: {self.message or self.status}"


@dataclass
class IngestReport:
    files: list[FileResult] = field(default_factory=list)
    flush: FlushReport | None = None
    timings: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.failed]


def find_inputs(paths: Iterable[str | Path], imu: bool = False) -> list[Path]:
    """Files named explicitly, plus every ``*.fit`` below the folders named (and IMU
    ``*.csv``/``*ACC*.txt`` files when ``imu``: a folder of CSVs is not assumed to be IMU data)."""
    suffixes = FIT_SUFFIXES | (IMU_SUFFIXES if imu else set())
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in suffixes)
            out += [f for f in files if not _is_companion(f)]
        else:
            out.append(p)
    return out


def _is_companion(f: Path) -> bool:
    """Files read together with another: a Polar GYRO export, reference event tables."""
    return f.name.endswith(".events.csv") or (f.suffix.lower() == ".txt" and "GYRO" in f.name)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Pipeline:
    """Ingest files into the journal (and InfluxDB through the outbox).

    Args:
        cfg: the configuration (athletes, InfluxDB, load method).
        journal: an open journal; by default the one in ``cfg.home``.
        athlete: force every file to this athlete (``--athlete``).
        now: the current time, injectable for tests.
        placement: where an IMU pod sat (``foot``, ``shank``, ``sacrum``); IMU files need it.
        side: the leg of a single shank/foot pod (``L``/``R``), when known.
        right: the right pod's recording when the IMU file ingested is the left pod's.
    """

    def __init__(
        self,
        cfg: Config,
        journal: Journal | None = None,
        athlete: str | None = None,
        now: pd.Timestamp | None = None,
        placement: str | None = None,
        side: str | None = None,
        right: Path | None = None,
    ) -> None:
        self.cfg = cfg
        self.placement = placement
        self.side = side
        self.right = Path(right) if right else None
        self.journal = journal or Journal(cfg.journal_path)
        self.athlete_override = athlete
        self.now = now
        self.timings: dict[str, float] = defaultdict(float)

    # -- files ------------------------------------------------------------------
    def ingest(
        self, paths: Iterable[str | Path], progress: Callable[[FileResult], None] | None = None
    ) -> IngestReport:
        report = IngestReport(timings=self.timings)
        touched: dict[str, pd.Timestamp] = {}
        for path in find_inputs(paths, imu=self.placement is not None):
            result, athletes = self._ingest_one(path)
            report.files.append(result)
            for a in athletes:
                touched[a] = min(touched.get(a, pd.Timestamp.max.tz_localize("UTC")), athletes[a])
            if progress:
                progress(result)
        self.update_load(touched)
        report.flush = self.flush()
        return report

    def _ingest_one(self, path: Path) -> tuple[FileResult, dict[str, pd.Timestamp]]:
        try:
            return self.ingest_file(path)
        except (FitError, ImuInputError) as exc:
            return FileResult(path, "failed", f"{exc}"), {}
        except OSError as exc:
            return FileResult(path, "failed", f"cannot read ({exc.strerror or exc})"), {}
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the others
            return FileResult(path, "failed", f"unexpected {type(exc).__name__}: {exc}"), {}

    def ingest_file(self, path: Path) -> tuple[FileResult, dict[str, pd.Timestamp]]:
        """Ingest one FIT file; returns the result and {athlete: earliest session start}."""
        if not path.is_file():
            return FileResult(path, "failed", "no such file"), {}
        data = path.read_bytes()  # read once: hashed here, decoded below
        sha = hashlib.sha256(data).hexdigest()
        if self.journal.source_by_sha(sha):
            return FileResult(path, "duplicate", "already ingested (same bytes)"), {}
        if path.suffix.lower() in IMU_SUFFIXES:
            if self.right:  # a left/right pair is one source: both files' bytes identify it
                sha = hashlib.sha256((sha + sha256_of(self.right)).encode()).hexdigest()
                if self.journal.source_by_sha(sha):
                    return FileResult(path, "duplicate", "already ingested (same pod pair)"), {}
            return self.ingest_imu(path, sha)
        t0 = time.perf_counter()
        msgs = drivers.fit.decode(data)
        for name in PIPELINE_MESSAGES:  # frames are built lazily: count building as decoding
            msgs.frame(name)
        t1 = time.perf_counter()
        self.timings["decode"] += t1 - t0
        file_id = fit_file_id(msgs)
        if file_id and self.journal.source_by_file_id(file_id):
            return FileResult(
                path, "duplicate", f"already ingested (same FIT file_id {file_id})"
            ), {}
        sessions = split_sessions(msgs, now=self.now)
        self.timings["normalise"] += time.perf_counter() - t1
        n_records = len(msgs.frame("record"))
        if n_records and not sessions:
            raise FitError(
                f"{n_records} records but none has a usable UTC timestamp (missing, or device-relative time)"
            )
        athlete = self.resolve_athlete(msgs)
        return self._store(path, sha, file_id, msgs, sessions, athlete)

    def _store(
        self,
        path: Path,
        sha: str,
        file_id: str | None,
        msgs: FitMessages,
        sessions: list[SessionFrame],
        athlete: Athlete,
    ) -> tuple[FileResult, dict[str, pd.Timestamp]]:
        hr_rest, hr_max, sex = hr_params(athlete, msgs)
        identity = file_id or sha
        n_points, earliest = 0, None
        with self.journal.transaction():
            source_id = self.journal.add_source(
                path=str(path),
                sha256=sha,
                fit_file_id=file_id,
                kind="fit",
                athlete=athlete.id,
                ingested_at=pd.Timestamp.now(tz="UTC").isoformat(),
                n_sessions=len(sessions),
                n_records=int(sum(len(s.run) for s in sessions)),
                partial=int(msgs.partial),
                message=msgs.error or "; ".join(msgs.warnings) or None,
            )
            for sf in sessions:
                t0 = time.perf_counter()
                row, lines = self._session_rows(
                    sf, identity, source_id, athlete, (hr_rest, hr_max, sex), msgs.partial
                )
                self.timings["serialise"] += time.perf_counter() - t0
                self.journal.add_session(row)
                n_points += self._enqueue(lines)
                earliest = sf.start if earliest is None else min(earliest, sf.start)
        msg = _describe(sessions, n_points, msgs)
        status = "ingested" if sessions else "skipped"
        result = FileResult(path, status, msg, len(sessions), n_points, msgs.partial)
        return result, ({athlete.id: earliest} if earliest is not None else {})

    def _session_rows(
        self,
        sf: SessionFrame,
        identity: str,
        source_id: int,
        athlete: Athlete,
        hr: tuple[float | None, float | None, str],
        partial: bool,
    ) -> tuple[dict[str, Any], dict[str, list[str]]]:
        summary = summarise(sf)
        trimp = None
        if hr[0] and hr[1] and "hr_bpm" in sf.run:
            trimp = loadlib.trimp_banister(sf.run["hr_bpm"], hr[0], hr[1], hr[2])
        duration_min = summary.get("duration_s", 0.0) / 60.0
        load, method = loadlib.session_load(
            trimp=trimp, duration_min=duration_min, primary=self.cfg.load_primary
        )
        sid = session_id(identity, sf.index)
        row = {
            "id": sid,
            "source_id": source_id,
            "athlete": athlete.id,
            "sport": sf.sport,
            "sub_sport": sf.sub_sport,
            "start": sf.start.isoformat(),
            "end": sf.end.isoformat(),
            "day": local_day(sf.start, athlete.tz),
            "duration_s": summary.get("duration_s"),
            "distance_m": summary.get("distance_m"),
            "trimp": trimp,
            "load": load,
            "load_method": method,
            "partial": int(partial),
            "summary": summary,
        }
        tags = {"athlete": athlete.id, "sport": sf.sport, "source": "fit"}
        fields = {
            **summary,
            "trimp": trimp,
            "load": load,
            "load_method": method,
            "session_id": sid,
            "partial": bool(partial),
        }
        line = point_line("session", {"athlete": athlete.id, "sport": sf.sport}, fields, sf.start)
        return row, {"run": frame_to_lines("run", sf.run, tags), "session": [line] if line else []}

    def _enqueue(self, lines: dict[str, list[str]]) -> int:
        n = 0
        for measurement, ls in lines.items():
            self.journal.outbox.enqueue(measurement, ls, self.cfg.influx.batch_points)
            n += len(ls)
        return n

    def ingest_imu(self, path: Path, sha: str) -> tuple[FileResult, dict[str, pd.Timestamp]]:
        """One IMU recording → one running session with a ``stride`` point per step."""
        if self.placement is None:
            raise ImuInputError(
                "IMU recording: say where the pod was with --placement foot|shank|sacrum"
            )
        rec = read_recording(path)
        right = read_recording(self.right) if self.right else None
        ses = imu_session(rec, self.placement, self.side, right)
        athlete = self.cfg.athlete(self.athlete_override or self.cfg.default_athlete)
        duration_min = ses.summary["duration_s"] / 60.0
        load, method = loadlib.session_load(
            duration_min=duration_min, primary=self.cfg.load_primary
        )
        sid = session_id(sha, 0)
        lines = []
        for side, part in ses.strides.groupby(ses.strides["side"].fillna(""), sort=True):
            tags = {"athlete": athlete.id, "side": side, "placement": self.placement}
            lines += frame_to_lines("stride", part.drop(columns="side"), tags)
        fields = {
            **ses.summary,
            "load": load,
            "load_method": method,
            "session_id": sid,
            "partial": False,
        }
        line = point_line("session", {"athlete": athlete.id, "sport": "running"}, fields, ses.start)
        with self.journal.transaction():
            source_id = self.journal.add_source(
                path=str(path),
                sha256=sha,
                fit_file_id=None,
                kind=f"imu:{self.placement}",
                athlete=athlete.id,
                ingested_at=pd.Timestamp.now(tz="UTC").isoformat(),
                n_sessions=1,
                n_records=len(rec.frame),
                partial=0,
                message="; ".join(ses.warnings) or None,
            )
            self.journal.add_session(
                {
                    "id": sid,
                    "source_id": source_id,
                    "athlete": athlete.id,
                    "sport": "running",
                    "sub_sport": self.placement,
                    "start": ses.start.isoformat(),
                    "end": ses.end.isoformat(),
                    "day": local_day(ses.start, athlete.tz),
                    "duration_s": ses.summary["duration_s"],
                    "distance_m": None,
                    "trimp": None,
                    "load": load,
                    "load_method": method,
                    "partial": 0,
                    "summary": ses.summary,
                }
            )
            n = self._enqueue({"stride": lines, "session": [line] if line else []})
        msg = (
            f"1 session [running, IMU {self.placement}], {ses.summary['records']} steps, {n} points"
        )
        if ses.warnings:
            msg += "; " + "; ".join(ses.warnings)
        return FileResult(path, "ingested", msg, 1, n), {athlete.id: ses.start}

    # -- athletes ---------------------------------------------------------------
    def resolve_athlete(self, msgs: FitMessages) -> Athlete:
        """``--athlete`` wins, then a configured device serial number, then the default."""
        if self.athlete_override:
            return self.cfg.athlete(self.athlete_override)
        for serial in device_serials(msgs):
            a = self.cfg.athlete_for_device(serial)
            if a:
                return a
        return self.cfg.athlete(self.cfg.default_athlete)

    # -- load -------------------------------------------------------------------
    def update_load(self, touched: dict[str, Any]) -> None:
        """Recompute the daily table of each athlete touched and queue the days that changed.

        A backfilled session from last month changes every later day's acute, chronic and
        ACWR values; comparing with the stored table sends exactly those days again.
        """
        for athlete_id in sorted(touched):
            self.recompute_athlete(athlete_id)

    def recompute_athlete(self, athlete_id: str) -> int:
        athlete = self.cfg.athlete(athlete_id)
        sessions = self.journal.sessions(athlete_id)
        if sessions.empty:
            return 0
        end = self._table_end(sessions["day"].max(), athlete.tz)
        daily = loadlib.daily_series(sessions[["day", "load"]], end=end)
        table = loadlib.load_table(daily)
        old = self.journal.daily_load(athlete_id)
        changed = _changed_rows(old, table)
        lines = [
            point_line("load", {"athlete": athlete_id}, row, _day_start_utc(day, athlete.tz))
            for day, row in changed.to_dict("index").items()
        ]
        with self.journal.transaction():
            self.journal.replace_daily_load(athlete_id, table)
            self.journal.outbox.enqueue(
                "load", [ln for ln in lines if ln], self.cfg.influx.batch_points
            )
        self._evaluate_alerts(athlete_id)
        return len(lines)

    def _evaluate_alerts(self, athlete_id: str) -> None:
        """Alert rules over the athlete's sessions and days (sensorhub.alerts)."""
        from .alerts import AlertEngine

        AlertEngine(self.cfg, self.journal, now=self.now).evaluate_athlete(athlete_id)

    def _table_end(self, last_day: str, tz: str) -> pd.Timestamp:
        now = self.now or pd.Timestamp.now(tz="UTC")
        today = pd.Timestamp(now.tz_convert(tz).date())
        last = pd.Timestamp(last_day)
        return max(last, min(today, last + pd.Timedelta(days=REST_TAIL_DAYS)))

    # -- RPE / pain ----------------------------------------------------------------
    def log_session(
        self, session_id_prefix: str, rpe: float | None = None, pain: float | None = None
    ) -> str:
        """Record RPE (CR-10) and/or pain (0–10) for a session; recompute its load."""
        found = self.journal.find_sessions(session_id_prefix)
        if len(found) != 1:
            raise KeyError(f"{len(found)} sessions match {session_id_prefix!r}")
        s = dict(found[0])
        for name, v in (("rpe", rpe), ("pain", pain)):
            if v is not None and not 0 <= v <= 10:
                raise ValueError(f"{name} must be between 0 and 10, not {v}")
        rpe = rpe if rpe is not None else s["rpe"]
        pain = pain if pain is not None else s["pain"]
        duration_min = (s["duration_s"] or 0.0) / 60.0
        srpe = loadlib.srpe(rpe, duration_min) if rpe is not None else None
        load, method = loadlib.session_load(
            trimp=s["trimp"], srpe=srpe, duration_min=duration_min, primary=self.cfg.load_primary
        )
        fields = {"rpe": rpe, "pain": pain, "srpe": srpe, "load": load, "load_method": method}
        with self.journal.transaction():
            self.journal.update_session(s["id"], rpe=rpe, pain=pain, load=load, load_method=method)
            line = point_line(
                "session",
                {"athlete": s["athlete"], "sport": s["sport"]},
                fields,
                pd.Timestamp(s["start"]),
            )
            self.journal.outbox.enqueue(
                "session", [line] if line else [], self.cfg.influx.batch_points
            )
        self.recompute_athlete(s["athlete"])
        return s["id"]

    # -- shipping -------------------------------------------------------------------
    def flush(self) -> FlushReport | None:
        """Ship the outbox when InfluxDB is configured; None when it is not."""
        self._send_webhooks()
        if not self.cfg.influx.enabled:
            return None
        t0 = time.perf_counter()
        writer = InfluxWriter(self.cfg.influx)
        try:
            return writer.flush(self.journal)
        finally:
            writer.close()
            self.timings["write"] += time.perf_counter() - t0

    def _send_webhooks(self) -> None:
        """Ship due alert webhooks (sensorhub.alerts); failures stay queued for later."""
        from .alerts import WebhookSender, alert_config
        from .store.alerts import AlertStore

        ac = alert_config(self.cfg)
        if ac.webhook_url:
            sender = WebhookSender(ac, AlertStore(self.journal))
            try:
                sender.flush(now=self.now)
            finally:
                sender.close()


# -- helpers ---------------------------------------------------------------------------
def session_id(identity: str, index: int) -> str:
    """A stable id: the same file gives the same ids whatever its path."""
    return hashlib.sha1(f"{identity}#{index}".encode()).hexdigest()[:12]


def local_day(t: pd.Timestamp, tz: str) -> str:
    return t.tz_convert(tz).strftime("%Y-%m-%d")


def _day_start_utc(day: pd.Timestamp, tz: str) -> pd.Timestamp:
    return pd.Timestamp(day).tz_localize(tz).tz_convert("UTC")


def _changed_rows(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    if old.empty:
        return new
    old = old.reindex(index=new.index, columns=new.columns)
    a, b = new.to_numpy(dtype=float), old.to_numpy(dtype=float)
    same = np.isclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True).all(axis=1)
    return new[~same]


def _describe(sessions: list[SessionFrame], n_points: int, msgs: FitMessages) -> str:
    if not sessions:
        return "no activity in this file (nothing to ingest)"
    sports = ",".join(dict.fromkeys(s.sport for s in sessions))
    msg = f"{len(sessions)} session(s) [{sports}], {n_points} points"
    merged = sum(s.duplicates_merged for s in sessions)
    if merged:
        msg += f", {merged} duplicate timestamps merged"
    notes = [w for s in sessions for w in s.warnings] + msgs.warnings
    if len(notes) > MAX_NOTES:  # a damaged file can warn hundreds of times: one line stays short
        notes = notes[:MAX_NOTES] + [f"(+{len(notes) - MAX_NOTES} more warnings)"]
    if msgs.partial:
        notes.insert(0, f"PARTIAL: {msgs.error}")
    return msg + ("; " + "; ".join(notes) if notes else "")
