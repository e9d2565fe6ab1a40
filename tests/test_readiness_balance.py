"""Single-leg balance on the generator (the only truth): ISway-style sway metrics within 5 %
of the analytic truth, loss-of-balance events found, LSI orientation for lower-is-better."""

import pytest

from sensorhub.readiness import analyse_leg, analyse_test
from tests.test_readiness_hop import GEN

METRICS = ["rms_mg", "jerk", "path", "velocity_mmps", "area", "f50_hz", "f95_hz"]


@pytest.mark.parametrize("fs", [52, 200, 500])
@pytest.mark.parametrize("placement", ["sacrum", "shank"])
@pytest.mark.parametrize(
    "rotation,bias_g", [(None, 0.0), ([-120, 45, 170], 0.05), ("random", 0.05)]
)
def test_sway_metrics_within_5_pct(fs, placement, rotation, bias_g):
    # 3 mg white noise: several times a MEMS accelerometer's (~0.1 mg/√Hz) at these rates
    frame, truth = GEN.balance(
        rms_mg=25,
        fs=fs,
        placement=placement,
        noise_g=0.003,
        bias_g=bias_g,
        rotation=rotation,
        seed=fs,
    )
    s = analyse_leg("balance", frame, placement)
    for k in METRICS:
        # spectral edges of one 30 s trial are resolved to half a bin, 1/(2T) = 0.017 Hz
        tol = max(0.05 * truth[k], 0.5 / 30.0) if k.startswith("f") else 0.05 * truth[k]
        assert s[k] == pytest.approx(truth[k], abs=tol), k
    assert s["losses"] == 0


def test_losses_are_found_and_excluded():
    frame, truth = GEN.balance(rms_mg=25, fs=100, losses_s=(8.0, 20.0), seed=11)
    clean, _ = GEN.balance(rms_mg=25, fs=100, seed=11)
    s = analyse_leg("balance", frame, "sacrum")
    assert s["losses"] == 2
    assert s["analysed_s"] == pytest.approx(30 - 2 * 2.0, abs=0.1)
    assert s["rms_mg"] == pytest.approx(truth["rms_mg"], rel=0.1)
    assert analyse_leg("balance", clean, "sacrum")["losses"] == 0


def test_lsi_lower_is_better_is_inverted():
    # the involved left leg sways more: its LSI must be < 100 %
    left, tl = GEN.balance(rms_mg=32, fs=100, seed=5)
    right, tr = GEN.balance(rms_mg=24, fs=100, rotation="random", seed=6)
    res = analyse_test("balance", left, right, "sacrum", involved="L")
    assert res.lsi["lsi_rms_pct"] == pytest.approx(100 * 24 / 32, abs=0.5)
    assert res.lsi["lsi_jerk_pct"] == pytest.approx(100 * tr["jerk"] / tl["jerk"], rel=0.05)
    sym = analyse_test("balance", left, right, "l5")
    assert sym.lsi["lsi_rms_pct"] == pytest.approx(res.lsi["lsi_rms_pct"], abs=1e-9)
    flipped = analyse_test("balance", left, right, "sacrum", involved="R")
    assert flipped.lsi["lsi_rms_pct"] > 100
