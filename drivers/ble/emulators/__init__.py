"""bumble GATT peripherals that behave like real sensors, fed from a sample source.

- :class:`FootPod` — RSC foot pod (speed, cadence, stride, distance).
- :class:`HeartRateStrap` — HR strap with RR intervals.
- :class:`PolarImuPod` — Polar PMD pod streaming delta-compressed ACC and GYRO frames.

Each wraps a :class:`bumble.device.Device`: on a virtual :class:`bumble.link.LocalLink`
(see :func:`local_device`) for tests and demos, or on a USB dongle / HCI transport.
"""

from drivers.ble.emulators.base import EmulatedSensor, local_device, replay
from drivers.ble.emulators.hrs import HeartRateStrap
from drivers.ble.emulators.pmd import PolarImuPod
from drivers.ble.emulators.rsc import FootPod

__all__ = ["EmulatedSensor", "FootPod", "HeartRateStrap", "PolarImuPod", "local_device", "replay"]
