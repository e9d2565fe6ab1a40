"""API shape, JSON fields, LSI arithmetic, the demo fixtures, and each bad-input error."""

import json
from pathlib import Path

import pandas as pd
import pytest

from sensorhub.readiness import (
    ReadinessError,
    analyse_leg,
    analyse_test,
    limb_symmetry_index,
)
from tests.test_readiness_hop import GEN

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "readiness"


def test_lsi_arithmetic():
    assert limb_symmetry_index(45.0, 50.0, "L") == pytest.approx(90.0)
    assert limb_symmetry_index(45.0, 50.0, "R") == pytest.approx(50 / 45 * 100)
    assert limb_symmetry_index(50.0, 45.0) == pytest.approx(90.0)  # smaller / larger
    assert limb_symmetry_index(30.0, 20.0, "L", higher_is_better=False) == pytest.approx(
        20 / 30 * 100
    )
    assert limb_symmetry_index(None, 20.0) is None
    assert limb_symmetry_index(0.0, 20.0, "L") is None


@pytest.mark.parametrize(
    "kind,leg_keys,lsi_keys",
    [
        (
            "hop",
            {
                "hops",
                "flight_ms",
                "contact_ms",
                "height_cm",
                "rsi",
                "flight_cv_pct",
                "contact_cv_pct",
                "height_cv_pct",
                "rsi_cv_pct",
            },
            {"lsi_height_pct", "lsi_rsi_pct"},
        ),
        (
            "heel_raise",
            {"reps", "reps_total", "amplitude_deg", "rhythm_rpm", "rhythm_cv_pct", "fatigue_rep"},
            {"lsi_reps_pct"},
        ),
        (
            "balance",
            {"rms_mg", "jerk", "path", "area", "velocity_mmps", "f50_hz", "f95_hz", "losses"},
            {"lsi_rms_pct", "lsi_jerk_pct"},
        ),
    ],
)
def test_demo_fixtures_match_their_truth(kind, leg_keys, lsi_keys):
    truth = json.loads((FIX / f"{kind}.truth.json").read_text())
    left, right = (pd.read_csv(FIX / f"{kind}_{leg}.csv") for leg in "LR")
    for f in (FIX / f"{kind}_L.csv", FIX / f"{kind}_R.csv"):
        assert f.stat().st_size < 300_000
    res = analyse_test(truth["kind"], left, right, truth["placement"], involved=truth["involved"])
    out = json.loads(json.dumps(res.to_json()))  # JSON-serialisable
    assert leg_keys <= out["legs"]["L"].keys() and leg_keys <= out["legs"]["R"].keys()
    assert lsi_keys <= out.keys() and out["lsi_basis"] == "involved/uninvolved"
    for k in lsi_keys:
        assert out[k] == pytest.approx(truth[k], abs=2.0)
    if kind == "heel_raise":
        assert [out["legs"][x]["reps"] for x in "LR"] == [truth["legs"][x]["reps"] for x in "LR"]
    if kind == "hop":
        assert [out["legs"][x]["hops"] for x in "LR"] == [truth["legs"][x]["hops"] for x in "LR"]


def test_error_hop_below_200_hz_says_the_rate():
    frame, _ = GEN.hops(fs=150, seed=1)
    with pytest.raises(ReadinessError, match=r"150\.0 Hz.*at least 200 Hz"):
        analyse_leg("hop", frame, "shank")
    ok, _ = GEN.hops(fs=400, seed=1)
    with pytest.raises(ReadinessError, match=r"left-leg recording is sampled at 150\.0 Hz"):
        analyse_test("hop", frame, ok, "shank")


@pytest.mark.parametrize(
    "kind,placement", [("heel-raise", "sacrum"), ("hop", "foot"), ("balance", "wrist")]
)
def test_error_wrong_placement(kind, placement):
    frame, _ = GEN.hops(fs=400, seed=1)
    with pytest.raises(
        ReadinessError, match=f"{kind} test needs a pod on the .* not '{placement}'"
    ):
        analyse_test(kind, frame, frame, placement)


def test_error_no_hops_and_no_reps():
    standing, _ = GEN.balance(rms_mg=5, fs=200, seed=1)  # quiet stance: no free fall, no raise
    with pytest.raises(ReadinessError, match="no hops found in the right-leg recording"):
        hop, _ = GEN.hops(fs=200, seed=1)
        analyse_test("hop", hop, standing, "sacrum")
    with pytest.raises(ReadinessError, match="no reps found"):
        analyse_leg("heel-raise", standing, "shank")


def test_error_missing_leg_and_bad_columns():
    frame, _ = GEN.hops(fs=400, seed=1)
    with pytest.raises(ReadinessError, match="right-leg recording is missing"):
        analyse_test("hop", frame, None, "shank")
    with pytest.raises(ReadinessError, match="left-leg recording is missing"):
        analyse_test("hop", frame.iloc[:0], frame, "shank")
    with pytest.raises(ReadinessError, match="needs t_s plus acc_x_g"):
        analyse_leg("hop", frame[["t_s", "acc_x_g"]], "shank")
    with pytest.raises(ReadinessError, match="unknown test"):
        analyse_leg("sprint", frame, "shank")
    assert issubclass(ReadinessError, ValueError)


def test_units_in_mps2_are_converted():
    frame, truth = GEN.hops(fs=400, noise_g=0.01, seed=4)
    si = frame.copy()
    cols = [c for c in si if c.startswith("acc_")]
    si[cols] = si[cols] * 9.80665
    a, b = analyse_leg("hop", frame, "shank"), analyse_leg("hop", si, "shank")
    assert a["flight_ms"] == pytest.approx(b["flight_ms"], abs=0.01)
