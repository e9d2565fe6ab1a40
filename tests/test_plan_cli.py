"""`sensorhub checkin …` and `sensorhub plan …` as a user runs them, on cara's demo data
(fixtures/README.md): real journals, the real CLI (in-process), a real webhook receiver."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sensorhub.cli import app
from sensorhub.store import Journal

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "fixtures/sensorhub.toml"
runner = CliRunner()


def sh(home: Path, *args: str, config: Path = CONFIG):
    return runner.invoke(app, ["--config", str(config), "--home", str(home), *args])


def outbox(home: Path, measurement: str) -> list[str]:
    j = Journal(home / "journal.sqlite")
    try:
        return [
            ln
            for b in j.outbox.batches()
            if b.measurement == measurement
            for ln in b.body.split("\n")
        ]
    finally:
        j.close()


@pytest.fixture(scope="module")
def cara_home(tmp_path_factory) -> Path:
    """cara's 14 sessions, her diary and her plan, as the demo loads them."""
    mp = pytest.MonkeyPatch()
    for k in [k for k in __import__("os").environ if k.startswith("SENSORHUB_")]:
        mp.delenv(k)
    home = tmp_path_factory.mktemp("cara") / "h"
    r = sh(home, "ingest", str(ROOT / "fixtures/fit/cara"))
    assert r.exit_code == 0 and "14 ingested" in r.stdout, r.output
    r = sh(home, "checkin", "import", str(ROOT / "fixtures/checkins/cara.csv"), "--athlete", "cara")
    assert r.exit_code == 0 and "63 check-ins stored" in r.stdout, r.output
    r = sh(
        home,
        "plan",
        "start",
        "--athlete",
        "cara",
        "--state",
        str(ROOT / "fixtures/plans/cara.toml"),
    )
    assert r.exit_code == 0, r.output
    yield home
    mp.undo()


@pytest.fixture
def cara(cara_home: Path, tmp_path: Path, home: Path) -> Path:
    """A private copy of cara's state dir (tests change it)."""
    dst = tmp_path / "cara"
    shutil.copytree(cara_home, dst)
    return dst


def test_cara_status_gives_the_engines_decision_on_her_last_day(cara_home):
    cara = cara_home  # status only adds idempotent plan points
    r = sh(cara, "plan", "status", "--athlete", "cara", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert list(d) == ["athlete", "plan", "stage", "completed", "decision", "reasons", "next"]
    assert list(d["stage"]) == ["index", "name", "prescription"]
    assert (d["athlete"], d["plan"], d["decision"]) == ("cara", "achilles-silbernagel", "progress")
    assert d["stage"]["name"] == "Walk-run 4" and d["completed"]["done"] == 3
    assert d["reasons"] == ["3 of 3 clean sessions done — progress"]
    assert d["next"]["text"] == (
        "run 20 min continuous (stage 5 of 6, Continuous 20), not before Mon 16 Nov"
    )
    flare = json.loads(
        sh(cara, "plan", "status", "--athlete", "cara", "--json", "--on", "2026-11-03").stdout
    )
    assert flare["decision"] == "repeat" and flare["reasons"][0].startswith(
        "next-morning achilles pain 3/10 on Tue 3 Nov is above your baseline 1/10"
    )
    text = sh(cara, "plan", "status").stdout
    assert "decision  progress" in text and "next      run 20 min continuous" in text


def test_the_demo_queues_symptom_and_plan_points(cara_home):
    cara = cara_home
    symptoms = outbox(cara, "symptom")
    assert len(symptoms) == 63 and all(",athlete=cara," in ln for ln in symptoms)
    plan = outbox(cara, "plan")
    days = {ln.rsplit(" ", 1)[1] for ln in plan}
    assert len(days) == 28  # Mon 19 Oct to Sun 15 Nov, one point per day (written idempotently)
    last = max(plan, key=lambda ln: int(ln.rsplit(" ", 1)[1]))
    assert last.startswith("plan,athlete=cara,plan=achilles-silbernagel stage_index=3.0,")
    assert 'decision="progress"' in last and "required=3.0" in last


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pain", "11"], "checkin pain: '11' is not in 0–10"),
        (["--pain", "lots"], "checkin pain: 'lots' is not a number 0–10"),
        (["--site", "elbow"], "checkin site: 'elbow' is not one of achilles"),
        (["--day", "2099-01-01"], "checkin day: 2099-01-01 is in the future"),
        (["--day", "3 Nov"], "checkin day: '3 Nov' is not a date"),
    ],
)
def test_bad_checkins_are_one_line_and_exit_2(cara_home, args, message):
    cara = cara_home  # refused: nothing changes
    base = {"--pain": "3", "--when": "next-morning", "--site": "achilles", "--side": "L"}
    for k, v in zip(args[::2], args[1::2], strict=True):
        base[k] = v
    r = sh(cara, "checkin", "--athlete", "cara", *[x for kv in base.items() for x in kv])
    assert r.exit_code == 2 and r.stderr.count("\n") == 1 and message in r.stderr, r.output
    assert len(outbox(cara, "symptom")) == 63  # nothing stored


