"""Polar PMD parsers against the byte vectors of Polar's BLE SDK unit tests.

Vectors: polarofficial/polar-ble-sdk, Android library tests ``pmd/model/AccDataTest.kt``
("process acc raw data frame type 1", "process acc compressed data type 0/1") and
``pmd/BlePmdClientPmdSettingsTest.java`` ("testPmdSettingsWithRange").
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from drivers.ble import ParseError, pmd
from drivers.ble.pmd import delta

ACC_HEADER_2E9_RAW1 = bytes.fromhex("02 0094357700000000 01")  # ts 2_000_000_000 ns, raw type 1
ACC_RAW1_CONTENT = bytes.fromhex(
    "F7FF FFFF E703 F8FF FEFF E503 F9FF FFFF E503 FAFF FFFF E603 FAFF FEFF E603"
    "F9FF FFFF E503 F8FF FFFF E603 F8FF FEFF E603 FAFF FFFF E503 FAFF FFFF E703"
    "FAFF FFFF E503 F8FF FFFF E603 F7FF FFFF E603 F8FF FEFF E603 F9FF FEFF E703"
    "F9FF 0000 E603 F9FF FFFF E603 F7FF FEFF E503 F9FF FFFF E503 F9FF FFFF E503"
    "FAFF 0000 E603 F9FF FEFF E603 F8FF FFFF E603 F8FF FFFF E503 F9FF FFFF E603"
    "F9FF FFFF E503 FAFF FFFF E603 F9FF FFFF E503 F9FF FFFF E503 F8FF FEFF E603"
    "F9FF FFFF E603 F9FF FFFF E603 F9FF 0000 E503 F9FF FEFF E603 F8FF FEFF E603"
    "F7FF FEFF E603"
)
ACC_COMPRESSED0_CONTENT = bytes.fromhex(
    "71 07 F0 6A 9E 8D 0A 38 BE 5C BE BA 2F 96 B3 EE 4B E5 AD FB 42 B9 EB BE 4C FE BA 2F"
    "92 BF EE 4B E4 B1 FB 12 B9 EC BD 3C 3E BB 2F 8F D3 DE 4B E3 B5 F7 D2 B8 ED BD 30 7E"
    "7B 2F 8B E3 CE 8B E2 BA F7 A2 B8 EE BC 20 BE 7B 2F 88 F3 CE CB E1 BD EF 52 F8 EF BC"
    "18 FE 3B 2F 84 03 BF CB E0 C2 EF 32 B8 F0 BB 04 4E BC 2E 81 13 AF 0B E0 C6 EF F2 F7"
    "F1 B9 FC 7D BC 2E 7D 27 9F 4B DF CA EB C2 F7 F2 B8 EC CD 7C 2E 7B 37 8F 4B DE CE E3"
    "92 F7 F3 B8 E0 0D FD 2D 77 4B 7F CB DD D2 DF 62 37 F5 B7 D4 4D BD 2D 74 5B 6F CB DC"
    "D7 D7 32 37 F6 B5 C8 8D 7D 2D 71 6B 4F 4B DC DC D3 F2 36 F7 B4 BC DD FD 2C 6F 7B 3F"
    "4B DB E0 CF D2 36 F8 B2 B0 2D BE 2C 6C 8F 1F CB DA E3 C7 A2 76 F9"
)


def test_raw_type1_acc_sdk_vector():
    frame = pmd.parse_frame(ACC_HEADER_2E9_RAW1 + ACC_RAW1_CONTENT, sample_rate_hz=52)
    assert frame.header == pmd.FrameHeader(2, 2_000_000_000, 1, False)
    assert len(frame) == len(ACC_RAW1_CONTENT) // 6
    np.testing.assert_allclose(frame.xyz[0], [-0.009, -0.001, 0.999])  # mG -> g
    np.testing.assert_allclose(frame.xyz[1], [-0.008, -0.002, 0.997])
    assert frame.t_ns[-1] == 2_000_000_000
    # first frame: spaced by the sample rate, counted back from the last sample
    assert np.diff(frame.t_ns) == pytest.approx(1e9 / 52, abs=1)
    assert frame.unit == "g"


def test_compressed_type0_acc_sdk_vector():
    header = bytes.fromhex("02 0094357700000000 80")
    factor = 2.44e-4
    frame = pmd.parse_frame(header + ACC_COMPRESSED0_CONTENT, previous_ns=100, factor=factor)
    assert len(frame) == 1 + 56
    ref = np.array([1905, 27376, -29282])
    np.testing.assert_allclose(frame.xyz[0], ref * factor)  # type 0 is in g
    np.testing.assert_allclose(frame.xyz[1], (ref + [190, -105, -85]) * factor)
    assert np.all(np.abs(frame.xyz) <= 8)  # sensor range 8 g
    step = (2_000_000_000 - 100) / 57
    assert frame.t_ns[0] == round(100 + step)
    assert frame.t_ns[-1] == 2_000_000_000


def test_compressed_type1_acc_sdk_vector():
    data = bytes.fromhex("02 6500000000000000 81") + bytes.fromhex("F1FF 1400 F003 06 01 7B0F08")
    frame = pmd.parse_frame(data, previous_ns=100)
    np.testing.assert_allclose(frame.xyz * 1000, [[-15, 20, 1008], [-20, 17, 1008]])
    assert frame.t_ns.tolist() == [100, 101]  # round-half-even, as Kotlin's round()


def test_factor_applied_to_gyro():
    samples = np.array([[100, -200, 300], [101, -190, 250], [90, -180, 260]])
    data = pmd.build_frame(pmd.MeasurementType.GYRO, 10**12, 0, True, delta.encode(samples))
    frame = pmd.parse_frame(data, factor=0.5, sample_rate_hz=100)
    np.testing.assert_allclose(frame.xyz, samples * 0.5)
    assert frame.unit == "dps"
    assert frame.t_ns.tolist() == [10**12 - 20_000_000, 10**12 - 10_000_000, 10**12]


def test_gyro_float_frames():
    values = np.array([[1.5, -2.25, 1000.0], [-1.75, 2.0, -999.5]], dtype=np.float32)
    ints = values.view(np.int32).astype(np.int64)
    data = pmd.build_frame(pmd.MeasurementType.GYRO, 5 * 10**9, 1, True, delta.encode(ints, 32))
    np.testing.assert_allclose(pmd.parse_frame(data, sample_rate_hz=52).xyz, values)


def test_decoder_spreads_using_previous_frame():
    dec = pmd.PmdDecoder()
    dec.configure(pmd.MeasurementType.ACC, sample_rate_hz=50, factor=1.0)
    samples = np.zeros((5, 3), dtype=int)
    t0 = 10**12
    first = dec.feed(pmd.build_frame(2, t0, 1, True, delta.encode(samples)))
    assert first.t_ns.tolist() == [
        t0 - 80_000_000,
        t0 - 60_000_000,
        t0 - 40_000_000,
        t0 - 20_000_000,
        t0,
    ]
    # the sensor clock runs 1 % fast: samples follow the frame timestamps, not the nominal rate
    second = dec.feed(pmd.build_frame(2, t0 + 101_000_000, 1, True, delta.encode(samples)))
    assert np.diff(second.t_ns).tolist() == [20_200_000] * 4
    assert second.t_ns[0] == t0 + 20_200_000


def test_multi_block_delta_frame():
    rng = np.random.default_rng(1)
    samples = np.cumsum(rng.integers(-300, 300, size=(600, 3)), axis=0)
    body = delta.encode(samples, block=37)
    np.testing.assert_array_equal(delta.decode(body, 3, 16), samples)


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        np.int64, st.tuples(st.integers(1, 80), st.just(3)), elements=st.integers(-32768, 32767)
    )
)
def test_delta_roundtrip(samples):
    np.testing.assert_array_equal(delta.decode(delta.encode(samples), 3, 16), samples)


@pytest.mark.parametrize(
    "content",
    [
        "F1FF 1400",  # reference sample truncated
        "F1FF 1400 F003 06",  # block header truncated
        "F1FF 1400 F003 06 02 7B0F08",  # block announces 2 samples (36 bits) but has 3 bytes
        "F1FF 1400 F003 00 01",  # zero delta width
        "F1FF 1400 F003 21 01 00000000000000000000000000",  # width 33 bits
    ],
)
def test_malformed_delta_frames(content):
    with pytest.raises(ParseError):
        pmd.parse_frame(
            bytes.fromhex("02 6500000000000000 81") + bytes.fromhex(content), previous_ns=1
        )


@pytest.mark.parametrize(
    "data",
    [
        "02 6500000000",  # header truncated
        "02 6500000000000000 01 F7FFFFFF",  # raw frame not a whole sample
        "02 6500000000000000 01",  # raw frame without samples
        "02 6500000000000000 07 000000000000",  # unknown frame type
        "05 6500000000000000 01 000000000000",  # raw gyro is not defined by the SDK
    ],
)
def test_malformed_frames(data):
    with pytest.raises(ParseError):
        pmd.parse_frame(bytes.fromhex(data), sample_rate_hz=52)


def test_no_time_base_is_an_error():
    samples = np.zeros((3, 3), dtype=int)
    with pytest.raises(ParseError):
        pmd.parse_frame(pmd.build_frame(2, 10**9, 1, True, delta.encode(samples)))


def test_settings_sdk_vector():
    data = bytes.fromhex("00 01 3400 01 01 1000 02 04 F500 F401 E803 D007 04 01 03")
    s = pmd.parse_settings(data)
    assert s == {
        pmd.SettingType.SAMPLE_RATE: (52,),
        pmd.SettingType.RESOLUTION: (16,),
        pmd.SettingType.RANGE: (245, 500, 1000, 2000),
        pmd.SettingType.CHANNELS: (3,),
    }
    assert pmd.parse_settings(pmd.build_settings(s)) == s


def test_settings_malformed():
    with pytest.raises(ParseError):
        pmd.parse_settings(bytes.fromhex("00 02 3400"))  # 2 values announced, 1 present
    with pytest.raises(ParseError):
        pmd.parse_settings(bytes.fromhex("09 01 00"))  # unknown setting type


def test_control_point_start_exchange():
    req = pmd.build_request(
        pmd.ControlOp.START,
        pmd.MeasurementType.ACC,
        {
            pmd.SettingType.SAMPLE_RATE: 52,
            pmd.SettingType.RESOLUTION: 16,
            pmd.SettingType.RANGE: 8,
            pmd.SettingType.FACTOR: 9.9,
        },
    )
    assert req == bytes.fromhex("02 02 00013400 01011000 02010800")  # FACTOR is never sent
    parsed = pmd.parse_request(req)
    assert parsed.op is pmd.ControlOp.START and parsed.measurement_type == 2
    assert parsed.settings[pmd.SettingType.SAMPLE_RATE] == (52,)
    params = pmd.build_settings({pmd.SettingType.FACTOR: 2.44e-4})
    resp = pmd.parse_response(pmd.build_response(2, 2, 0, params))
    assert resp.ok and not resp.more
    assert resp.settings[pmd.SettingType.FACTOR][0] == pytest.approx(2.44e-4)
    err = pmd.parse_response(bytes.fromhex("F0 02 02 05 00"))
    assert not err.ok and err.status == pmd.Status.INVALID_PARAMETER
    with pytest.raises(ParseError):
        pmd.parse_response(bytes.fromhex("01 02"))


def test_feature_read():
    assert pmd.parse_feature(bytes.fromhex("0F 25 00")) == {
        pmd.MeasurementType.ECG,
        pmd.MeasurementType.ACC,
        pmd.MeasurementType.GYRO,
    }
    types = {pmd.MeasurementType.ACC, pmd.MeasurementType.GYRO}
    assert pmd.parse_feature(pmd.build_feature(types)) == types
    with pytest.raises(ParseError):
        pmd.parse_feature(b"\x0e\x25")
