"""Hop test on the physics-based generator (fixtures/readiness/generate.py), the only truth
for hops: every hop found, flight-time MAE ≤ 5 ms, height MAE ≤ 1 cm, at 200/400/500 Hz,
with noise, bias and several pod orientations, for shank and sacrum pods."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from sensorhub.readiness import analyse_leg, analyse_test, jump_height_cm, limb_symmetry_index
from sensorhub.readiness.api import _leg

ROOT = Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location("rgen", ROOT / "fixtures/readiness/generate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


GEN = _generator()
ORIENTATIONS = [None, [-120, 45, 170], "random"]


@pytest.mark.parametrize("fs", [200, 400, 500])
@pytest.mark.parametrize("placement", ["shank", "sacrum"])
@pytest.mark.parametrize("rotation", ORIENTATIONS)
@pytest.mark.parametrize("noise_g,bias_g", [(0.02, 0.0), (0.03, 0.05)])
def test_hops_against_truth(fs, placement, rotation, noise_g, bias_g):
    frame, truth = GEN.hops(
        placement=placement, fs=fs, noise_g=noise_g, bias_g=bias_g, rotation=rotation, seed=fs
    )
    summary, table, _ = _leg("hop", frame, "L")
    assert summary["hops"] == len(truth) == len(table)
    flight_err = table.flight_ms.to_numpy() - truth.flight_ms.to_numpy()
    height_err = table.height_cm.to_numpy() - truth.height_cm.to_numpy()
    contact_err = (table.contact_ms - truth.contact_ms).dropna().to_numpy()
    assert np.abs(flight_err).mean() <= 5.0
    assert np.abs(height_err).mean() <= 1.0
    assert np.abs(contact_err).mean() <= 5.0
    assert summary["flight_ms"] == pytest.approx(truth.flight_ms.median(), abs=5.0)
    assert summary["rsi"] == pytest.approx(truth.rsi.median(), rel=0.05)


def test_height_formula_and_rsi_definition():
    # h = g t² / 8: 500 ms of flight is 30.65 cm
    assert jump_height_cm(500.0) == pytest.approx(9.80665 * 0.25 / 8 * 100)
    frame, truth = GEN.hops(fs=500, noise_g=0.0, seed=1)
    _, table, _ = _leg("hop", frame, "")
    rsi = (table.height_cm / 100) / (table.contact_ms / 1000)
    assert np.allclose(table.rsi.dropna(), rsi.dropna())
    assert np.isnan(table.rsi.iloc[0])  # the first flight follows a push-off, not a rebound


def test_variability_is_cv_of_the_hops():
    frame, truth = GEN.hops(fs=400, seed=5)
    s = analyse_leg("hop", frame, "shank")
    true_cv = 100 * truth.flight_ms.std(ddof=1) / truth.flight_ms.mean()
    assert s["flight_cv_pct"] == pytest.approx(true_cv, abs=1.0)
    assert {"height_cv_pct", "contact_cv_pct", "rsi_cv_pct"} <= s.keys()


def test_pause_is_not_a_contact():
    # two bouts of hops separated by standing: the contact across the pause is not counted
    a, ta = GEN.hops(n_hops=4, fs=400, noise_g=0.01, seed=2)
    b, tb = GEN.hops(n_hops=4, fs=400, noise_g=0.01, seed=3)
    b = b.assign(t_s=b.t_s + a.t_s.iloc[-1] + 1 / 400)
    both = __import__("pandas").concat([a, b], ignore_index=True)
    s, table, _ = _leg("hop", both, "")
    assert s["hops"] == 8
    assert s["reactive_hops"] == 6


def test_lsi_from_leg_values_is_exact_and_end_to_end_close():
    left, tl = GEN.hops(flight_s=0.36, contact_s=0.24, fs=400, rotation="random", seed=1)
    right, tr = GEN.hops(flight_s=0.42, contact_s=0.21, fs=400, rotation="random", seed=2)
    res = analyse_test("hop", left, right, "shank", involved="L")
    hl, hr = res.legs["L"]["height_cm"], res.legs["R"]["height_cm"]
    assert res.lsi["lsi_height_pct"] == pytest.approx(100 * hl / hr, abs=0.1)
    assert res.to_json()["lsi_height_pct"] == pytest.approx(100 * hl / hr, abs=0.01)
    true_lsi = limb_symmetry_index(tl.height_cm.median(), tr.height_cm.median(), "L")
    true_rsi = limb_symmetry_index(tl.rsi.median(), tr.rsi.median(), "L")
    # end to end, 1 ms of flight is ~0.5 % of height: measured within 1.6 points over seeds
    assert res.lsi["lsi_height_pct"] == pytest.approx(true_lsi, abs=2.0)
    assert res.lsi["lsi_rsi_pct"] == pytest.approx(true_rsi, abs=2.0)
    sym = analyse_test("hop", left, right, "shank")  # no involved leg: smaller / larger
    assert sym.lsi["lsi_height_pct"] == pytest.approx(100 * min(hl, hr) / max(hl, hr), abs=0.1)