def test_tomorrow_in_the_athletes_zone_is_the_future(home):
    far_east = home.parent / "east.toml"
    far_east.write_text('[[athletes]]\nid = "kiri"\ntz = "Pacific/Kiritimati"\n')
    local = dt.datetime.now(dt.UTC) + dt.timedelta(hours=14)
    tomorrow = (local.date() + dt.timedelta(days=1)).isoformat()
    args = ["--pain", "1", "--when", "rest-day", "--site", "calf", "--side", "R"]
    r = sh(home, "checkin", "--athlete", "kiri", *args, "--day", tomorrow, config=far_east)
    assert r.exit_code == 2 and "is in the future" in r.stderr
    r = sh(
        home,
        "checkin",
        "--athlete",
        "kiri",
        *args,
        "--day",
        local.date().isoformat(),
        config=far_east,
    )
    assert r.exit_code == 0, r.output
    r = sh(home, "checkin", "--athlete", "nobody", *args, config=far_east)
    assert r.exit_code == 1 and "athlete 'nobody': unknown" in r.stderr


def test_edit_and_delete_a_checkin(cara):
    rows = sh(cara, "checkin", "list", "--athlete", "cara", "--csv").stdout.splitlines()
    header, first = rows[0].split(","), rows[1].split(",")
    assert header[:7] == ["id", "athlete", "day", "when", "site", "side", "pain"]
    cid = first[0]
    r = sh(cara, "checkin", "edit", cid, "--pain", "2", "--note", "fixed typo")
    assert r.exit_code == 0 and f"check-in {cid} changed" in r.stdout, r.output
    edited = sh(cara, "checkin", "list", "--csv").stdout.splitlines()[1].split(",")
    assert edited[6] == "2.0" and edited[8] == "fixed typo"
    new_point = outbox(cara, "symptom")[-1]
    assert "pain=2.0" in new_point and f"checkin_id={cid}.0" in new_point
    r = sh(cara, "checkin", "edit", cid, "--pain", "12")
    assert r.exit_code == 2 and "checkin pain: '12' is not in 0–10" in r.stderr
    r = sh(cara, "checkin", "delete", cid)
    assert r.exit_code == 0 and f"check-in {cid} deleted" in r.stdout
    assert outbox(cara, "symptom")[-1].split(" ")[1] == f"deleted=1.0,checkin_id={cid}.0"
    assert len(sh(cara, "checkin", "list", "--csv").stdout.splitlines()) == 63  # header + 62
    r = sh(cara, "checkin", "delete", cid)
    assert r.exit_code == 1 and "no such check-in" in r.stderr


