"""The vectorised FIT decoder on small files built here, checked against fitparse."""

from __future__ import annotations

import os
import struct

import numpy as np
import pandas as pd
import pytest
from fitparse.records import Crc

from drivers.fit import FitError, decode, decode_with_fitparse
from drivers.fit.crc import crc16, crc16_py
from drivers.fit.fast import decode_fast
from tests.shared import shared_dir

# --- a minimal FIT writer (FIT protocol document: file header, record headers, CRC) -------


def fit_file(messages: bytes, header_size: int = 14) -> bytes:
    """A complete FIT file around ``messages`` (header with CRC, trailing file CRC)."""
    hdr = struct.pack("<BBHI4s", header_size, 0x20, 2132, len(messages), b".FIT")
    if header_size == 14:
        hdr += struct.pack("<H", crc16_py(hdr))
    body = hdr + messages
    return body + struct.pack("<H", crc16_py(body))


def definition(
    local: int,
    mesg_num: int,
    fields: list[tuple[int, int, int]],
    big: bool = False,
    dev_fields: list[tuple[int, int, int]] | None = None,
) -> bytes:
    """A definition message: ``fields`` are (number, size, base type)."""
    out = bytes([0x40 | local | (0x20 if dev_fields else 0), 0, int(big)])
    out += struct.pack(">H" if big else "<H", mesg_num) + bytes([len(fields)])
    out += b"".join(bytes(f) for f in fields)
    if dev_fields:
        out += bytes([len(dev_fields)]) + b"".join(bytes(f) for f in dev_fields)
    return out


def data(local: int, payload: bytes, time_offset: int | None = None) -> bytes:
    """A data message (normal header, or compressed-timestamp header with ``time_offset``)."""
    if time_offset is None:
        return bytes([local]) + payload
    return bytes([0x80 | (local << 5) | (time_offset & 0x1F)]) + payload


T0 = 1_000_000_000  # FIT seconds (2021-09-09)
RECORD = [
    (253, 4, 0x86),
    (0, 4, 0x85),
    (1, 4, 0x85),
    (2, 2, 0x84),
    (3, 1, 0x02),
    (5, 4, 0x86),
    (6, 2, 0x84),
    (4, 1, 0x02),
]


def record_payload(i: int, big: bool = False) -> bytes:
    e = ">" if big else "<"
    hr = 0xFF if i % 5 == 0 else 120 + i % 30  # every 5th heart rate invalid
    return struct.pack(
        e + "IiiHBIHB",
        T0 + i,
        600_000_000 + 1000 * i,
        -10_000 * i,
        (100 + 500) * 5 + i,
        hr,
        100 * i * 3,
        3000 + 7 * i,
        85,
    )


def activity(n: int = 50, big: bool = False) -> bytes:
    """file_id, n records and a running session."""
    msgs = definition(0, 0, [(0, 1, 0x00), (1, 2, 0x84), (4, 4, 0x86)], big)
    msgs += data(0, struct.pack(">BHI" if big else "<BHI", 4, 1, T0))
    msgs += definition(1, 20, RECORD, big)
    msgs += b"".join(data(1, record_payload(i, big)) for i in range(n))
    msgs += definition(2, 18, [(253, 4, 0x86), (5, 1, 0x00), (6, 1, 0x00), (9, 4, 0x86)], big)
    msgs += data(2, struct.pack(">IBBI" if big else "<IBBI", T0 + n, 1, 0, 123456))
    return fit_file(msgs)


def _write(tmp_path, raw: bytes, name: str = "a.fit"):
    p = tmp_path / name
    p.write_bytes(raw)
    return p


def assert_same_as_fitparse(path) -> None:
    """Every frame and every column both decoders name holds the same values."""
    fast, ref = decode_fast(path), decode_with_fitparse(path)
    for name, want in ref.items():
        if name.startswith("unknown_") and name not in fast:
            continue  # the SDK profile names messages fitparse's profile does not know
        got = fast[name]
        assert len(got) == len(want), name
        for col in want.columns:
            if col not in got.columns:
                continue
            a, b = got[col], want[col]
            if a.dtype.kind in "fi" and b.dtype.kind in "fi":
                np.testing.assert_allclose(
                    a.to_numpy(float), b.to_numpy(float), rtol=0, err_msg=f"{name}.{col}"
                )
            else:
                for x, y in zip(a.tolist(), b.tolist(), strict=True):
                    if isinstance(x, str) and isinstance(y, int | float):
                        continue  # the newer SDK profile names this enum value
                    assert (pd.isna(x) is True and pd.isna(y) is True) or x == y, (
                        f"{name}.{col}: {x!r} != {y!r}"
                    )


# --- tests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 7, 128, 129, 1000, 4099, 100_003])
def test_crc16_matches_fitparse(n: int) -> None:
    raw = os.urandom(n)
    assert crc16(raw) == Crc.calculate(raw) == crc16_py(raw)


