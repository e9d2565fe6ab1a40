"""One contract for every contact detector (gaitmap-style, mad-lab-fau/gaitmap as the model).

Parameters: explicit named constructor arguments only, each stored under its own name,
read back by ``get_params``, changed by ``set_params`` (unknown names refused) and copied by
``clone`` (no results). Results: ``detect`` returns self and sets ``contacts_`` (standard
columns), ``fs_hz_`` and ``warnings_``; same input, same output.
"""

import inspect

import numpy as np
import pandas as pd
import pytest

from sensorhub.gait import (
    DETECTORS,
    GaitError,
    SacrumSideDetector,
    SamplingRateError,
    make_detector,
)
from sensorhub.gait.base import CONTACT_COLUMNS, Params
from tests.gait_helpers import load_generator, match

gen = load_generator()
#: everything with constructor parameters: the detectors and the sacral side detector,
#: which has ``assign`` instead of ``detect`` (SacrumDetector calls it), so only the
#: parameter half of the contract applies to it
WITH_PARAMS = [*DETECTORS.values(), SacrumSideDetector]


def _frame(placement: str, fs: float = 500.0, duration_s: float = 10.0) -> pd.DataFrame:
    truth = gen.schedule(duration_s)
    if placement == "sacrum":
        return gen.sacrum(truth, fs=fs, duration_s=duration_s)
    make = gen.shank if placement == "shank" else gen.foot
    return make(truth[truth.side == "L"], fs=fs, duration_s=duration_s)


def _truth(placement: str, duration_s: float = 10.0) -> pd.DataFrame:
    truth = gen.schedule(duration_s)
    return truth if placement == "sacrum" else truth[truth.side == "L"]


def _same_params(a: Params, b: Params) -> bool:
    """Parameters equal, nested parameter objects compared by type and parameters."""
    pa, pb = a.get_params(), b.get_params()
    if type(a) is not type(b) or pa.keys() != pb.keys():
        return False
    for k, va in pa.items():
        vb = pb[k]
        if isinstance(va, Params):
            if not (isinstance(vb, Params) and va is not vb and _same_params(va, vb)):
                return False
        elif va != vb:
            return False
    return True


def _results(obj) -> list[str]:
    return [k for k in vars(obj) if k.endswith("_") and not k.startswith("_")]


@pytest.mark.parametrize("cls", WITH_PARAMS, ids=lambda c: c.__name__)
def test_constructor_has_only_explicit_named_parameters(cls):
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert params, "a detector without parameters has nothing to configure"
    for p in params:
        assert p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD), p
        assert p.default is not inspect.Parameter.empty, f"{p.name} needs a default"
    assert cls.param_names() == [p.name for p in params]


@pytest.mark.parametrize("cls", WITH_PARAMS, ids=lambda c: c.__name__)
def test_every_parameter_is_stored_under_its_own_name(cls):
    # distinct sentinels: __init__ must store them as given (no computing, no renaming)
    sentinels = {name: object() for name in cls.param_names()}
    obj = cls(**sentinels)
    for name, value in sentinels.items():
        assert getattr(obj, name) is value, name
    assert obj.get_params() == sentinels
    assert _results(obj) == []


@pytest.mark.parametrize("cls", WITH_PARAMS, ids=lambda c: c.__name__)
def test_get_params_clone_and_set_params_round_trip(cls):
    obj = cls()
    assert _same_params(cls(**obj.get_params()), obj)
    twin = obj.clone()
    assert twin is not obj and _same_params(twin, obj)
    name = cls.param_names()[0]
    assert obj.set_params(**{name: 0.123}) is obj
    assert obj.get_params()[name] == 0.123
    assert twin.get_params()[name] != 0.123  # the clone does not share state
    with pytest.raises(GaitError, match="no parameter"):
        obj.set_params(no_such_setting=1)


@pytest.mark.parametrize("placement", sorted(DETECTORS))
def test_make_detector_refuses_unknown_settings(placement):
    det = make_detector(placement, min_gct_s=0.1)
    assert isinstance(det, DETECTORS[placement]) and det.min_gct_s == 0.1
    with pytest.raises(GaitError, match="unknown .* setting"):
        make_detector(placement, min_gct=0.1)


def test_sacrum_clone_copies_its_nested_side_detector():
    det = DETECTORS["sacrum"](side_detector=SacrumSideDetector(min_separation=2.0))
    twin = det.clone()
    assert twin.side_detector is not det.side_detector
    assert twin.side_detector.get_params() == {"min_separation": 2.0}


@pytest.mark.parametrize("placement", sorted(DETECTORS))
def test_detect_returns_self_with_standard_results(placement):
    det = DETECTORS[placement]()
    frame = _frame(placement)
    assert det.detect(frame) is det
    assert list(det.contacts_.columns) == CONTACT_COLUMNS
    assert det.contacts_["partial"].dtype == bool
    assert det.fs_hz_ == pytest.approx(500.0)
    assert isinstance(det.warnings_, list)
    truth = _truth(placement)
    assert len(match(det.contacts_, truth)) == len(det.contacts_)
    # the generated foot signal has no swing before its first contact, so no IC to see
    assert len(det.contacts_) >= len(truth) - (placement == "foot")
    # a clone of a detector that has results carries none
    twin = det.clone()
    assert _results(twin) == [] and _same_params(twin, det)


