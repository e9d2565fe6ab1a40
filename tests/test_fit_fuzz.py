"""Damaged input never makes the FIT decoder raise anything but FitError, hang or blow up.

Hypothesis flips, inserts and deletes bytes and truncates real corpus files and files built
here; every example must give a FitMessages (frames, maybe partial) or a FitError, within a
deadline (a hang or an allocation proportional to a bogus size would blow it).
"""

from __future__ import annotations

import os
import struct
from functools import cache

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.fit import FitError, FitMessages
from drivers.fit.fast import decode_fast
from tests.shared import SHARED, shared_dir
from tests.test_fit_decoder import activity, data, definition, fit_file

SETTINGS = settings(
    max_examples=int(os.environ.get("FIT_FUZZ_EXAMPLES", "1200")),
    deadline=5000,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SEED_FILES = [
    "GPSBabel__gpsbabel/fit-sample.fit",
    "dtcooper__python-fitparse/compressed-speed-distance.fit",
    "dtcooper__python-fitparse/DeveloperData.fit",
    "dtcooper__python-fitparse/sample_mulitple_header.fit",
    "dtcooper__python-fitparse/activity-small-fenix2-run.fit",
    "dtcooper__python-fitparse/Settings.fit",
]


def check(raw: bytes) -> None:
    """The decoder's whole contract on arbitrary bytes."""
    try:
        out = decode_fast(raw)
    except FitError as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(out, FitMessages)
    assert all(isinstance(f, pd.DataFrame) for f in out.values())
    assert out.partial == (out.error is not None)
    if out.error:
        assert "\n" not in out.error


@cache
def _seeds() -> tuple[bytes, ...]:
    fit = SHARED / "fit"
    return tuple((fit / r).read_bytes()[:40_000] for r in SEED_FILES if (fit / r).exists())


def _mutate(draw, raw: bytes) -> bytes:
    buf = bytearray(raw)
    for _ in range(draw(st.integers(0, 8))):
        if not buf:
            break
        pos = draw(st.integers(0, len(buf) - 1))
        op = draw(st.sampled_from(["flip", "set", "insert", "delete"]))
        if op == "flip":
            buf[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            buf[pos] = draw(st.sampled_from([0x00, 0x40, 0x7F, 0x80, 0xE0, 0xFF]))
        elif op == "insert":
            buf[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        else:
            del buf[pos : pos + draw(st.integers(1, 8))]
    if draw(st.booleans()):
        buf = buf[: draw(st.integers(0, len(buf)))]
    return bytes(buf)


@pytest.mark.shared
@SETTINGS
@given(st.data())
def test_mutated_corpus_files(d) -> None:
    shared_dir("fit")
    seeds = _seeds()
    if not seeds:
        pytest.skip("no seed files in this corpus")
    check(_mutate(d.draw, d.draw(st.sampled_from(seeds))))


@SETTINGS
@given(st.data())
def test_mutated_synthetic_files(d) -> None:
    base = activity(d.draw(st.integers(0, 40)), big=d.draw(st.booleans()))
    check(_mutate(d.draw, base))


@SETTINGS
@given(st.binary(max_size=600))
def test_random_messages_after_a_valid_header(body: bytes) -> None:
    check(fit_file(body))
    check(body)


@pytest.mark.parametrize(
    "raw",
    [
        fit_file(definition(0, 20, [(i, 255, 0x0D) for i in range(255)]) + data(0, b"\x00" * 10)),
        fit_file(definition(0, 20, [(3, 1, 2)]))[:-2] + struct.pack("<I", 0xFFFFFFFF),
        struct.pack("<BBHI4s", 14, 0x20, 2132, 0xFFFFFFFF, b".FIT") + b"\x00\x00" + b"\x40" * 50,
        struct.pack("<BBHI4s", 255, 0x20, 2132, 10, b".FIT"),
        fit_file(
            definition(0, 206, [(0, 1, 2), (1, 1, 2), (2, 1, 2)])
            + data(0, b"\x00\x01\x99")
            + definition(1, 20, [(3, 1, 2)], dev_fields=[(1, 200, 0)])
            + data(1, b"\x01")
        ),
    ],
)
def test_impossible_sizes_stop_cleanly(raw: bytes) -> None:
    check(raw)
