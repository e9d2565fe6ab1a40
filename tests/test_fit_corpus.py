"""The vectorised FIT decoder against fitparse's recorded values for the whole shared corpus.

For every file of ../shared/fit/MANIFEST.tsv with an oracle (oracle/<path>.json.gz, made with
fitparse 1.2.0; see its README) the decoder must give the same message counts, the same
record field statistics and the same session values, for every name both profiles know.
Files without an oracle must give a result or FitError, never another exception.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import math

import numpy as np
import pandas as pd
import pytest

from drivers.fit import FitError
from drivers.fit import profile as prof
from drivers.fit.fast import decode_fast
from tests.shared import SHARED, shared_dir

pytestmark = pytest.mark.shared


def _manifest() -> list[str]:
    path = SHARED / "fit" / "MANIFEST.tsv"
    if not path.exists():
        return ["<missing>"]
    with path.open(newline="") as fh:
        return [row["path"] for row in csv.DictReader(fh, delimiter="\t")]


def _iso(v: object) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        v = v.tz_convert(None) if v.tzinfo else v
        return v.to_pydatetime().isoformat()
    if isinstance(v, dt.datetime | dt.time):
        return v.replace(tzinfo=None).isoformat()
    return str(v)


def _num_stats(s: pd.Series) -> tuple[int, float, float, float]:
    vals = [
        v
        for v in s.dropna().tolist()
        if isinstance(v, int | float | np.number) and not isinstance(v, bool)
    ]
    total = math.fsum(float(v) for v in vals) if vals else 0.0
    return len(vals), total, (min(vals) if vals else None), (max(vals) if vals else None)


def _close(a: float, b: float, rel: float = 1e-9) -> bool:
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=1e-9)


def compare_record(got: pd.DataFrame, want: dict) -> list[str]:
    """Differences between the decoded record frame and the oracle's record statistics."""
    bad = []
    if len(got) != want["n_messages"]:
        bad.append(f"record rows {len(got)} != {want['n_messages']}")
    for name, w in want["fields"].items():
        if name not in got.columns:
            continue
        s = got[name]
        n = int(s.notna().sum())
        if n != w["n"]:
            bad.append(f"record.{name}: n {n} != {w['n']}")
            continue
        types = w["types"]
        if types == ["num"]:
            k, total, lo, hi = _num_stats(s)
            if (
                k != w["n_num"]
                or not _close(total, w["sum"])
                or (k and not (_close(lo, w["min"]) and _close(hi, w["max"])))
            ):
                bad.append(
                    f"record.{name}: n_num/sum/min/max {k}/{total}/{lo}/{hi} != "
                    f"{w['n_num']}/{w['sum']}/{w['min']}/{w['max']}"
                )
        elif types in (["datetime"], ["time"]):
            vals = s.dropna()
            got_d = {
                "first": _iso(vals.iloc[0]),
                "last": _iso(vals.iloc[-1]),
                "min": _iso(vals.min()),
                "max": _iso(vals.max()),
            }
            want_d = {k: w[k] for k in got_d}
            if got_d != want_d:
                bad.append(f"record.{name}: {got_d} != {want_d}")
    return bad


def _newer_profile(row: pd.Series, name: str, got: object, want: object) -> bool:
    """True when the difference comes from the SDK profile being newer than fitparse's:
    a subfield now resolves (the value moved to the subfield's name), or an enum value
    fitparse left as a number now has a name."""
    spec = next((f for f in prof.message(18).fields.values() if f.name == name), None)
    if spec is None:
        return False
    if pd.isna(got) and any(
        sf.name in row.index and pd.notna(row[sf.name]) for sf in spec.subfields
    ):
        return True
    names = prof.type_values(spec.type) or {}
    return isinstance(want, int) and isinstance(got, str) and names.get(want) == got


def compare_sessions(got: pd.DataFrame, want: list[dict]) -> list[str]:
    """Differences between decoded session rows and the oracle's session values."""
    if len(got) != len(want):
        return [f"sessions {len(got)} != {len(want)}"]
    bad = []
    for i, w in enumerate(want):
        row = got.iloc[i]
        for k, v in w.items():
            if k not in got.columns:
                continue
            g = row[k]
            if isinstance(v, int | float) and not isinstance(v, bool):
                ok = isinstance(g, int | float | np.number) and not pd.isna(g) and _close(g, v)
            else:
                ok = _iso(g) == v or g == v
            if not ok and not _newer_profile(row, k, g, v):
                bad.append(f"session[{i}].{k}: {g!r} != {v!r}")
    return bad


