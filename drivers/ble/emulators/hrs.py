"""Emulated chest strap: Heart Rate service (0x180D) with RR intervals."""

from __future__ import annotations

from typing import Any

from bumble import gatt

from drivers.ble import hrs, uuids
from drivers.ble.emulators.base import EmulatedSensor

_CHEST = bytes([1])  # Body Sensor Location 1 = chest (GATT Specification Supplement, 0x2A38)


class HeartRateStrap(EmulatedSensor):
    """HR strap. Samples need ``hr_bpm``; ``rr_s`` (a sequence of seconds) is optional;
    skin contact is always reported as detected."""

    advertised_uuids = (uuids.sig_uuid128(uuids.HR_SERVICE),)

    def services(self) -> list[gatt.Service]:
        self._measurement = gatt.Characteristic(
            uuids.sig_uuid128(uuids.HR_MEASUREMENT),
            gatt.Characteristic.Properties.NOTIFY,
            gatt.Characteristic.Permissions(0),
            b"",
        )
        location = gatt.Characteristic(
            uuids.sig_uuid128(uuids.BODY_SENSOR_LOCATION),
            gatt.Characteristic.Properties.READ,
            gatt.Characteristic.READABLE,
            _CHEST,
        )
        return [gatt.Service(uuids.sig_uuid128(uuids.HR_SERVICE), [self._measurement, location])]

    @property
    def characteristic(self) -> gatt.Characteristic:
        return self._measurement

    def encode(self, sample: Any) -> bytes:
        rr = getattr(sample, "rr_s", ()) or ()
        return hrs.build_measurement(int(round(sample.hr_bpm)), tuple(rr), contact=True)
