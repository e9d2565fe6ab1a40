"""`sensorhub report`: self-contained HTML, rendered by headless Chromium into a non-blank page."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from sensorhub.cli import app
from sensorhub.config import load_config
from sensorhub.pipeline import Pipeline
from sensorhub.report import range_report, session_report

ROOT = Path(__file__).resolve().parents[1]
# ben's runs from 12 Oct to 6 Nov: a baseline, then the GCT-balance shift of 26 Oct
BEN = [
    p
    for p in sorted((ROOT / "fixtures" / "fit" / "ben").glob("*.fit"))
    if "2026-10-12" <= p.stem <= "2026-11-06"
]


@pytest.fixture(scope="module")
def journal_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("report-home")
    cfg = load_config(ROOT / "fixtures" / "sensorhub.toml", home=home)
    cfg.influx.url = ""  # journal only
    report = Pipeline(cfg).ingest(BEN)
    assert not report.failed
    return home


def chromium() -> str:
    path = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if path is None:
        pytest.fail("chromium not found: scripts/test.sh installs Debian's chromium package")
    return path


def screenshot(html: Path, png: Path) -> Image.Image:
    cmd = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        f"--user-data-dir={png.parent / 'chromium-profile'}",
        f"--screenshot={png}",
        "--window-size=1200,1600",
        html.resolve().as_uri(),
    ]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    return Image.open(png).convert("RGB")


def assert_self_contained(html: str) -> None:
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)  # no CDN, no fetch


def assert_not_blank(img: Image.Image) -> None:
    assert img.size == (1200, 1600)
    colours = img.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 200, "too few colours: blank page?"
    white = sum(n for n, c in colours if min(c) >= 245)
    assert white / (1200 * 1600) < 0.9  # charts and text cover a good part of the page


def test_range_report_renders(journal_home, tmp_path):
    cfg = load_config(ROOT / "fixtures" / "sensorhub.toml", home=journal_home)
    journal = Pipeline(cfg).journal
    html = range_report(cfg, journal, "ben")
    assert_self_contained(html)
    for text in (
        "Training load",
        "ACWR (band 0.8–1.3)",
        "Asymmetry trend",
        "Alerts",
        "gct_balance_band",
        "outside the 48–52 % band",
    ):
        assert text in html
    path = tmp_path / "range.html"
    path.write_text(html, encoding="utf-8")
    assert_not_blank(screenshot(path, tmp_path / "range.png"))


def test_session_report_has_run_plots(journal_home, tmp_path):
    cfg = load_config(ROOT / "fixtures" / "sensorhub.toml", home=journal_home)
    journal = Pipeline(cfg).journal
    sid = journal.sessions("ben").iloc[-1]["id"]
    html = session_report(cfg, journal, sid[:8])
    assert_self_contained(html)
    for title in ("Pace", "Heart rate", "Cadence", "Ground contact time", "GCT balance", "Power"):
        assert f"<title>{title} (" in html
    path = tmp_path / "session.html"
    path.write_text(html, encoding="utf-8")
    assert_not_blank(screenshot(path, tmp_path / "session.png"))


def test_session_report_without_the_source_file(journal_home, tmp_path):
    cfg = load_config(ROOT / "fixtures" / "sensorhub.toml", home=journal_home)
    journal = Pipeline(cfg).journal
    sid = journal.sessions("ben").iloc[0]["id"]
    journal.db.execute(
        "UPDATE sources SET path='/nonexistent/x.fit' WHERE id="
        "(SELECT source_id FROM sessions WHERE id=?)",
        (sid,),
    )
    html = session_report(cfg, journal, sid)
    assert "no longer there" in html and "Daily load" in html


def test_cli_report_and_alerts(journal_home, tmp_path, monkeypatch):
    for k in ("SENSORHUB_INFLUX_URL", "SENSORHUB_ALERT_WEBHOOK_URL"):
        monkeypatch.delenv(k, raising=False)
    runner = CliRunner()
    base = ["--home", str(journal_home), "--config", str(ROOT / "fixtures" / "sensorhub.toml")]
    out = tmp_path / "r.html"
    res = runner.invoke(
        app,
        [
            *base,
            "report",
            "--athlete",
            "ben",
            "--from",
            "2026-10-01",
            "--to",
            "2026-11-15",
            "-o",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "ben · 2026-10-01 to 2026-11-15" in out.read_text()
    res = runner.invoke(app, [*base, "report", "--session", "nope", "-o", str(out)])
    assert res.exit_code == 2
    res = runner.invoke(app, [*base, "alerts", "--csv"])
    assert res.exit_code == 0, res.output
    assert "gct_balance_band" in res.output and "load spike" not in res.output.lower()
