"""What a FIT file says about itself, on real files."""

import drivers.fit
from sensorhub.config import Athlete
from sensorhub.fitmeta import device_serials, fit_file_id, hr_limits, hr_params

from .shared import shared_dir


def test_identity_and_devices_of_a_garmin_file():
    m = drivers.fit.decode(shared_dir("fit", "3schweinehunde__fit_parser", "with_stryd.fit"))
    assert fit_file_id(m) == "garmin/fr235/3961422201/2019-05-23 16:45:17+00:00/activity"
    assert device_serials(m)[0] == "3961422201"  # the watch first, then its sensors


def test_hr_limits_come_from_config_first_then_the_watch_profile():
    m = drivers.fit.decode(shared_dir("fit", "dtcooper__python-fitparse", "Settings.fit"))
    assert hr_params(Athlete("x"), m) == (60.0, 185.0, "male")
    configured = Athlete("x", sex="female", hr_rest=48, hr_max=190)
    assert hr_params(configured, m) == (48, 190, "female")


def _fit(*parts: str):
    return drivers.fit.decode(shared_dir("fit", *parts))


def test_max_hr_from_the_watch_zones_when_user_profile_has_none():
    m = _fit("dtcooper__python-fitparse", "garmin-fenix-5-run.fit")
    lim = hr_limits(Athlete("ana"), m)
    assert (lim.rest, lim.max, lim.reason) == (47.0, 183.0, None)
    assert lim.sources == {"rest": "user_profile", "max": "zones_target"}
    assert hr_params(Athlete("ana"), m) == (47.0, 183.0, "male")


def test_order_is_config_then_user_profile_then_zones():
    m = _fit("GoldenCheetah__GoldenCheetah", "Fr955v19.28andStryd.fit")
    lim = hr_limits(Athlete("ana"), m)
    assert (lim.rest, lim.max, lim.threshold) == (47.0, 189.0, 162.0)  # zones_target max
    lim = hr_limits(Athlete("ana", hr_max=200), m)
    assert lim.max == 200 and lim.sources["max"] == "config"
    m = _fit("dtcooper__python-fitparse", "garmin-edge-820-bike.fit")
    lim = hr_limits(Athlete("ana"), m)  # user_profile 185 before zones_target 183
    assert lim.max == 185.0 and lim.sources["max"] == "user_profile"


def test_hr_zone_top_counts_only_when_the_top_zone_is_closed():
    # Wahoo ends its open top zone with 254: not a maximum heart rate
    m = _fit("dtcooper__python-fitparse", "2019-02-17-062644-ELEMNT-297E-195-0.fit")
    lim = hr_limits(Athlete("ana"), m)
    assert lim.max is None and lim.rest is None
    assert lim.reason == "no HR limits for ana: set hr_rest/hr_max in the config"
    assert hr_params(Athlete("ana"), m) == (None, None, "male")


def test_reason_names_the_missing_or_inconsistent_limit():
    m = _fit("GoldenCheetah__GoldenCheetah", "SigmaRox11_1.fit")  # zones_target max 180 only
    lim = hr_limits(Athlete("ana"), m)
    assert lim.max == 180.0 and lim.rest is None
    assert lim.reason.startswith("no resting HR for ana (max 180 from zones_target)")
    bad = hr_limits(Athlete("ana", hr_rest=190), m)
    assert bad.rest is None and bad.max is None and "inconsistent" in bad.reason


def test_metadata_is_read_without_building_frames() -> None:
    # only the few columns these need are decoded: no frame is built (or kept) for them
    m = _fit("GoldenCheetah__GoldenCheetah", "Fr955v19.28andStryd.fit")
    assert {"file_id", "device_info", "user_profile", "zones_target"} <= set(m)
    ident, serials, lim = fit_file_id(m), device_serials(m), hr_limits(Athlete("ana"), m)
    assert m.pending == list(m)
    assert ident and ident.split("/")[2] == serials[0] and len(serials) > 1
    assert (lim.rest, lim.max, lim.threshold) == (47.0, 189.0, 162.0)
    whole = drivers.fit.decode(
        shared_dir("fit", "GoldenCheetah__GoldenCheetah", "Fr955v19.28andStryd.fit")
    )
    whole.materialise()  # the same answers from whole frames
    assert (fit_file_id(whole), device_serials(whole)) == (ident, serials)
    assert hr_limits(Athlete("ana"), whole) == lim