@pytest.mark.parametrize("big", [False, True])
def test_synthetic_activity_matches_fitparse(tmp_path, big: bool) -> None:
    path = _write(tmp_path, activity(50, big))
    assert_same_as_fitparse(path)
    out = decode(path)
    rec = out["record"]
    assert len(rec) == 50
    assert str(rec["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert rec["timestamp"].iloc[0] == pd.Timestamp("1989-12-31", tz="UTC") + pd.Timedelta(
        seconds=T0
    )
    assert rec["position_lat"].dtype.kind == "i" and rec["position_lat"].iloc[3] == 600_003_000
    assert rec["speed"].iloc[1] == pytest.approx(3.007)
    assert rec["enhanced_speed"].iloc[1] == pytest.approx(3.007)  # component of speed
    assert rec["enhanced_altitude"].iloc[2] == pytest.approx(100.4)  # component of altitude
    assert rec["heart_rate"].isna().sum() == 10  # 0xFF is invalid
    assert out["session"]["sport"].iloc[0] == "running"
    assert out.units[("record", "speed")] == "m/s"
    assert not out.partial and out.error is None and out.warnings == []


def test_compressed_timestamps_follow_fitparse(tmp_path) -> None:
    msgs = definition(0, 0, [(0, 1, 0x00)]) + data(0, b"\x04")
    msgs += definition(1, 20, [(253, 4, 0x86), (3, 1, 0x02)])
    msgs += data(1, struct.pack("<IB", T0, 100))
    msgs += definition(2, 20, [(3, 1, 0x02)])
    offsets = [(T0 + k) & 0x1F for k in (1, 2, 5, 20, 33, 34)]  # 33 wraps the 5-bit offset
    msgs += b"".join(data(2, bytes([101 + i]), off) for i, off in enumerate(offsets))
    path = _write(tmp_path, fit_file(msgs))
    assert_same_as_fitparse(path)
    ts = decode(path)["record"]["timestamp"]
    secs = ((ts - ts.iloc[0]).dt.total_seconds()).tolist()
    assert secs == [0, 1, 2, 5, 20, 33, 34]


def test_system_times_stay_numbers_like_fitparse(tmp_path) -> None:
    # date_time below 0x10000000 is seconds since power-on: fitparse returns the number
    msgs = definition(0, 0, [(0, 1, 0x00), (4, 4, 0x86)]) + data(0, struct.pack("<BI", 4, 7))
    msgs += definition(1, 20, [(253, 4, 0x86), (3, 1, 0x02)])
    msgs += b"".join(data(1, struct.pack("<IB", t, 120)) for t in (10, 11, 0xFFFFFFFF, T0))
    path = _write(tmp_path, fit_file(msgs))
    assert_same_as_fitparse(path)
    out = decode(path)
    ts = out["record"]["timestamp"]
    assert ts.dtype == object and ts.tolist()[:2] == [10, 11] and ts.iloc[2] is None
    assert ts.iloc[3] == pd.Timestamp("1989-12-31", tz="UTC") + pd.Timedelta(seconds=T0)
    assert out["file_id"]["time_created"].tolist() == [7]


def test_developer_fields_named_by_field_description(tmp_path) -> None:
    msgs = definition(0, 207, [(0, 16, 0x0D), (3, 1, 0x02)])
    msgs += data(0, bytes(range(16)) + b"\x00")
    msgs += definition(
        1, 206, [(0, 1, 0x02), (1, 1, 0x02), (2, 1, 0x02), (3, 16, 0x07), (8, 8, 0x07)]
    )
    msgs += data(1, bytes([0, 7, 0x84]) + b"Form Power".ljust(16, b"\0") + b"Watts".ljust(8, b"\0"))
    msgs += definition(2, 20, [(253, 4, 0x86)], dev_fields=[(7, 2, 0)])
    msgs += b"".join(data(2, struct.pack("<IH", T0 + i, 200 + i)) for i in range(5))
    path = _write(tmp_path, fit_file(msgs))
    assert_same_as_fitparse(path)
    out = decode(path)
    assert out["record"]["Form Power"].tolist() == [200, 201, 202, 203, 204]
    assert out.units[("record", "Form Power")] == "Watts"


def test_chained_files_are_all_decoded(tmp_path) -> None:
    path = _write(tmp_path, activity(10) + activity(20))
    out = decode(path)
    assert len(out["record"]) == 30 and len(out["file_id"]) == 2
    assert_same_as_fitparse(path)


def test_truncated_file_returns_partial_result_with_offset(tmp_path) -> None:
    raw = activity(50)
    cut = raw[: len(raw) - 200]
    out = decode(_write(tmp_path, cut))
    assert out.partial
    assert "byte" in out.error and "truncated" in out.error
    assert 0 < len(out["record"]) < 50
    assert out["record"]["timestamp"].is_monotonic_increasing


def test_crc_policy(tmp_path) -> None:
    raw = bytearray(activity(20))
    raw[-1] ^= 0xFF
    path = _write(tmp_path, bytes(raw))
    out = decode(path)
    assert any("CRC" in w for w in out.warnings) and len(out["record"]) == 20
    with pytest.raises(FitError, match="CRC"):
        decode(path, crc="raise")
    assert decode(path, crc="ignore").warnings == []
    with pytest.raises(ValueError):
        decode(path, crc="maybe")  # type: ignore[arg-type]


def test_header_crc_mismatch_is_a_warning(tmp_path) -> None:
    raw = bytearray(activity(5))
    raw[12] ^= 0x55
    out = decode(_write(tmp_path, bytes(raw)))
    assert any("header CRC" in w for w in out.warnings)


def test_undefined_local_type(tmp_path) -> None:
    with pytest.raises(FitError, match="undefined local type 3"):
        decode(_write(tmp_path, fit_file(data(3, b"\x01\x02"))))
    msgs = definition(0, 20, [(3, 1, 0x02)]) + data(0, b"\x50") + data(9, b"\x00")
    out = decode(_write(tmp_path, fit_file(msgs), "b.fit"))
    assert out.partial and "undefined local type 9" in out.error and len(out["record"]) == 1


def test_not_fit_and_empty(tmp_path) -> None:
    with pytest.raises(FitError, match="empty"):
        decode(_write(tmp_path, b""))
    with pytest.raises(FitError, match="not a FIT file"):
        decode(_write(tmp_path, b"hello world, this is not FIT", "b.fit"))
    with pytest.raises(FitError):
        decode(_write(tmp_path, fit_file(b""), "c.fit"))


def test_misaligned_field_size_reads_bytes_with_warning(tmp_path) -> None:
    msgs = definition(0, 20, [(253, 4, 0x86), (7, 3, 0x84)])
    msgs += data(0, struct.pack("<I", T0) + b"\x01\x02\x03")
    out = decode(_write(tmp_path, fit_file(msgs)))
    assert out["record"]["power"].iloc[0] == (1, 2, 3)
    assert any("not a multiple" in w for w in out.warnings)


def test_backend_keyword_keeps_fitparse_oracle(tmp_path) -> None:
    path = _write(tmp_path, activity(5))
    assert len(decode(path, backend="fitparse")["record"]) == 5
    with pytest.raises(ValueError):
        decode(path, backend="other")  # type: ignore[arg-type]


@pytest.mark.shared
@pytest.mark.parametrize(
    "rel",
    [
        "GPSBabel__gpsbabel/fit-sample.fit",
        "dtcooper__python-fitparse/compressed-speed-distance.fit",
        "dtcooper__python-fitparse/event_timestamp.fit",
        "3schweinehunde__fit_parser/with_stryd.fit",
        "GPSBabel__gpsbabel/garmin-virb-ultra-30.fit",  # system times + timestamp_correlation
    ],
)
def test_real_files_match_fitparse_frame_by_frame(rel: str) -> None:
    path = shared_dir("fit") / rel
    if not path.exists():
        pytest.skip(f"{rel} not in this corpus")
    assert_same_as_fitparse(path)


# --- lazy frames: FitMessages builds a frame on first access ------------------------------


def test_frames_are_built_on_first_access_and_dict_api_never_leaks_placeholders(tmp_path):
    import copy
    import pickle

    path = _write(tmp_path, activity(20))
    out = decode(path)
    names = ["file_id", "record", "session"]
    assert list(out) == names and len(out) == 3 and out.pending == names
    assert "record" in out and "hrv" not in out and list(out.keys()) == names
    assert len(out["record"]) == 20 and out.pending == ["file_id", "session"]
    assert out.get("hrv") is None and out.get("hrv", 1) == 1 and out.frame("hrv").empty
    assert isinstance(out.get("session"), pd.DataFrame) and out.pending == ["file_id"]
    for view in (dict(out), {**out}, out.copy(), copy.copy(out), pickle.loads(pickle.dumps(out))):
        assert list(view) == names
        assert all(isinstance(v, pd.DataFrame) for v in view.values())
    assert all(isinstance(v, pd.DataFrame) for _, v in decode(path).items())
    assert all(isinstance(v, pd.DataFrame) for v in decode(path).values())
    assert decode(path).units[("record", "speed")] == "m/s"  # units build every frame
    fresh = decode(path)
    assert isinstance(fresh.pop("record"), pd.DataFrame) and list(fresh) == ["file_id", "session"]


@pytest.mark.shared
@pytest.mark.parametrize(
    "rel",
    [
        "dtcooper__python-fitparse/compressed-speed-distance.fit",  # compressed timestamps
        "GPSBabel__gpsbabel/fit-sample.fit",
        "3schweinehunde__fit_parser/with_stryd.fit",  # developer fields
    ],
)
def test_one_frame_alone_equals_the_same_frame_after_all(rel: str) -> None:
    path = shared_dir("fit") / rel
    if not path.exists():
        pytest.skip(f"{rel} not in this corpus")
    full = decode(path)
    full.materialise()
    for name in full:
        pd.testing.assert_frame_equal(decode(path)[name], full[name], check_exact=True)