def test_a_clinicians_advance_is_recorded_with_who_and_why(cara):
    r = sh(cara, "plan", "advance", "--athlete", "cara", "--on", "2026-11-14")
    assert r.exit_code == 2 and "override by: must say who" in r.stderr
    r = sh(
        cara, "plan", "advance", "--athlete", "cara", "--on", "2026-11-14",
        "--by", "J. Ortiz (physio)", "--why", "pain-free hop test in clinic",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    day = json.loads(
        sh(cara, "plan", "status", "--athlete", "cara", "--json", "--on", "2026-11-14").stdout
    )
    assert day["stage"]["name"] == "Continuous 20"
    assert day["reasons"][0] == (
        "J. Ortiz (physio) moved you on a stage on Sat 14 Nov: pain-free hop test in clinic"
    )
    j = Journal(cara / "journal.sqlite")
    events = j.diary.plan_events("cara")
    j.close()
    assert [(e["kind"], e["day"], e["by"]) for e in events][-1] == (
        "advance", "2026-11-14", "J. Ortiz (physio)",
    )  # fmt: skip
    r = sh(cara, "plan", "back", "--athlete", "cara", "--by", "me", "--why", "x", "--to", "9")
    assert r.exit_code == 2 and "stage 9 does not exist" in r.stderr


class Receiver:
    """A webhook receiver on loopback that keeps what it was sent."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        bodies = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/hook"
        self.server = HTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_second_flare_steps_back_and_fires_the_webhook(cara, tmp_path):
    hook = Receiver()
    try:
        config = tmp_path / "hook.toml"
        config.write_text(
            CONFIG.read_text() + f'\n[alerts]\nwebhook_url = "{hook.url}"\nnotify_max_age_h = 0\n'
        )
        args = [
            "--when",
            "next-morning",
            "--site",
            "achilles",
            "--side",
            "L",
            "--day",
            "2026-11-05",
        ]
        r = sh(cara, "checkin", "--athlete", "cara", "--pain", "4", *args, config=config)
        assert r.exit_code == 0, r.output
    finally:
        hook.stop()
    plan = [b["sensorhub"] for b in hook.bodies if b["sensorhub"]["rule"].startswith("plan_")]
    assert [(p["rule"], p["severity"], p["status"]) for p in plan] == [
        ("plan_step_back", "warning", "open")
    ]
    assert plan[0]["message"] == (
        "next-morning achilles pain 4/10 on Thu 5 Nov is above your baseline 1/10; two flares "
        "within 14 days (after the sessions on Mon 2 Nov and Wed 4 Nov): the plan says step back "
        "to stage 2 (Walk-run 2)"
    )
    assert any("rule=plan_step_back" in ln for ln in outbox(cara, "alert"))
    # replaying again (status) does not alert twice
    assert sh(cara, "plan", "status", config=config).exit_code == 0
    j = Journal(cara / "journal.sqlite")
    assert len(j.alerts.of_rule("cara", "plan_step_back")) == 1
    j.close()


def test_a_bad_plan_file_names_file_stage_and_key_and_starts_nothing(home, tmp_path):
    bad = tmp_path / "mine.toml"
    bad.write_text(
        'name = "mine"\n[[stages]]\nname = "First"\nprescription = { text = "walk", walk_s = 600 }\n'
        '[[stages]]\nname = "Second"\npain = { during_max = 12 }\n'
        'prescription = { text = "run", continuous_s = 600 }\n'
    )
    r = sh(home, "plan", "start", "--athlete", "ana", "--plan", str(bad))
    assert r.exit_code == 2, r.output
    assert (
        r.stderr == "mine.toml: stage 2 ('Second'): pain.during_max: 12 is not a number in 0–10\n"
    )
    r = sh(home, "plan", "status", "--athlete", "ana")
    assert r.exit_code == 1 and "no plan started" in r.stderr
    r = sh(home, "plan", "start", "--athlete", "zed", "--template", "walk-run")
    assert r.exit_code == 1 and "athlete 'zed': unknown" in r.stderr
    good = tmp_path / "ok.toml"
    good.write_text(bad.read_text().replace("during_max = 12", "during_max = 2"))
    r = sh(
        home, "plan", "start", "--athlete", "ana", "--template", str(good), "--from", "2026-11-30"
    )
    assert r.exit_code == 0 and "plan mine" in r.stdout, r.output
    good.unlink()  # the plan's text is in the journal
    r = sh(home, "plan", "status", "--athlete", "ana", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["stage"]["name"] == "First", r.output


def test_templates_are_listed():
    r = runner.invoke(app, ["plan", "templates"])
    assert r.exit_code == 0
    for name in ("achilles-silbernagel", "bone-stress", "walk-run"):
        assert name in r.stdout


def test_pain_during_above_the_limit_opens_a_critical_alert_until_deleted(cara):
    args = ["--when", "during", "--site", "achilles", "--side", "L", "--day", "2026-11-12"]
    r = sh(cara, "checkin", "--athlete", "cara", "--pain", "7", *args)
    assert r.exit_code == 0, r.output
    j = Journal(cara / "journal.sqlite")
    (alert,) = j.alerts.of_rule("cara", "plan_pain")
    cid = j.diary.same_slot(
        "cara", {"day": "2026-11-12", "when": "during", "site": "achilles", "side": "L"}
    ).id
    j.close()
    assert (alert["severity"], alert["value"], alert["threshold"]) == ("critical", 7.0, 5.0)
    assert alert["message"] == (
        "pain during the session on Thu 12 Nov was 7/10, above the limit 5/10: the plan says "
        "rest; see your clinician before running again (not before Sun 15 Nov)"
    )
    assert alert["cleared_at"] is not None  # the rest was over on Sun 15 Nov
    last = json.loads(sh(cara, "plan", "status", "--athlete", "cara", "--json").stdout)
    assert last["completed"]["done"] < 3 and last["decision"] == "repeat"
    assert sh(cara, "checkin", "delete", str(cid)).exit_code == 0
    last = json.loads(sh(cara, "plan", "status", "--athlete", "cara", "--json").stdout)
    assert last["decision"] == "progress"  # the diary decides: back to the demo's decision


def test_a_bad_diary_row_stores_nothing(home, tmp_path):
    diary = tmp_path / "d.csv"
    diary.write_text(
        "day,when,site,side,pain,stiffness,note\n"
        "2026-11-01,rest-day,achilles,L,1,2,\n"
        "2026-11-02,rest-day,achilles,L,12,2,\n"
    )
    r = sh(home, "checkin", "import", str(diary), "--athlete", "cara")
    assert r.exit_code == 2 and r.stderr == "d.csv: line 3: checkin pain: '12' is not in 0–10\n"
    assert "no check-ins yet" in sh(home, "checkin", "list").stdout
