"""Heel raises on the generator (the only truth): count exact, fatigue rep exact, rhythm."""

import pytest

from sensorhub.readiness import analyse_leg, analyse_test
from tests.test_readiness_hop import GEN

MOUNTINGS = [(None, 0.005, 0.0), ([-120, 45, 170], 0.02, 0.05), ("random", 0.02, 0.05)]


@pytest.mark.parametrize("fs", [52, 100, 200])
@pytest.mark.parametrize("rotation,noise_g,bias_g", MOUNTINGS)
@pytest.mark.parametrize("gyro", [True, False])
def test_heel_raise_count_exact(fs, rotation, noise_g, bias_g, gyro):
    frame, truth = GEN.heel_raises(
        full_reps=14, fs=fs, noise_g=noise_g, bias_g=bias_g, rotation=rotation, seed=fs
    )
    if not gyro:
        frame = frame.drop(columns=[c for c in frame if c.startswith("gyr_")])
    s = analyse_leg("heel-raise", frame, "shank")
    assert s["reps"] == truth["reps"]
    assert s["reps_total"] == truth["reps_total"]
    assert s["fatigue_rep"] == truth["fatigue_rep"]
    assert s["rhythm_rpm"] == pytest.approx(30.0, abs=1.0)  # generator: one rep per 2 s
    assert s["pitch_source"] == ("gyro" if gyro else "accelerometer")
    if gyro:  # degrees of shank pitch are only meaningful from the gyro
        assert s["amplitude_deg"] == pytest.approx(truth["amplitude_deg"], rel=0.05)


def test_no_fatigue_gives_no_fatigue_rep():
    frame, truth = GEN.heel_raises(full_reps=10, tail=(), fs=100, seed=1)
    s = analyse_leg("heel-raise", frame, "shank")
    assert s["reps"] == 10 and s["fatigue_rep"] is None and truth["fatigue_rep"] is None


def test_fatigue_fraction_is_a_parameter():
    frame, _ = GEN.heel_raises(full_reps=10, fs=100, seed=2)  # tail 0.8, 0.65, 0.40, 0.35
    assert analyse_leg("heel-raise", frame, "shank", fatigue_fraction=0.72)["reps"] == 11
    assert analyse_leg("heel-raise", frame, "shank", fatigue_fraction=0.5)["reps"] == 12


def test_lsi_of_the_count():
    left, tl = GEN.heel_raises(full_reps=12, fs=100, seed=3)
    right, tr = GEN.heel_raises(full_reps=16, fs=100, rotation="random", seed=4)
    res = analyse_test("heel-raise", left, right, "shank", involved="L")
    assert res.lsi["lsi_reps_pct"] == pytest.approx(100 * tl["reps"] / tr["reps"], abs=0.1)
