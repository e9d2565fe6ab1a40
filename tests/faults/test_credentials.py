"""Credentials in the InfluxDB URL: masked everywhere, still used (as headers)."""

from __future__ import annotations

import base64

import pytest

from sensorhub.store import InfluxWriter
from sensorhub.store.influx import split_credentials
from sensorhub.store.redact import redact, redact_url

from .points import Clock, run_lines


def test_redact_url_masks_passwords_and_secret_parameters():
    assert redact_url("http://eva:s3cret@influx:8086/") == "http://eva:***@influx:8086/"
    assert redact_url("https://tok3n@influx") == "https://***@influx"
    got = redact_url("http://influx:8086/write?db=x&u=eva&p=s3cret&token=abc")
    assert got == "http://influx:8086/write?db=x&u=***&p=***&token=***"
    assert redact_url("http://influx:8086") == "http://influx:8086"


def test_redact_masks_given_secrets_in_any_encoding():
    text = "auth failed for p%40ss (p@ss), header Token abc.def, url http://u:p@ss@h/?p=p@ss"
    got = redact(text, ["p@ss", "", None])
    assert "p@ss" not in got and "p%40ss" not in got and "abc.def" not in got
    assert got.startswith("auth failed for *** (***)")


def test_split_credentials_moves_them_out_of_the_url():
    base, params, creds = split_credentials("http://eva:s%3Acret@h:8086/base/?u=x&p=y&rp=autogen")
    assert base == "http://h:8086/base" and params == {"rp": "autogen"}
    assert creds == {"username": "eva", "password": "s:cret"}
    _, _, creds = split_credentials("http://h:8086?token=t0k")
    assert creds == {"token": "t0k"}


@pytest.mark.influx
@pytest.mark.parametrize(
    "creds, header",
    [
        ("eva:s3cret@", "Basic " + base64.b64encode(b"eva:s3cret").decode()),
        ("?u=eva&p=s3cret", "Basic " + base64.b64encode(b"eva:s3cret").decode()),
        ("?token=s3cret", "Token s3cret"),
    ],
)
def test_url_credentials_are_sent_as_a_header_and_never_shown(
    creds, header, journal, proxy_cfg, fault_proxy, influxd, db_name
):
    host = proxy_cfg.url.removeprefix("http://")
    proxy_cfg.url = f"http://{creds}{host}" if "@" in creds else f"http://{host}/{creds}"
    journal.outbox.enqueue("run", run_lines(10), 100)
    fault_proxy.fail(500, times=1, body='{"error":"bad password s3cret for eva"}')
    clock = Clock()
    writer = InfluxWriter(proxy_cfg, clock=clock)
    report = writer.flush(journal)
    shown = " ".join(report.errors) + str(journal.outbox.stats()) + writer.target
    shown += str(journal.db.execute("SELECT * FROM outbox_backoff").fetchall())
    assert "500" in shown and "s3cret" not in shown
    clock.advance(5)
    assert writer.flush(journal).ok and influxd.count(db_name, "run", "hr_bpm") == 10
    (write,) = [s for s in fault_proxy.seen if s.path == "/write"][-1:]
    assert "s3cret" not in write.query and write.headers["Authorization"] == header
