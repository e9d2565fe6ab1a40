"""Every plan template against day-by-day histories built from real FIT files.

Each case is one athlete's history (tests/plan_history.py): walk–run FIT files written by
the project's generator and ingested through the pipeline, check-ins, hop tests, and after
every day the answer of ``sensorhub plan status --json --on DAY``. The decision is asserted
exactly, the reasons by their key phrases. Every history starts on Mon 7 Sep 2026 with two
rest-day mornings at pain 1/10 the days before, so the pain baseline is 1/10.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .plan_history import PlanHistory, Rx

S1 = Rx(60, 240, 6)  # walk-run / achilles stage 1: run 1 min / walk 4 min × 6
S1_LONG = Rx(60, 240, 7)  # one repetition more: 17 % longer
S1_ASYM = Rx(60, 240, 6, balance=52.5)  # SI ≈ +10 % against the usual +2.4 %
S2 = Rx(120, 180, 6)  # stage 2: run 2 min / walk 3 min × 6
WALK = Rx(0, 1800, 1, sport="walking")  # bone-stress stage 1: walk 30 min
B1 = Rx(60, 240, 5)  # bone-stress stage 2: run 1 min / walk 4 min × 5
B1_LONG = Rx(60, 240, 6)  # 20 % longer
B1_ASYM = Rx(60, 240, 5, balance=52.5)

PENDING = "counts once the next-morning check-in"
LONGER = "longer than your longest of the previous 30 days"
ASYM = "ground-contact-time asymmetry on"


@dataclass(frozen=True)
class Day:
    """What happens on day ``n`` (in this order: the morning rating, the session with its
    during/after ratings, a hop test) and what the plan must say that evening."""

    n: int
    expect: str
    says: tuple[str, ...] = ()
    morning: float | None = None
    run: Rx | None = None
    during: float | None = None
    after: float | None = None
    hop: bool | None = None  # True: a passing (symmetric) hop test, False: the 77 % one
    stage: str | None = None  # the stage of the day's decision
    next_stage: str | None = None  # the stage of the next session
    never: tuple[str, ...] = ()  # phrases no reason may contain


@dataclass(frozen=True)
class Case:
    template: str
    site: str
    days: tuple[Day, ...]
    state: dict[str, Any] | None = None  # plan start --state values (else --template)


def two_sessions(rx: Rx, required: int) -> tuple[Day, ...]:
    """Days 0–2: a clean session, its morning, a second session (every other day)."""
    return (
        Day(0, "repeat", (PENDING, f"0 of {required} clean sessions done"), run=rx),
        Day(1, "repeat", (f"1 of {required} clean sessions done",), morning=1),
        Day(2, "repeat", (PENDING, f"1 of {required} clean sessions done"), run=rx),
    )


def flare(site: str, required: int) -> tuple[Day, ...]:
    """One clean session, then one whose next morning hurts more than the baseline."""
    return (
        *two_sessions(S1, required),
        Day(
            3,
            "repeat",
            (
                f"next-morning {site} pain 3/10 on Thu 10 Sep is above your baseline 1/10 — "
                "repeat this stage",
                f"0 of {required} clean sessions done since the session on Wed 9 Sep",
            ),
            morning=3,
        ),
    )


def two_flares(rx: Rx, site: str, pain: float, back_to: str, required: int) -> tuple[Day, ...]:
    """Started at stage 2 by the clinician; two sessions each followed by a flare; back at
    stage 1 (``back_to``, ``required`` clean sessions) the count starts from 0."""
    hurt = f"next-morning {site} pain {pain:g}/10 on"
    return (
        Day(0, "repeat", (PENDING,), run=rx, stage="Walk-run 1" if rx is B1 else "Walk-run 2"),
        Day(1, "repeat", (f"{hurt} Tue 8 Sep is above your baseline 1/10",), morning=pain),
        Day(2, "repeat", (PENDING,), run=rx),
        Day(
            3,
            "step-back",
            (
                f"{hurt} Thu 10 Sep",
                "two flares within 14 days (after the sessions on Mon 7 Sep and Wed 9 Sep) "
                "— step back to stage 1",
            ),
            morning=pain,
            next_stage=back_to,
        ),
        Day(4, "repeat", (f"0 of {required} clean sessions done —",), morning=1, stage=back_to),
    )


def back_to_back(rx: Rx, required: int) -> tuple[Day, ...]:
    b2b = "you ran on Mon 7 Sep and Tue 8 Sep; this stage needs a rest day between runs"
    return (
        Day(0, "repeat", (PENDING,), run=rx),
        Day(1, "repeat", (b2b, PENDING), morning=1, run=rx),
        Day(2, "repeat", (b2b, f"1 of {required} clean sessions done"), morning=1),
    )


def too_long(rx: Rx, longer: Rx, expect: str, count: str) -> tuple[Day, ...]:
    """A session one repetition longer than the first: flagged, and still counted."""
    return (
        Day(0, "repeat", (PENDING,), run=rx),
        Day(1, "repeat", ("1 of",), morning=1, never=(LONGER,)),
        Day(2, "repeat", (LONGER, "Frandsen"), run=longer),
        Day(3, expect, (LONGER, count), morning=1),
    )


def asym_first_week(rx: Rx, asym: Rx, required: int) -> tuple[Day, ...]:
    """Two symmetric sessions set the first-week baseline; the third is asymmetric."""
    worse = (f"{ASYM} Fri 11 Sep was +", "(the plan's first week) — repeat this stage")
    return (
        *two_sessions(rx, required),
        Day(3, "repeat", (f"2 of {required} clean sessions done",), morning=1, never=(ASYM,)),
        Day(4, "repeat", (*worse, PENDING), run=asym),
        Day(
            5,
            "repeat",
            (*worse, f"0 of {required} clean sessions done since the session on Fri 11 Sep"),
            morning=1,
        ),
    )


CASES = {
    # -- walk-run: 2 clean sessions per stage, pain ≤ 3/10 during and after, rest day between runs
    "walk-run/clean progression": Case(
        "walk-run",
        "knee",
        (
            *two_sessions(S1, 2),
            Day(
                3,
                "progress",
                ("2 of 2 clean sessions done — progress",),
                morning=1,
                next_stage="Walk-run 2",
                never=(LONGER, ASYM),
            ),
            Day(4, "repeat", ("0 of 2 clean sessions done",), morning=1, stage="Walk-run 2"),
        ),
    ),
    "walk-run/pain after above 3": Case(
        "walk-run",
        "knee",
        (
            Day(
                0,
                "repeat",
                ("pain after the session on Mon 7 Sep was 4/10, above the limit 3/10",),
                run=S1,
                after=4,
            ),
        ),
    ),
    "walk-run/next-morning flare": Case("walk-run", "knee", flare("knee", 2)),
    "walk-run/two flares": Case(
        "walk-run", "knee", two_flares(S2, "knee", 3, "Walk-run 1", 2), {"start_stage": 1}
    ),
    "walk-run/back-to-back": Case("walk-run", "knee", back_to_back(S1, 2)),
    "walk-run/too long": Case(
        "walk-run",
        "knee",
        too_long(S1, S1_LONG, "progress", "2 of 2 clean sessions done — progress"),
    ),
    "walk-run/asymmetry vs the clinician's baseline": Case(
        "walk-run",
        "knee",
        (
            Day(0, "repeat", (PENDING,), run=S1),
            Day(1, "repeat", ("1 of 2 clean sessions done",), morning=1, never=(ASYM,)),
            Day(
                2,
                "repeat",
                (
                    f"{ASYM} Wed 9 Sep was +",
                    "further from symmetric than your baseline +2.0 %",
                    "set by your clinician",
                ),
                run=S1_ASYM,
            ),
            Day(
                3,
                "repeat",
                (f"{ASYM} Wed 9 Sep", "0 of 2 clean sessions done since the session on Wed 9 Sep"),
                morning=1,
            ),
        ),
        {"baseline_si_pct": 2.0},
    ),
    "walk-run/asymmetry vs the first week": Case(
        "walk-run",
        "knee",
        (
            Day(0, "repeat", (PENDING,), run=S1),
            Day(1, "repeat", ("1 of 2 clean sessions done",), morning=1),
            # the first week's baseline is the other session (+2.4 %), never this one itself
            Day(2, "repeat", (f"{ASYM} Wed 9 Sep was +", "baseline +2."), run=S1_ASYM),
            Day(
                3,
                "repeat",
                ("0 of 2 clean sessions done since the session on Wed 9 Sep",),
                morning=1,
            ),
        ),
    ),
    # -- achilles: 3 clean sessions per stage, pain ≤ 5/10, back to baseline next morning
    "achilles/clean progression, pain after 4/10 is acceptable": Case(
        "achilles-silbernagel",
        "achilles",
        (
            *two_sessions(S1, 3)[:2],
            Day(2, "repeat", (PENDING, "1 of 3 clean sessions done"), run=S1, after=4),
            Day(3, "repeat", ("2 of 3 clean sessions done",), morning=1, never=("pain after",)),
            Day(4, "repeat", (PENDING,), run=S1),
            Day(
                5,
                "progress",
                ("3 of 3 clean sessions done — progress",),
                morning=1,
                next_stage="Walk-run 2",
                never=(LONGER, ASYM),
            ),
        ),
    ),
    "achilles/next-morning flare": Case("achilles-silbernagel", "achilles", flare("achilles", 3)),
    "achilles/two flares": Case(
        "achilles-silbernagel",
        "achilles",
        two_flares(S2, "achilles", 3, "Walk-run 1", 3),
        {"start_stage": 1},
    ),
    "achilles/back-to-back": Case("achilles-silbernagel", "achilles", back_to_back(S1, 3)),
    "achilles/too long": Case(
        "achilles-silbernagel",
        "achilles",
        too_long(S1, S1_LONG, "repeat", "2 of 3 clean sessions done — repeat this stage"),
    ),
    "achilles/asymmetry vs the first week": Case(
        "achilles-silbernagel", "achilles", asym_first_week(S1, S1_ASYM, 3)
    ),
    # -- bone stress: pain-free walking and a hop test first, pain ≤ 1/10, slower walk-run
    "bone-stress/walking, hop-test gate, progression": Case(
        "bone-stress",
        "shin",
        (
            Day(0, "repeat", (PENDING,), run=WALK, stage="Walking"),
            Day(1, "repeat", ("1 of 3 clean sessions done", PENDING), morning=1, run=WALK),
            Day(2, "repeat", ("2 of 3 clean sessions done", PENDING), morning=1, run=WALK),
            Day(
                3,
                "repeat",
                (
                    "needs a hop lsi_height_pct ≥ 90 % pain ≤ 0/10 result from the last 14 days",
                    "3 of 3 clean sessions done — repeat this stage",
                ),
                morning=1,
            ),
            Day(
                4,
                "repeat",
                ("hop test on Fri 11 Sep: lsi_height_pct 77 % is below 90 % — not ready",),
                morning=1,
                hop=False,
            ),
            Day(
                5,
                "progress",
                ("3 of 3 clean sessions done — progress",),
                morning=1,
                hop=True,
                next_stage="Walk-run 1",
                never=("hop test",),
            ),
        ),
    ),
    "bone-stress/pain during a walk": Case(
        "bone-stress",
        "shin",
        (
            Day(
                0,
                "rest",
                ("pain during the session on Mon 7 Sep was 2/10, above the limit 1/10",),
                run=WALK,
                during=2,
            ),
            Day(1, "rest", ("pain during the session on Mon 7 Sep",), morning=1),
            Day(4, "repeat", ("0 of 3 clean sessions done since the session on Mon 7 Sep",)),
        ),
    ),
    "bone-stress/next-morning flare": Case(
        "bone-stress",
        "shin",
        (
            Day(0, "repeat", (PENDING,), run=WALK),
            Day(1, "repeat", ("next-morning shin pain 2/10 on Tue 8 Sep",), morning=2),
        ),
    ),
    "bone-stress/two flares": Case(
        "bone-stress", "shin", two_flares(B1, "shin", 2, "Walking", 3), {"start_stage": 1}
    ),
    "bone-stress/back-to-back": Case(
        "bone-stress", "shin", back_to_back(B1, 3), {"start_stage": 1}
    ),
    "bone-stress/too long": Case(
        "bone-stress",
        "shin",
        too_long(B1, B1_LONG, "repeat", "2 of 3 clean sessions done — repeat this stage"),
        {"start_stage": 1},
    ),
    "bone-stress/asymmetry vs the first week": Case(
        "bone-stress", "shin", asym_first_week(B1, B1_ASYM, 3), {"start_stage": 1}
    ),
}


@pytest.fixture(scope="module")
def fits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """FIT files shared by the histories of this module (each written once)."""
    return tmp_path_factory.mktemp("plan-history-fits")


def live(h: PlanHistory, day: Day) -> None:
    """Store what happened on ``day``, in the order it happens."""
    if day.morning is not None:
        h.morning(day.n, day.morning)
    if day.run is not None:
        h.session(day.n, day.run)
    for when, pain in (("during", day.during), ("after", day.after)):
        if pain is not None:
            h.checkin(day.n, when, pain)
    if day.hop is not None:
        h.hop(day.n, symmetric=day.hop)


@pytest.mark.parametrize("name", list(CASES))
def test_history_day_by_day(name: str, home: Path, fits: Path) -> None:
    case = CASES[name]
    with PlanHistory(home, fits, case.template, case.state, site=case.site) as h:
        h.morning(-2, 1)
        h.morning(-1, 1)
        for day in case.days:
            live(h, day)
            check(name, day, h.status(day.n), case.template)


def check(name: str, day: Day, got: dict[str, Any], template: str) -> None:
    """The day's ``plan status --json`` against what the case expects."""
    where = f"{name}, day {day.n}: {got['decision']} {got['reasons']}"
    assert got["plan"] == template
    assert got["decision"] == day.expect, where
    for phrase in day.says:
        assert any(phrase in r for r in got["reasons"]), f"{where} lacks {phrase!r}"
    for phrase in day.never:
        assert not any(phrase in r for r in got["reasons"]), f"{where} has {phrase!r}"
    if day.stage is not None:
        assert got["stage"]["name"] == day.stage, where
    if day.next_stage is not None:
        assert got["next"]["name"] == day.next_stage, where
