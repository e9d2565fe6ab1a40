"""`sensorhub report --athlete cara`: the "Return to run" and "Readiness tests" sections on the
demo athlete on a plan (fixtures/README.md), loaded through the real CLI, rendered by headless
Chromium into a non-blank page."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sensorhub.cli import app
from sensorhub.config import load_config
from sensorhub.report import plans as rtr
from sensorhub.store import Journal

from .test_report import assert_self_contained, screenshot

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "fixtures" / "sensorhub.toml"
READY = ROOT / "fixtures" / "readiness"
runner = CliRunner()


def sh(home: Path, *args: str):
    r = runner.invoke(app, ["--config", str(CONFIG), "--home", str(home), *args])
    assert r.exit_code == 0, r.output
    return r


@pytest.fixture(scope="module")
def cara_home(tmp_path_factory) -> Path:
    """cara's sessions, diary, plan and two readiness tests, as a user loads them."""
    mp = pytest.MonkeyPatch()
    for k in [k for k in __import__("os").environ if k.startswith("SENSORHUB_")]:
        mp.delenv(k)
    home = tmp_path_factory.mktemp("cara-report") / "h"
    sh(home, "ingest", str(ROOT / "fixtures/fit/cara"))
    sh(home, "checkin", "import", str(ROOT / "fixtures/checkins/cara.csv"), "--athlete", "cara")
    sh(
        home,
        "plan",
        "start",
        "--athlete",
        "cara",
        "--state",
        str(ROOT / "fixtures/plans/cara.toml"),
    )
    for kind, stem, place, day in (
        ("hop", "hop", "shank", "2026-11-06"),
        ("heel-raise", "heel_raise", "shank", "2026-11-12"),
    ):
        sh(
            home, "test", kind, "--left", str(READY / f"{stem}_L.csv"),
            "--right", str(READY / f"{stem}_R.csv"), "--placement", place, "--athlete", "cara",
            "--involved", "L", "--start", f"{day}T10:00:00Z", "--pain", "1",
        )  # fmt: skip
    out = home / "cara.html"
    sh(home, "report", "--athlete", "cara", "-o", str(out))
    yield home
    mp.undo()


@pytest.fixture(scope="module")
def html(cara_home: Path) -> str:
    return (cara_home / "cara.html").read_text(encoding="utf-8")


def section(html: str, start: str, end: str) -> str:
    """The text from ``start`` to the first ``end`` after it."""
    i = html.index(start)
    return html[i : html.index(end, i)]


def test_return_to_run_says_stage_decision_reasons_and_next_in_plain_words(html):
    assert_self_contained(html)
    rtr_html = section(html, 'id="return-to-run"', 'id="readiness-tests"')
    for text in (
        "Walk-run 4 (stage 4 of 6)",
        "run 4 min / walk 1 min × 6",
        ">progress</b> (move on to the next stage)",
        "3 of 3 clean sessions in this stage",
        "<li>3 of 3 clean sessions done — progress</li>",
        "Next: run 20 min continuous (stage 5 of 6, Continuous 20), not before Mon 16 Nov.",
        "supports a clinician&#x27;s decision",
        "<title>Pain timeline: check-ins (0–10)</title>",
        "<title>Plan stage per day (1–6)</title>",
    ):
        assert text in rtr_html, text


def test_stage_changes_table_lists_progress_days_and_the_flare(html):
    table = section(html, "<h3>Stage changes</h3>", "</table>")
    rows = re.findall(r"<tr><td[^>]*>([^<]+)</td><td[^>]*>([^<]+)</td><td[^>]*>([^<]+)</td>", table)
    assert rows == [
        ("Sat 24 Oct 2026", "Walk-run 1", "progress"),
        ("Fri 30 Oct 2026", "Walk-run 2", "progress"),
        ("Tue 3 Nov 2026", "Walk-run 3", "repeat"),
        ("Mon 9 Nov 2026", "Walk-run 3", "progress"),
        ("Sun 15 Nov 2026", "Walk-run 4", "progress"),
    ]
    assert "next-morning achilles pain 3/10 on Tue 3 Nov is above your baseline 1/10" in table


def test_readiness_section_has_each_test_per_leg_and_lsi_with_the_90_line(html, cara_home):
    ready = section(html, 'id="readiness-tests"', "<h2>Sessions</h2>")
    for text in ("<h3>Hop test</h3>", "<h3>Heel-raise test</h3>", "Hop height per leg (cm)"):
        assert text in ready, text
    assert ready.count("<title>Limb symmetry index, line at 90 % (%)</title>") == 2
    j = Journal(cara_home / "journal.sqlite")
    try:
        hop = j.readiness.results("cara").iloc[0]
    finally:
        j.close()
    assert f"hop height {hop['lsi_height_pct']:.0f} %" in ready
    assert ready.count(">left</td>") == 2  # both tests name the involved leg


def test_no_wording_claims_a_diagnosis(html):
    for m in re.finditer(r"diagnos\w*", html, flags=re.I):
        before = html[max(0, m.start() - 20) : m.start()].lower()
        assert re.search(r"(no|not a|makes no) $", before), html[m.start() - 40 : m.end()]
    assert "injur" not in section(html, 'id="return-to-run"', "<h2>Sessions</h2>").lower()


def test_an_athlete_without_a_plan_or_tests_gets_neither_section(cara_home):
    cfg = load_config(CONFIG, home=cara_home)
    j = Journal(cfg.journal_path)
    try:
        t0, t1 = pd.Timestamp("2026-10-01", tz="UTC"), pd.Timestamp("2026-11-20", tz="UTC")
        assert rtr.return_to_run(j, "ben", t0, t1, "UTC") == ""
        assert rtr.readiness_section(j, "ben", t0, t1, "UTC") == ""
    finally:
        j.close()


def test_the_sections_render_non_blank_in_chromium(html, tmp_path):
    """Screenshot of the two sections (cut from the report, same CSS): a 1200×1600 window
    of the full page shows only its top, so the cut page puts them in view."""
    head = html[: html.index("<body>") + len("<body>")]
    cut = head + section(html, '<h2 id="return-to-run"', "<h2>Sessions</h2>") + "</body></html>"
    path = tmp_path / "cara-rtr.html"
    path.write_text(cut, encoding="utf-8")
    img = screenshot(path, tmp_path / "cara-rtr.png")
    assert img.size == (1200, 1600)
    counts = img.getcolors(maxcolors=1 << 20)
    assert counts is not None and len(counts) > 200, "too few colours: blank page?"
    # white chart backgrounds fill most of it; text, axes and points cover the rest
    drawn = sum(n for n, c in counts if min(c) < 245) / (1200 * 1600)
    assert drawn > 0.05, f"only {drawn:.1%} of the page drawn"
    # the decision colour (green, #2ca02c) and the pain points' colours are on screen
    colours = {c for _, c in counts}
    assert (44, 160, 44) in colours and (214, 39, 40) in colours
