"""FIT normalisation: device-relative times, cadence units, developer-field units, power source."""

from __future__ import annotations

import struct

import numpy as np
import pandas as pd
import pytest

from drivers.fit import FitMessages, decode
from sensorhub.normalise import (
    RUNNING_SPORTS,
    STRIDE_CADENCE_SPORTS,
    clean_times,
    developer_fields,
    no_time_reason,
    running_frame,
    sessions,
)
from tests.shared import shared_dir
from tests.test_fit_decoder import data, definition, fit_file

NOW = pd.Timestamp("2026-01-01", tz="UTC")
T0 = 1_000_000_000  # FIT seconds: 2021-09-09 01:46:40 UTC
UTC0 = pd.Timestamp("1989-12-31", tz="UTC") + pd.Timedelta(seconds=T0)
REC = [(253, 4, 0x86), (3, 1, 0x02)]  # record: timestamp, heart_rate


def _records(times: list[int]) -> bytes:
    out = definition(1, 20, REC)
    return out + b"".join(data(1, struct.pack("<IB", t, 140)) for t in times)


def _file_id(created: int | None = None) -> bytes:
    if created is None:
        return definition(0, 0, [(0, 1, 0x00)]) + data(0, b"\x04")
    return definition(0, 0, [(0, 1, 0x00), (4, 4, 0x86)]) + data(0, struct.pack("<BI", 4, created))


def _decode(tmp_path, body: bytes) -> FitMessages:
    p = tmp_path / "t.fit"
    p.write_bytes(fit_file(body))
    return decode(p)


# --- item 1: relative timestamps -----------------------------------------------------------


def test_decoder_keeps_system_time_as_the_raw_number_like_fitparse(tmp_path):
    m = _decode(tmp_path, _file_id() + _records([100, 101, T0]))
    ts = m["record"]["timestamp"].tolist()
    assert ts[:2] == [100, 101] and ts[2] == UTC0


def test_system_times_anchored_by_timestamp_correlation(tmp_path):
    # correlation: system 95.5 s (95 + 500 ms) is T0 + 0.25 s (250 ms)
    corr = definition(2, 162, [(253, 4, 0x86), (1, 4, 0x86), (4, 2, 0x84), (5, 2, 0x84)])
    corr += data(2, struct.pack("<IIHH", T0, 95, 250, 500))
    m = _decode(tmp_path, _file_id(T0 - 3600) + corr + _records(list(range(100, 110))))
    (sf,) = sessions(m, now=NOW)
    first = UTC0 + pd.Timedelta(seconds=100 - 95.5 + 0.25)
    assert sf.run.index[0] == first and len(sf.run) == 10
    assert sf.run.index[-1] - sf.run.index[0] == pd.Timedelta(seconds=9)
    assert "anchored by timestamp_correlation" in sf.warnings[-1]


def test_system_times_anchored_by_absolute_time_created(tmp_path):
    m = _decode(tmp_path, _file_id(T0) + _records(list(range(50, 60))))
    (sf,) = sessions(m, now=NOW)
    assert sf.run.index[0] == UTC0 and sf.run.index[-1] == UTC0 + pd.Timedelta(seconds=9)
    assert "file_id.time_created" in sf.warnings[-1]


def test_clock_set_mid_run_anchors_the_earlier_records_before_the_first_absolute_one(tmp_path):
    m = _decode(tmp_path, _file_id(5) + _records([5, 6, 7, 8, T0, T0 + 1]))
    (sf,) = sessions(m, now=NOW)
    expected = [UTC0 + pd.Timedelta(seconds=s) for s in (-4, -3, -2, -1, 0, 1)]
    assert list(sf.run.index) == expected


def test_no_anchor_fails_with_a_precise_reason_and_local_time_anchors_with_a_zone(tmp_path):
    act = definition(3, 34, [(253, 4, 0x86), (5, 4, 0x86)])
    local = T0 + 2 * 3600  # local clock 2 h ahead (Europe/Berlin in summer)
    body = (
        _file_id(40) + _records(list(range(50, 60))) + act + data(3, struct.pack("<II", 60, local))
    )
    m = _decode(tmp_path, body)
    assert sessions(m, now=NOW) == []
    msg = no_time_reason(m, now=NOW)
    assert msg.startswith("10 records but none has a usable UTC timestamp: only device-relative")
    assert "tz=" in msg and "\n" not in msg
    assert no_time_reason(m, tz="Europe/Berlin", now=NOW) is None
    (sf,) = sessions(m, now=NOW, tz="Europe/Berlin")
    assert sf.run.index[-1] == UTC0 - pd.Timedelta(seconds=1)  # record 59 is 1 s before 60


