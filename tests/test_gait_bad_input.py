"""Bad input: each case has a clear outcome (contacts, no contacts + warning, or GaitError)."""

import numpy as np
import pandas as pd
import pytest

from sensorhub.gait import GaitError, analyse, detect_contacts
from tests.gait_helpers import load_generator, match

gen = load_generator()


@pytest.fixture
def run():
    truth = gen.schedule(20.0)
    return gen.sacrum(truth, duration_s=20.0), truth


def test_nans_are_skipped_with_warning(run):
    frame, truth = run
    frame = frame.copy()
    frame.loc[3000:3010, "acc_v_g"] = np.nan  # 22 ms hole
    res = analyse(frame, "sacrum")
    assert any("NaN" in w for w in res.warnings)
    assert len(match(res.contacts, truth)) >= len(truth) - 1


def test_gap_splits_the_recording(run):
    frame, truth = run
    frame = frame[(frame.t_s < 8.0) | (frame.t_s > 10.0)]
    res = analyse(frame, "sacrum")
    assert any("segments" in w for w in res.warnings)
    kept = truth[(truth.to_s < 8.0) | (truth.ic_s > 10.0)]
    assert len(match(res.contacts, kept)) >= len(kept) - 2
    assert res.contacts["ic_s"].between(8.0, 10.0).sum() == 0
    # the step across the gap is not counted as a step time
    assert res.contacts["step_time_ms"].max() < 400


def test_clipped_signal_warns_but_still_detects():
    truth = gen.schedule(20.0)
    left = truth[truth.side == "L"]
    frame = gen.shank(left, duration_s=20.0)
    frame["acc_v_g"] = frame["acc_v_g"].clip(-8, 4.0) * 2.0  # peaks flattened at 8 g
    res = analyse(frame, "shank")
    assert any("saturated" in w for w in res.warnings)
    assert len(match(res.contacts, left)) == len(left)


@pytest.mark.parametrize("scale,unit", [(9.80665, "m/s²"), (1000.0, "mg")])
def test_wrong_units_are_converted_with_warning(run, scale, unit):
    frame, truth = run
    bad = frame.copy()
    for c in ("acc_v_g", "acc_ap_g", "acc_ml_g"):
        bad[c] *= scale
    res = analyse(bad, "sacrum")
    assert any(unit in w for w in res.warnings)
    assert len(res.contacts) == len(truth)


def test_standing_still_gives_no_contacts():
    t = np.arange(0, 30, 0.005)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "t_s": t,
            "acc_v_g": 1 + rng.normal(0, 0.01, t.size),
            "acc_ap_g": rng.normal(0, 0.01, t.size),
            "acc_ml_g": rng.normal(0, 0.01, t.size),
        }
    )
    for placement in ("sacrum", "shank"):
        res = analyse(frame, placement)
        assert res.contacts.empty and res.summary["n_steps"] == 0
        assert any("no ground contacts" in w for w in res.warnings)


def test_walking_has_no_flight_so_no_running_contacts():
    # walking: vertical sacral acceleration 1 g ± 0.3 g, never near free fall
    t = np.arange(0, 30, 0.005)
    v = 1 + 0.3 * np.sin(2 * np.pi * 1.8 * t)
    frame = pd.DataFrame({"t_s": t, "acc_v_g": v, "acc_ap_g": 0.2 * np.cos(2 * np.pi * 1.8 * t)})
    res = analyse(frame, "sacrum")
    assert res.contacts.empty
    assert any("walking" in w for w in res.warnings)


def test_garbage_frames_raise_gait_error():
    with pytest.raises(GaitError):
        detect_contacts(pd.DataFrame({"x": [1, 2]}), "sacrum")
    with pytest.raises(GaitError):
        detect_contacts(pd.DataFrame({"t_s": [0.0], "acc_v_g": [1.0]}), "sacrum")
    all_nan = pd.DataFrame({"t_s": np.arange(0, 5, 0.005), "acc_v_g": np.nan})
    assert detect_contacts(all_nan, "sacrum").empty