def compare(out, oracle: dict) -> list[str]:
    """All differences between a decode result and its oracle (names both sides know)."""
    bad = []
    for name, count in oracle["message_counts"].items():
        if name.startswith("unknown_") or name not in out:
            continue
        if len(out[name]) != count:
            bad.append(f"{name}: {len(out[name])} messages != {count}")
    if oracle.get("record", {}).get("n_messages"):
        bad += compare_record(out.frame("record"), oracle["record"])
    if oracle.get("sessions"):
        bad += compare_sessions(out.frame("session"), oracle["sessions"])
    return bad


@pytest.mark.parametrize("rel", _manifest())
def test_corpus_file_matches_fitparse_oracle(rel: str) -> None:
    fit_dir = shared_dir("fit")
    path = fit_dir / rel
    oracle_path = fit_dir / "oracle" / (rel + ".json.gz")
    if not oracle_path.exists():
        try:
            out = decode_fast(path)
        except FitError as exc:
            assert "\n" not in str(exc)
            return
        assert out.partial or out.warnings or len(out) > 0
        return
    oracle = json.loads(gzip.decompress(oracle_path.read_bytes()))
    out = decode_fast(path)
    assert not out.partial, out.error
    bad = compare(out, oracle)
    assert not bad, f"{rel}: " + "; ".join(bad[:10])


def test_manifest_is_complete() -> None:
    rels = _manifest()
    assert len(rels) > 100
    assert all((shared_dir("fit") / r).exists() for r in rels)


# --- the whole corpus through normalisation, and the pinned files through the pipeline ----

NOW = pd.Timestamp("2030-01-01", tz="UTC")  # the corpus has files from 2026
NO_TIME = "records but none has a usable UTC timestamp"
RELATIVE = "only device-relative times (seconds since power-on) and nothing to anchor them"
#: Files without any session, with the one-line reason (FitError for the undecodable ones).
EXPECTED_FAILURES = {
    "broken.fit": "no data messages (the file holds none)",
    "empty-sessions.fit": "empty file",
    # FIT SDK examples whose records carry no timestamp field at all
    "DeveloperData.fit": f"3 {NO_TIME}: the records carry no timestamp",
    "TestEncode.fit": f"1 {NO_TIME}: the records carry no timestamp",
    # Forerunner 70: system time only; only activity.local_timestamp (local time) could anchor
    "antfs-dump.63.fit": f"686 {NO_TIME}: {RELATIVE}",
    "compressed-speed-distance.fit": f"755 {NO_TIME}: {RELATIVE}",
}
#: Files whose system times are anchored, and by what.
EXPECTED_ANCHORS = {"garmin-virb-ultra-30.fit": "timestamp_correlation"}


def _corpus_files() -> list:
    root = shared_dir("fit")
    return sorted([*root.rglob("*.fit"), *root.rglob("*.FIT")])


def test_every_corpus_file_gives_sessions_or_its_one_line_reason() -> None:
    from sensorhub.normalise import no_time_reason, sessions

    failed, anchored, n_ok = {}, {}, 0
    for path in _corpus_files():
        try:
            msgs = decode_fast(path)
        except FitError as exc:
            failed[path.name] = str(exc)
            continue
        found = sessions(msgs, now=NOW)
        if not found and len(msgs.frame("record")):
            failed[path.name] = no_time_reason(msgs, now=NOW)
        n_ok += bool(found)
        for w in (w for sf in found for w in sf.warnings if "anchored by" in w):
            anchored[path.name] = w.split("anchored by ")[1]
    assert set(failed) == set(EXPECTED_FAILURES), failed
    for name, reason in EXPECTED_FAILURES.items():
        assert failed[name].startswith(reason) and "\n" not in failed[name], failed[name]
    assert "activity.local_timestamp could" in failed["antfs-dump.63.fit"]
    assert anchored == EXPECTED_ANCHORS
    assert n_ok >= 160


@pytest.mark.parametrize("name", [*EXPECTED_FAILURES, *EXPECTED_ANCHORS])
def test_pinned_files_through_the_ingest_pipeline(cfg, name: str) -> None:
    from sensorhub.pipeline import Pipeline

    (path,) = [p for p in _corpus_files() if p.name == name]
    (f,) = Pipeline(cfg, now=NOW).ingest([path]).files
    assert "\n" not in f.line() and not f.message.startswith("unexpected"), f.line()
    if name in EXPECTED_ANCHORS:
        assert f.status == "ingested" and EXPECTED_ANCHORS[name] in f.message, f.line()
        return
    assert f.status == "failed", f.line()
    # the pipeline may still word the no-time case its own way: the count and cause stay
    reason = EXPECTED_FAILURES[name]
    assert f.message.startswith(reason.split(":")[0] if NO_TIME in reason else reason), f.line()