def test_records_without_any_timestamp_say_so(tmp_path):
    rec = definition(1, 20, [(3, 1, 0x02)]) + data(1, b"\x8c")
    m = _decode(tmp_path, _file_id(T0) + rec)
    assert sessions(m, now=NOW) == []
    assert (
        no_time_reason(m)
        == "1 records but none has a usable UTC timestamp: the records carry no timestamp"
    )


def test_unset_clock_says_where_the_times_are(tmp_path):
    m = _decode(tmp_path, _file_id() + _records([0xF0000000 + i for i in range(3)]))
    assert sessions(m, now=NOW) == []
    assert no_time_reason(m, now=NOW) == (
        "3 records but none has a usable UTC timestamp: times 2117-08-05 09:04:00 to "
        "2117-08-05 09:04:02 UTC fall outside 1995-01-01 to now + 1 day (device clock not set?)"
    )


@pytest.mark.shared
def test_virb_file_is_placed_by_its_timestamp_correlation():
    m = decode(shared_dir("fit", "GPSBabel__gpsbabel", "garmin-virb-ultra-30.fit"))
    (sf,) = sessions(m, now=NOW)
    # timestamp_correlation: system 69.109 s = 2017-06-28 02:34:13.000; first record at 2 s
    assert sf.run.index[0] == pd.Timestamp("2017-06-28 02:33:05.891", tz="UTC")
    assert len(sf.run) == 210 and sf.start == sf.run.index[0]


# --- item 3: cadence ------------------------------------------------------------------------


def _msgs(record: pd.DataFrame, sport: str, **frames: pd.DataFrame) -> FitMessages:
    m = FitMessages()
    m["record"] = record
    m["session"] = pd.DataFrame([{"sport": sport, "sub_sport": "generic"}])
    for name, df in frames.items():
        m[name] = df
    return m


def _record(n: int = 5, **cols) -> pd.DataFrame:
    t = pd.date_range("2024-05-01 08:00", periods=n, freq="1s", tz="UTC")
    return pd.DataFrame({"timestamp": t, **cols})


@pytest.mark.parametrize(
    ("sport", "column", "value"),
    [
        ("running", "cadence_spm", 171.0),
        ("walking", "cadence_spm", 171.0),
        ("generic", "cadence_rpm", 85.5),
        ("training", "cadence_rpm", 85.5),
        ("cycling", "cadence_rpm", 85.5),
        ("hiking", "cadence_rpm", 85.5),
    ],
)
def test_cadence_is_doubled_only_where_fit_counts_strides(sport, column, value):
    rec = _record(cadence=[85] * 5, fractional_cadence=[0.5] * 5)
    (sf,) = sessions(_msgs(rec, sport), now=NOW)
    assert list(sf.run.columns).count(column) == 1 and sf.run[column].iloc[0] == value
    assert {"cadence_spm", "cadence_rpm"} - {column} & set(sf.run.columns) == set()


def test_running_dynamics_sports_and_stride_sports_are_separate_rules():
    assert {"running", "walking"} == STRIDE_CADENCE_SPORTS
    assert {"generic", "training", "hiking"} <= RUNNING_SPORTS - STRIDE_CADENCE_SPORTS


# --- item 4: developer field units ----------------------------------------------------------


def _descriptions(*rows: tuple[str, str, float | None, float | None, int]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "developer_data_index": idx,
                "field_definition_number": i,
                "field_name": name,
                "units": units,
                "scale": scale,
                "offset": offset,
                "native_mesg_num": "record",
            }
            for i, (name, units, scale, offset, idx) in enumerate(rows)
        ]
    )


@pytest.mark.parametrize(
    ("units", "scale", "offset", "raw", "mm"),
    [
        ("Centimeters", None, None, 6.5, 65.0),
        ("mm", None, None, 65.0, 65.0),
        ("m", None, None, 0.065, 65.0),
        ("cm", 10, None, 65, 65.0),  # raw / scale = 6.5 cm
        ("mm", None, -2, 63, 65.0),  # raw - offset
    ],
)
def test_developer_units_scale_and_offset_come_from_field_description(
    units, scale, offset, raw, mm
):
    fd = _descriptions(("Vertical Oscillation", units, scale, offset, 0))
    m = _msgs(_record(**{"Vertical Oscillation": [raw] * 5}), "running", field_description=fd)
    (sf,) = sessions(m, now=NOW)
    assert sf.run["vo_mm"].iloc[0] == pytest.approx(mm)


