"""What a FIT file says about itself, on real files."""

import drivers.fit
from sensorhub.config import Athlete
from sensorhub.fitmeta import device_serials, fit_file_id, hr_params

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
