"""Return-to-run histories for tests, built the way an athlete's data arrive.

Day by day: a walk–run FIT file written by the project's fixture generator
(``fixtures/generate_fit.py``: :class:`WalkRun`, :func:`simulate_walk_run`,
:func:`build_walk_run_fit`) and ingested through the real :class:`~sensorhub.pipeline.Pipeline`;
symptom check-ins stored through the check-in source and the recorder (what
``sensorhub checkin`` does); readiness tests through ``sensorhub test hop`` on the demo
recordings; and the plan's answer of that day from ``sensorhub plan status --json --on DAY``
(the in-process CLI). The plan is started with ``sensorhub plan start``.

The athlete is ``dana``: cara's generator model (jog 2.45 m/s, walk 1.6 m/s) with her own
watch serial. Every history starts on :data:`START` (a Monday); session ``n`` is on day
``START + n`` at 07:30 London time. FIT files are written once per test run into a shared
folder (building one costs 0.5–1 s) and reused by every history that has the same session.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer
from click.testing import CliRunner

from sensorhub.cli import app
from sensorhub.config import load_config
from sensorhub.pipeline import Pipeline
from sensorhub.plans import parse_checkin
from sensorhub.recorder import Recorder
from sensorhub.sources.checkin import checkin_source
from sensorhub.store import Journal

ROOT = Path(__file__).resolve().parents[1]
HOP = ROOT / "fixtures" / "readiness"  # hop_L.csv / hop_R.csv: the left hops lower (LSI 77 %)
START = dt.date(2026, 9, 7)  # a Monday: day 0 of every history
TZ = "Europe/London"
SERIAL = 3901000099
CONFIG = f"""[[athletes]]
id = "dana"
name = "Dana"
sex = "female"
hr_rest = 52
hr_max = 186
tz = "{TZ}"
devices = ["{SERIAL}"]
"""


def _module(name: str, path: Path) -> Any:
    """A generator script as a module (the fixtures folder is not a package)."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the file runs
        spec.loader.exec_module(module)
    return sys.modules[name]


# the click command behind ``sensorhub``, built once: typer's CliRunner builds it on every
# invoke (~0.1 s, a third of a ``plan status``); the command and its callbacks are the same
SENSORHUB = typer.main.get_command(app)
gen = _module("generate_fit", ROOT / "fixtures" / "generate_fit.py")
hop_gen = _module("generate_readiness", HOP / "generate.py")
ATHLETE = dataclasses.replace(gen.CARA, id="dana", name="Dana", serial=SERIAL)
NORMAL_BALANCE = gen.WalkRun.balance_left_pct  # 50.6 % left: SI = 4 (B - 50) = +2.4 %


@dataclass(frozen=True)
class Rx:
    """What the athlete did in one session: ``reps`` × (run ``run_s``, walk ``walk_s``), s.

    ``balance`` is the centre of the GCT balance of the running records (% left);
    ``sport="walking"`` with ``run_s=0`` is a walk.
    """

    run_s: int
    walk_s: int
    reps: int
    balance: float = NORMAL_BALANCE
    sport: str = "running"

    @property
    def tag(self) -> str:
        return f"{self.sport}-r{self.run_s}w{self.walk_s}x{self.reps}-b{self.balance:.1f}"


def day_of(n: int) -> dt.date:
    return START + dt.timedelta(days=n)


def walk_run_fit(folder: Path, day: dt.date, rx: Rx) -> Path:
    """The FIT file of ``rx`` done on ``day`` at 07:30 local (written once, then reused)."""
    path = folder / f"{day:%Y-%m-%d}-{rx.tag}.fit"
    if path.exists():
        return path
    start = dt.datetime(day.year, day.month, day.day, 7, 30, tzinfo=ZoneInfo(TZ))
    minutes = (rx.run_s + rx.walk_s) * rx.reps // 60
    run = gen.WalkRun(
        ATHLETE,
        (day - START).days // 7,
        start,
        minutes,
        "walk-run",
        rx.run_s,
        rx.walk_s,
        rx.reps,
        balance_left_pct=rx.balance,
        sport=rx.sport,
    )
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(gen.build_walk_run_fit(run, gen.simulate_walk_run(run)))
    tmp.replace(path)
    return path


def hop_recording(folder: Path) -> Path:
    """A left-leg hop recording by the readiness generator (fixtures/readiness/generate.py),
    nearly as high as the demo's right leg (flight 0.41 s vs 0.42 s)."""
    path = folder / "hop_L_recovered.csv"
    if not path.exists():
        frame, _ = hop_gen.hops(
            flight_s=0.41, contact_s=0.22, fs=400, rotation=[20, -35, 110], seed=11
        )
        folder.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, index=False, float_format="%.5g")
    return path