def test_runscribe_fields_are_converted_and_unknown_units_left_out_with_a_warning():
    fd = _descriptions(
        ("GCT_L", "s", None, None, 0),
        ("GCT_R", "Milliseconds", None, None, 0),
        ("P_L", "rad", None, None, 0),
        ("IG_L", "furlongs", None, None, 0),
    )
    rec = _record(GCT_L=[0.25] * 5, GCT_R=[240.0] * 5, P_L=[np.pi / 18] * 5, IG_L=[9.0] * 5)
    (sf,) = sessions(_msgs(rec, "running", field_description=fd), now=NOW)
    assert sf.run["gct_left_ms"].iloc[0] == pytest.approx(250.0)
    assert sf.run["gct_right_ms"].iloc[0] == pytest.approx(240.0)
    assert sf.run["pronation_left_deg"].iloc[0] == pytest.approx(10.0)
    assert "impact_left_g" not in sf.run
    assert any("'IG_L' in unknown unit 'furlongs'" in w for w in sf.warnings)


@pytest.mark.shared
def test_stryd_vertical_oscillation_and_ground_time_on_a_real_file():
    m = decode(shared_dir("fit", "3schweinehunde__fit_parser", "with_stryd.fit"))
    dev = developer_fields(m)
    assert dev["Vertical Oscillation"].units == "Centimeters" and dev["Power"].app == "stryd"
    (sf,) = sessions(m, now=NOW)
    raw_cm = m["record"]["Vertical Oscillation"]
    assert sf.run["vo_mm"].max() == pytest.approx(10 * raw_cm.max())
    assert 60 < sf.run["vo_mm"][sf.run["vo_mm"] > 0].median() < 70  # 6.5 cm
    assert sf.run["gct_ms"].max() == m["record"]["Ground Time"].max()
    assert sf.run["lss_kn_m"].notna().any()


# --- item 5: power source -------------------------------------------------------------------


def test_power_prefers_the_footpod_in_auto_and_the_choice_is_configurable():
    fd = _descriptions(("Power", "Watts", None, None, 0), ("Form Power", "Watts", None, None, 0))
    rec = _record(power=[300] * 5, Power=[250] * 5, **{"Form Power": [60] * 5})
    m = _msgs(rec, "running", field_description=fd)
    auto = sessions(m, now=NOW)[0]
    assert auto.run["power_w"].iloc[0] == 250 and auto.power_source == "stryd"
    assert auto.run.attrs["power_source"] == "stryd"
    native = sessions(m, now=NOW, power_source="native")[0]
    assert native.run["power_w"].iloc[0] == 300 and native.power_source == "native"
    only_dev = running_frame(rec.drop(columns=["Power"]), power_source="developer")
    assert "power_w" not in only_dev and only_dev.attrs["power_source"] is None
    with pytest.raises(ValueError):
        running_frame(rec, power_source="wrist")  # type: ignore[arg-type]


def test_native_power_is_used_when_no_developer_power_exists():
    (sf,) = sessions(_msgs(_record(power=[280] * 5), "running"), now=NOW)
    assert sf.run["power_w"].iloc[0] == 280 and sf.power_source == "native"


@pytest.mark.shared
def test_real_file_with_wrist_and_stryd_power():
    m = decode(shared_dir("fit", "GoldenCheetah__GoldenCheetah", "3386684871-saved.fit"))
    rec = m["record"]
    both = rec["power"].notna() & rec["Power"].notna() & (rec["power"] != rec["Power"])
    assert both.any()  # the file really disagrees somewhere
    auto = sessions(m, now=NOW)[0]
    native = sessions(m, now=NOW, power_source="native")[0]
    assert auto.power_source == "stryd" and native.power_source == "native"
    assert auto.run["power_w"].sum() == pytest.approx(rec["Power"].sum())
    assert native.run["power_w"].sum() == pytest.approx(rec["power"].sum())


# --- clean times, multisport splits, session rows (arrays instead of frames) ---------------


def _session(start: str, elapsed_s: float, sport: str = "running") -> dict:
    return {
        "start_time": pd.Timestamp(start, tz="UTC"),
        "total_elapsed_time": elapsed_s,
        "sport": sport,
        "sub_sport": "generic",
    }


