"""One load method per athlete (series_loads): choice, estimates, missing sessions."""

import numpy as np
import pandas as pd
import pytest

from sensorhub.load import choose_method, daily_series, series_loads, session_load
from sensorhub.load.method import has_method

NAN = np.nan


def sessions(trimp, srpe, duration):
    return pd.DataFrame({"trimp": trimp, "srpe": srpe, "duration_min": duration})


def test_one_logged_rpe_does_not_switch_that_session_to_srpe():
    # No HR limits (no TRIMP); 10 runs of 52 min; RPE 6 logged for one -> sRPE 312.
    # Per session (session_load) that one becomes 312 AU among 52-minute loads.
    s = sessions([NAN] * 10, [NAN] * 9 + [312.0], [52.0] * 10)
    assert session_load(srpe=312.0, duration_min=52.0) == (312.0, "srpe")
    out = series_loads(s, "trimp")
    assert out.method == "duration"
    assert out.loads.tolist() == [52.0] * 10
    assert (out.status == "measured").all()
    assert out.note == (
        "duration for 10 of 10 sessions; configured TRIMP available for only 0 of 10."
    )


def test_srpe_for_most_sessions_estimates_the_rest_from_duration():
    # 14 sessions, RPE logged for 12: per-session RPE (sRPE/min) 4,5,5,5,5,6,6,6,6,6,7,8
    # -> median 6; the two without are estimated as 6 × minutes.
    rpe = [4, 5, 5, 5, 5, 6, 6, 6, 6, 6, 7, 8]
    minutes = [40.0 + 2 * i for i in range(14)]
    srpe = [r * m for r, m in zip(rpe, minutes[:12], strict=True)] + [NAN, NAN]
    out = series_loads(sessions([NAN] * 14, srpe, minutes), "srpe")
    assert out.method == "srpe"
    assert out.per_minute == pytest.approx(6.0)
    assert out.status.tolist() == ["measured"] * 12 + ["estimated"] * 2
    assert out.loads.iloc[12:].tolist() == [6.0 * 64.0, 6.0 * 66.0]
    assert out.loads.iloc[:12].tolist() == srpe[:12]
    assert out.note == (
        "sRPE for 12 of 14 sessions; 2 estimated from duration (6 AU/min, median of 12 sessions)."
    )


def test_configured_primary_wins_when_the_history_has_it():
    s = sessions([80.0, 90.0, 70.0], [300.0, NAN, 280.0], [45.0, 50.0, 40.0])
    assert series_loads(s, "trimp").method == "trimp"
    assert series_loads(s, "duration").method == "duration"
    # sRPE: 2 of 3 measured but fewer than 5 pairs to estimate the third -> not "has"
    assert not has_method(s, "srpe")
    assert series_loads(s, "srpe").method == "trimp"


def test_too_few_pairs_to_estimate_means_missing_and_not_counted():
    # TRIMP for 3 of 4 sessions but only one pair with a duration (< 5), duration for 2
    # of 4 (duration cannot be estimated): no method qualifies, TRIMP is measured most.
    s = sessions([80.0, 90.0, 70.0, NAN], [NAN] * 4, [45.0, NAN, NAN, 30.0])
    assert choose_method(s, "trimp") == "trimp"  # most measured (3) of the candidates
    out = series_loads(s, "trimp")
    assert out.status.tolist() == ["measured", "measured", "measured", "missing"]
    assert np.isnan(out.loads.iloc[3])
    assert out.note == "TRIMP for 3 of 4 sessions; 1 without a load (not counted)."
    # a missing session adds nothing to its day
    days = pd.to_datetime(["2024-03-01", "2024-03-02", "2024-03-03", "2024-03-04"])
    daily = daily_series(pd.DataFrame({"day": days, "load": out.loads.to_numpy()}))
    assert daily.tolist() == [80.0, 90.0, 70.0, 0.0]


def test_trimp_estimated_from_the_athletes_own_trimp_per_minute():
    # TRIMP/min of the 6 measured: 1.5, 1.6, 1.8, 2.0, 2.2, 2.5 -> median 1.9
    per_min = [1.5, 1.6, 1.8, 2.0, 2.2, 2.5]
    minutes = [50.0, 40.0, 60.0, 30.0, 45.0, 35.0, 55.0, 20.0]
    trimp = [p * m for p, m in zip(per_min, minutes, strict=False)] + [NAN, NAN]
    out = series_loads(sessions(trimp, [NAN] * 8, minutes), "trimp")
    assert out.method == "trimp"
    assert out.per_minute == pytest.approx(1.9)
    assert out.loads.iloc[6:].tolist() == pytest.approx([1.9 * 55.0, 1.9 * 20.0])


def test_has_method_rules():
    full = sessions([60.0] * 4, [NAN] * 4, [30.0] * 4)
    assert has_method(full, "trimp")  # every session measured
    assert not has_method(full, "srpe")
    half = sessions([60.0] * 5 + [NAN] * 5, [NAN] * 10, [30.0] * 10)
    assert has_method(half, "trimp")  # 50 % and 5 pairs
    below = sessions([60.0] * 5 + [NAN] * 6, [NAN] * 11, [30.0] * 11)
    assert not has_method(below, "trimp")  # 5 of 11 < 50 %
    assert series_loads(below, "trimp").method == "duration"


def test_index_kept_missing_columns_and_empty():
    s = pd.DataFrame({"duration_min": [30.0, 40.0]}, index=["a", "b"])
    out = series_loads(s, "srpe")
    assert out.method == "duration" and list(out.loads.index) == ["a", "b"]
    empty = series_loads(pd.DataFrame(columns=["trimp", "srpe", "duration_min"]), "srpe")
    assert empty.method == "srpe" and empty.loads.empty and empty.note == "no sessions."
    with pytest.raises(ValueError):
        series_loads(s, "distance")
