"""RSC and Heart Rate parsers against byte vectors laid out per the Bluetooth SIG specs."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.ble import ParseError, hrs, rsc


def test_rsc_all_fields():
    # flags 0x07 = stride + distance + running; speed 0x0380/256 = 3.5 m/s; cadence 0xAC = 172;
    # stride 0x007B = 1.23 m; distance 0x00003039 = 12345 dm
    m = rsc.parse_measurement(bytes.fromhex("07 8003 AC 7B00 39300000"))
    assert m.speed_mps == 3.5
    assert m.cadence_spm == 172
    assert m.stride_m == pytest.approx(1.23)
    assert m.distance_m == pytest.approx(1234.5)
    assert m.running is True


def test_rsc_minimal_walking():
    m = rsc.parse_measurement(bytes.fromhex("00 4001 70"))  # 0x0140/256 = 1.25 m/s, 112/min
    assert (m.speed_mps, m.cadence_spm, m.stride_m, m.distance_m, m.running) == (
        1.25,
        112,
        None,
        None,
        False,
    )


def test_rsc_distance_without_stride():
    m = rsc.parse_measurement(bytes.fromhex("06 0002 B4 10270000"))
    assert m.stride_m is None
    assert m.distance_m == pytest.approx(1000.0)
    assert m.speed_mps == 2.0


@pytest.mark.parametrize(
    "payload",
    [
        "",  # empty
        "00 40 01",  # too short
        "08 4001 70",  # reserved flag bit 3
        "80 4001 70",  # reserved flag bit 7
        "01 4001 70",  # stride announced, missing
        "02 4001 70 1027",  # distance announced, truncated
        "00 4001 70 00",  # trailing byte
    ],
)
def test_rsc_malformed(payload):
    with pytest.raises(ParseError):
        rsc.parse_measurement(bytes.fromhex(payload))


def test_parse_error_is_value_error():
    assert issubclass(ParseError, ValueError)


def test_rsc_feature():
    f = rsc.parse_feature(bytes.fromhex("0700"))
    assert f.stride_length and f.total_distance and f.walking_running_status
    assert not f.calibration and not f.multiple_locations
    assert rsc.build_feature(f) == bytes.fromhex("0700")
    with pytest.raises(ParseError):
        rsc.parse_feature(bytes.fromhex("2000"))
    with pytest.raises(ParseError):
        rsc.parse_feature(b"\x07")


@given(
    speed=st.integers(0, 0xFFFF),
    cad=st.integers(0, 255),
    stride=st.none() | st.integers(0, 0xFFFF),
    dist=st.none() | st.integers(0, 2**32 - 1),
    running=st.booleans(),
)
def test_rsc_roundtrip(speed, cad, stride, dist, running):
    payload = rsc.build_measurement(
        speed / 256,
        cad,
        None if stride is None else stride / 100,
        None if dist is None else dist / 10,
        running,
    )
    m = rsc.parse_measurement(payload)
    assert round(m.speed_mps * 256) == speed and m.cadence_spm == cad and m.running == running
    assert (m.stride_m is None) == (stride is None)
    assert (m.distance_m is None) == (dist is None)
    if dist is not None:
        assert round(m.distance_m * 10) == dist


def test_hr_uint8_with_contact():
    m = hrs.parse_measurement(bytes.fromhex("06 48"))
    assert (m.hr_bpm, m.rr_s, m.energy_kj, m.contact) == (72, (), None, True)


def test_hr_contact_supported_but_lost():
    assert hrs.parse_measurement(bytes.fromhex("04 48")).contact is False


def test_hr_contact_not_supported():
    # bit1 without bit2: the spec says contact is not supported, so "detected" is meaningless
    assert hrs.parse_measurement(bytes.fromhex("02 48")).contact is None


def test_hr_rr_intervals():
    m = hrs.parse_measurement(bytes.fromhex("10 3C 0004 0002"))  # 1024/1024 s, 512/1024 s
    assert m.hr_bpm == 60
    assert m.rr_s == (1.0, 0.5)


def test_hr_uint16_energy_rr():
    m = hrs.parse_measurement(bytes.fromhex("19 2C01 1000 3303"))
    assert m.hr_bpm == 300
    assert m.energy_kj == 16
    assert m.rr_s == (0x0333 / 1024,)


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "00",
        "01 48",  # too short / uint16 HR truncated
        "20 48",
        "80 48",  # reserved flags
        "10 48",
        "10 48 00",  # RR announced: none, or an odd number of bytes
        "00 48 00",  # trailing bytes without RR flag
        "08 48 01",  # energy truncated
    ],
)
def test_hr_malformed(payload):
    with pytest.raises(ParseError):
        hrs.parse_measurement(bytes.fromhex(payload))


@given(
    hr=st.integers(0, 0xFFFF),
    rr=st.lists(st.integers(1, 0xFFFF), max_size=8),
    energy=st.none() | st.integers(0, 0xFFFF),
    contact=st.none() | st.booleans(),
)
def test_hr_roundtrip(hr, rr, energy, contact):
    m = hrs.parse_measurement(hrs.build_measurement(hr, [r / 1024 for r in rr], energy, contact))
    assert m.hr_bpm == hr and m.energy_kj == energy and m.contact == contact
    assert [round(r * 1024) for r in m.rr_s] == rr