def test_unsorted_duplicate_and_implausible_times_are_cleaned_as_clean_times_cleans_a_frame():
    t = pd.to_datetime(
        [
            "2024-05-01 08:00:02",
            "2024-05-01 08:00:00",
            "1990-01-01 00:00:00",  # before 1995: a clock fault
            "2024-05-01 08:00:02",  # twin of the first: completes it
            "2024-05-01 08:00:01",
            "2024-05-01 08:00:02",  # a third time: corrects hr, has no power
            "2030-01-01 00:00:00",  # after now + 1 day
        ],
        utc=True,
    )
    nan = np.nan
    rec = pd.DataFrame(
        {
            "timestamp": t,
            "heart_rate": [150.0, 140, 99, nan, 145, 152, 99],
            "power": [nan, 200.0, 99, 310, 205, nan, 99],
            "distance": [nan, 1.0, 99, nan, 2.0, nan, 99],
        }
    )
    (sf,) = sessions(_msgs(rec, "running"), now=NOW)
    run = sf.run
    assert (
        run.index.tolist()
        == pd.date_range("2024-05-01 08:00", periods=3, freq="1s", tz="UTC").tolist()
    )
    assert run["hr_bpm"].tolist() == [140.0, 145.0, 152.0]  # the last value at 08:00:02
    assert run["power_w"].tolist() == [200.0, 205.0, 310.0]  # the last non-missing one
    assert run["distance_m"].tolist()[:2] == [1.0, 2.0] and np.isnan(run["distance_m"].iloc[2])
    assert sf.duplicates_merged == 2
    assert "2 records without a plausible timestamp left out" in sf.warnings
    frame, n_dup, n_bad = clean_times(running_frame(rec), NOW)  # the frame way: the same
    pd.testing.assert_frame_equal(run, frame)
    assert (n_dup, n_bad) == (2, 2) and run.index.name == "time"


def test_sessions_of_a_multisport_file_take_their_own_records_and_columns():
    t = pd.date_range("2024-05-01 08:00", periods=10, freq="1s", tz="UTC")
    t = t.insert(5, pd.Timestamp("1990-01-01", tz="UTC"))  # in no session
    rec = pd.DataFrame(
        {
            "timestamp": t,
            "heart_rate": np.arange(11, dtype=float),
            "cadence": [80] * 5 + [0] + [90] * 5,
            "power": [np.nan] * 6 + [250.0] * 5,  # only the second session has power
            "activity_type": ["running"] * 11,  # a str column, unmapped
        }
    )
    m = _msgs(rec, "running")
    m["session"] = pd.DataFrame(
        [_session("2024-05-01 08:00:00", 4.0), _session("2024-05-01 08:00:05", 4.0, "cycling")]
    )
    first, second = sessions(m, now=NOW)
    assert (
        first.run.index.tolist() == t[:5].tolist() and second.run.index.tolist() == t[6:].tolist()
    )
    assert first.run["cadence_spm"].tolist() == [160.0] * 5 and "power_w" not in first.run
    assert second.run["cadence_rpm"].tolist() == [90.0] * 5
    assert second.run["power_w"].tolist() == [250.0] * 5 and second.power_source == "native"
    assert (first.power_source, first.sport, second.sport) == (None, "running", "cycling")
    times = rec["timestamp"]
    for sf in (first, second):  # what running_frame gives for the session's rows of the frame
        part = rec[(times >= sf.start) & (times <= sf.end)]
        expected = running_frame(part, running=sf.sport == "running")
        pd.testing.assert_frame_equal(sf.run, expected)


def test_session_rows_are_the_frame_records_with_python_values():
    sess = pd.DataFrame(
        {
            "start_time": pd.to_datetime(["2024-05-01 08:00", "2024-05-01 09:00"], utc=True),
            "sport": ["running", "running"],
            "sub_sport": ["trail", None],  # a str column with a missing value
            "total_elapsed_time": [4.0, 4.0],
            "total_calories": [50, 60],
            "avg_left_power_phase": [(1, 2), None],  # an object column
        }
    )
    t = pd.date_range("2024-05-01 08:00", periods=5, freq="1s", tz="UTC")
    m = _msgs(pd.DataFrame({"timestamp": t.append(t + pd.Timedelta(hours=1))}), "running")
    m["session"] = sess
    got = [sf.fit_summary for sf in sessions(m, now=NOW)]
    want = sess.to_dict("records")
    assert [list(g) for g in got] == [list(w) for w in want]
    for g, w in zip(got, want, strict=True):
        for k in w:
            assert type(g[k]) is type(w[k]), k
            assert g[k] == w[k] or (pd.isna(g[k]) and pd.isna(w[k])), k
    assert [sf.sub_sport for sf in sessions(m, now=NOW)] == ["trail", "nan"]


def test_object_columns_of_none_are_left_out_and_partly_filled_ones_read_as_numbers():
    rec = _record(
        heart_rate=np.array([None] * 5, dtype=object),  # the device never filled it
        power=np.array([None, 250, None, 260, None], dtype=object),
        cadence=np.array([None, "85", 86, None, None], dtype=object),  # to_numeric's rules
    )
    (sf,) = sessions(_msgs(rec, "running"), now=NOW)
    assert "hr_bpm" not in sf.run and sf.power_source == "native"
    assert sf.run["power_w"].tolist()[1::2] == [250.0, 260.0]
    assert sf.run["power_w"].isna().tolist() == [True, False, True, False, True]
    assert sf.run["cadence_spm"].tolist()[1:3] == [170.0, 172.0]
    assert sf.run.dtypes.eq(np.float64).all()