class PlanHistory:
    """One athlete's journal (in ``home``) on a plan, fed day by day.

    Args:
        home: an empty state dir (the config is written into it).
        fits: the shared folder of generated FIT files.
        template: the plan template, started from :data:`START`; or
        state: a plan-state file's values (``template``, ``start_stage``, ``baseline_si_pct``…)
            for ``plan start --state``, e.g. a clinician starting at stage 2.
        site: the body site of the check-ins.
    """

    def __init__(
        self,
        home: Path,
        fits: Path,
        template: str,
        state: dict[str, Any] | None = None,
        site: str = "achilles",
    ) -> None:
        self.home, self.fits, self.site = home, fits, site
        home.mkdir(parents=True, exist_ok=True)
        (home / "config.toml").write_text(CONFIG, encoding="utf-8")
        self.cfg = load_config(home=home)
        self.runner = CliRunner()
        # one connection for the history's own writes (opening a journal costs ~0.1 s); the
        # CLI opens its own, as a second process would
        self.journal = Journal(self.cfg.journal_path)
        self.pipeline = Pipeline(self.cfg, self.journal)
        self.recorder = Recorder(self.cfg, self.journal)
        self.session_days: set[dt.date] = set()
        if state is None:
            self.cli(
                "plan", "start", "--athlete", "dana", "--template", template, "--from", f"{START}"
            )
        else:
            lines = [f'template = "{template}"', f"start_day = {START}"]
            lines += [f"{k} = {json.dumps(v)}" for k, v in state.items()]
            path = home / "plan-state.toml"
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            self.cli("plan", "start", "--athlete", "dana", "--state", str(path))

    def close(self) -> None:
        self.journal.close()

    def __enter__(self) -> PlanHistory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def cli(self, *args: str) -> str:
        """Run ``sensorhub --home HOME ARGS`` in-process; its stdout (exit 0 asserted)."""
        r = self.runner.invoke(SENSORHUB, ["--home", str(self.home), *args])
        assert r.exit_code == 0, (args, r.output)
        return r.stdout

    def session(self, n: int, rx: Rx) -> None:
        """Ingest the FIT file of ``rx`` on day ``n`` through the pipeline."""
        path = walk_run_fit(self.fits, day_of(n), rx)
        report = self.pipeline.ingest([path])
        assert [f.status for f in report.files] == ["ingested"], report.files
        self.session_days.add(day_of(n))

    def checkin(self, n: int, when: str, pain: float, stiffness: float = 0.0) -> None:
        """One check-in on day ``n`` through the check-in source (what ``sensorhub checkin``
        stores; the replay happens in the next ``status``)."""
        c = parse_checkin(
            {
                "day": day_of(n).isoformat(),
                "when": when,
                "site": self.site,
                "side": "L",
                "pain": pain,
                "stiffness": stiffness,
            }
        )
        self.recorder.record(checkin_source("dana", c, TZ))

    def morning(self, n: int, pain: float) -> None:
        """The morning rating of day ``n``: ``next-morning`` after a session day, else
        ``rest-day``."""
        after_session = day_of(n - 1) in self.session_days
        self.checkin(n, "next-morning" if after_session else "rest-day", pain)

    def hop(self, n: int, symmetric: bool, pain: float = 0.0) -> None:
        """A hop test of the involved left leg on day ``n`` at 18:00 UTC (``sensorhub test
        hop``): the demo recordings (height LSI 77 %), or with ``symmetric`` a left leg
        that flies 0.41 s against the right's 0.42 s (height LSI ≈ 97 %)."""
        left = hop_recording(self.fits) if symmetric else HOP / "hop_L.csv"
        self.cli(
            "test",
            "hop",
            "--athlete",
            "dana",
            "--left",
            str(left),
            "--right",
            str(HOP / "hop_R.csv"),
            "--placement",
            "shank",
            "--involved",
            "L",
            "--pain",
            f"{pain:g}",
            "--start",
            f"{day_of(n)}T18:00:00Z",
        )

    def status(self, n: int) -> dict[str, Any]:
        """``sensorhub plan status --athlete dana --json --on DAY`` of day ``n``."""
        return json.loads(
            self.cli("plan", "status", "--athlete", "dana", "--json", "--on", f"{day_of(n)}")
        )