@pytest.mark.parametrize("placement", sorted(DETECTORS))
def test_detect_is_deterministic(placement):
    frame = _frame(placement)
    det = DETECTORS[placement]()
    first = det.detect(frame).contacts_.copy()
    pd.testing.assert_frame_equal(det.detect(frame).contacts_, first)
    pd.testing.assert_frame_equal(det.clone().detect(frame).contacts_, first)


@pytest.mark.parametrize("placement", sorted(DETECTORS))
def test_50_hz_is_refused(placement):
    with pytest.raises(SamplingRateError, match="below the minimum"):
        DETECTORS[placement]().detect(_frame(placement, fs=50.0))


@pytest.mark.parametrize("placement", sorted(DETECTORS))
def test_missing_columns_raise_gait_error(placement):
    det = DETECTORS[placement]()
    frame = _frame(placement).drop(columns=list(det.required))
    with pytest.raises(GaitError, match="needs columns"):
        det.detect(frame)


@pytest.mark.parametrize("placement", sorted(DETECTORS))
def test_a_failed_detect_leaves_no_stale_results(placement):
    det = DETECTORS[placement]().detect(_frame(placement))
    with pytest.raises(SamplingRateError):
        det.detect(_frame(placement, fs=50.0))
    assert not hasattr(det, "contacts_")


def test_results_follow_parameters():
    # a parameter that matters changes the result: contacts shorter than min_gct_s go
    frame = _frame("sacrum")
    n = len(DETECTORS["sacrum"]().detect(frame).contacts_)
    det = DETECTORS["sacrum"]().set_params(min_gct_s=0.26)
    kept = det.detect(frame).contacts_
    assert 0 < len(kept) < n and (kept["gct_ms"] >= 260).all()
    assert np.isfinite(kept["gct_ms"]).all()


def _variants(placement: str):
    """The frame as it is, cropped mid-stance (partial contacts), with a gap and NaNs, out
    of order with repeated stamps, in m/s², and a 4 s live window."""
    f = _frame(placement, fs=200.0)
    yield "plain", f
    yield "cropped", f[(f.t_s > 1.13) & (f.t_s < 8.71)]
    g = f.copy()
    g.iloc[600:700, 1:] = np.nan
    g.iloc[1200:1203, 1:] = np.nan
    yield "gap", g
    yield "unsorted", pd.concat([f.iloc[300:400], f]).sample(frac=1.0, random_state=1)
    acc = [c for c in f.columns if c.startswith("acc_")]
    yield "m/s²", f.assign(**{c: f[c] * 9.80665 for c in acc})
    yield "window", f[(f.t_s >= 3.3) & (f.t_s < 7.3)]


@pytest.mark.parametrize("placement", sorted(DETECTORS))
def test_detect_arrays_gives_the_contacts_of_detect(placement):
    # the live path runs detect_arrays on every window: it must find exactly what detect
    # finds on the same samples (the file/live seam depends on it), warnings included
    for name, frame in _variants(placement):
        by_frame = DETECTORS[placement]().detect(frame)
        signals = {c: frame[c].to_numpy() for c in frame.columns if c != "t_s"}
        det = DETECTORS[placement]()
        assert det.detect_arrays(frame["t_s"].to_numpy(), signals) is det
        got, want = det.contact_arrays_, by_frame.contacts_
        assert list(got) == CONTACT_COLUMNS, name
        for col in ("ic_s", "to_s", "gct_ms", "partial"):
            np.testing.assert_array_equal(got[col], want[col].to_numpy(), err_msg=name)
        assert list(got["side"]) == [s if isinstance(s, str) else None for s in want["side"]]
        assert det.warnings_ == by_frame.warnings_ and det.fs_hz_ == by_frame.fs_hz_, name
        assert _results(det.clone()) == []
        if name == "cropped":  # the variant is what it says: stances cut at both edges
            assert want["partial"].any()


@pytest.mark.parametrize("placement", sorted(DETECTORS))
def test_detect_arrays_validates_like_detect(placement):
    det = DETECTORS[placement]()
    f = _frame(placement, fs=50.0)
    signals = {c: f[c].to_numpy() for c in f.columns if c != "t_s"}
    with pytest.raises(SamplingRateError, match="below the minimum"):
        det.detect_arrays(f["t_s"].to_numpy(), signals)
    with pytest.raises(GaitError, match="needs columns"):
        det.detect_arrays(f["t_s"].to_numpy(), {"other": f["t_s"].to_numpy()})
    assert not hasattr(det, "contact_arrays_")
