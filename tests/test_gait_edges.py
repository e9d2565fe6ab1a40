"""Contacts cut by a recording's edges are kept as partial contacts, counted as steps.

Each recording below is cropped from a generated run so that it starts and ends in the
middle of a stance (the known truth says which event of those stances lies in the data).
"""

import numpy as np
import pandas as pd
import pytest

from sensorhub.gait import analyse, detect_contacts, step_metrics, summarise, window_summary
from tests.gait_helpers import load_generator, match

gen = load_generator()
TRUTH = gen.schedule(20.0)
FIRST, LAST = 10, 40  # crop from mid-stance of contact 10 to mid-stance of contact 40


def _crop(frame: pd.DataFrame, a: float, b: float) -> pd.DataFrame:
    return frame[frame["t_s"].between(a, b)].reset_index(drop=True)


def _cropped(placement: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(frame, truth of the contacts that overlap it) for one placement."""
    if placement == "sacrum":
        truth, frame = TRUTH, gen.sacrum(TRUTH, duration_s=20.0)
    else:
        truth = TRUTH[TRUTH.side == "L"].reset_index(drop=True)
        make = gen.shank if placement == "shank" else gen.foot
        frame = make(truth, duration_s=20.0)
    first, last = (FIRST, LAST) if placement == "sacrum" else (FIRST // 2, LAST // 2)
    # shank: start on the impact front (IC 20 ms before the data; the impact is seen)
    lead = 0.02 if placement == "shank" else 0.1
    a, b = truth.ic_s[first] + lead, truth.ic_s[last] + 0.1
    return _crop(frame, a, b), truth.iloc[first : last + 1].reset_index(drop=True)


@pytest.mark.parametrize("placement", ["sacrum", "shank", "foot"])
def test_stances_cut_at_both_edges_are_partial_contacts(placement):
    frame, truth = _cropped(placement)
    det = detect_contacts(frame, placement)
    assert len(det) == len(truth)
    first, last = det.iloc[0], det.iloc[-1]
    # start: TO seen, IC before the data; end: IC seen, TO after the data
    assert first.partial and np.isnan(first.ic_s) and np.isnan(first.gct_ms)
    assert first.to_s == pytest.approx(truth.to_s.iloc[0], abs=0.003)
    assert last.partial and np.isnan(last.to_s) and np.isnan(last.gct_ms)
    assert last.ic_s == pytest.approx(truth.ic_s.iloc[-1], abs=0.003)
    inner = det.iloc[1:-1]
    assert not inner["partial"].any() and np.isfinite(inner["gct_ms"]).all()
    assert len(match(inner, truth)) == len(inner)


def test_sacral_sides_include_partial_contacts():
    frame, truth = _cropped("sacrum")
    det = detect_contacts(frame, "sacrum")
    assert det["side"].tolist() == truth["side"].tolist()


@pytest.mark.parametrize("placement", ["sacrum", "shank"])
def test_partial_contacts_count_as_steps_without_gct(placement):
    frame, truth = _cropped(placement)
    res = analyse(frame, placement)
    s = res.summary
    assert s["n_steps"] == len(truth) and s["n_partial_contacts"] == 2
    # the contact before the end-cut one keeps its step time (its next IC is known)
    steps = res.contacts
    assert np.isfinite(steps["step_time_ms"].iloc[-2])
    assert np.isnan(steps["step_time_ms"].iloc[-1])
    assert res.windows["n_steps"].sum() == len(truth)
    # medians ignore the NaN GCTs
    full = steps.loc[~steps["partial"], "gct_ms"]
    assert s["gct_ms"] == pytest.approx(full.median())
    if placement == "sacrum":
        assert s["cadence_spm"] == pytest.approx(60 / 0.333, rel=0.01)
        assert np.isfinite(s["gct_si_pct"]) and s["gct_si_pct"] < 0  # R 270 > L 250 ms


def test_step_metrics_with_a_start_partial_row():
    contacts = pd.DataFrame(
        {
            "ic_s": [np.nan, 1.3, 1.6, 1.9],
            "to_s": [1.05, 1.55, 1.85, np.nan],
            "side": ["L", "R", "L", "R"],
            "partial": [True, False, False, True],
        }
    )
    contacts["gct_ms"] = 1000 * (contacts["to_s"] - contacts["ic_s"])
    steps = step_metrics(contacts.iloc[::-1], contacts_per_stride=2)  # order is restored
    assert steps["to_s"].iloc[0] == 1.05
    np.testing.assert_allclose(steps["step_time_ms"], [np.nan, 300, 300, np.nan])
    np.testing.assert_allclose(steps["flight_ms"], [np.nan, 50, 50, np.nan])
    s = summarise(steps)
    assert s["n_steps"] == 4 and s["n_partial_contacts"] == 2 and s["gct_ms"] == 250
    win = window_summary(steps, 10.0)
    assert win["n_steps"].tolist() == [4] and win["t_start_s"].iloc[0] == 1.05


def test_a_gap_cuts_stances_like_an_edge():
    frame = gen.sacrum(TRUTH, duration_s=20.0)
    # a gap from mid-stance of contact 20 to mid-stance of contact 26
    a, b = TRUTH.ic_s[20] + 0.1, TRUTH.ic_s[26] + 0.1
    det = detect_contacts(frame[(frame.t_s < a) | (frame.t_s > b)], "sacrum")
    cut = det[det["partial"]]
    assert len(cut) == 2
    assert cut["ic_s"].iloc[0] == pytest.approx(TRUTH.ic_s[20], abs=0.003)
    assert cut["to_s"].iloc[1] == pytest.approx(TRUTH.to_s[26], abs=0.003)
    assert len(det) == len(TRUTH) - 5  # contacts 21-25 fall in the gap


def test_standing_at_the_start_is_not_a_partial_contact():
    # 2 s standing (1 g), then running: the long "stance" at the start is no running step
    truth = gen.schedule(12.0, t0_s=2.5)
    frame = gen.sacrum(truth, duration_s=12.0)
    frame.loc[frame.t_s < 2.3, "acc_v_g"] = 1.0
    det = detect_contacts(frame, "sacrum")
    assert not det["partial"].iloc[0]
    assert len(match(det, truth)) == len(truth)


def test_a_window_with_nan_or_inf_samples_prints_no_numpy_warning():
    """A live window holding a gap or a clipped sample (NaN, inf) printed "RuntimeWarning: invalid value
    encountered in divide" from the shank detector's peak refinement on the console."""
    import warnings

    import numpy as np

    from sensorhub.gait.shank import _parabolic_rows

    win = np.array([[1.0, 3.0, 2.0, 0.0], [np.nan, np.nan, 1.0, 0.0], [np.inf, 1.0, 0.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        off = _parabolic_rows(win, np.array([1, 1, 1]))
    assert off[0] == pytest.approx(0.5 * (1.0 - 2.0) / (1.0 - 6.0 + 2.0))
    assert np.isnan(off[1])
