"""Emulated running foot pod: Running Speed and Cadence service (0x1814)."""

from __future__ import annotations

from typing import Any

from bumble import gatt

from drivers.ble import rsc, uuids
from drivers.ble.emulators.base import EmulatedSensor

_FOOT = bytes([7])  # Sensor Location 7 = "in shoe" (GATT Specification Supplement, 0x2A5D)


class FootPod(EmulatedSensor):
    """RSC foot pod. Samples need ``speed_mps`` and ``cadence_spm``; ``stride_m`` and
    ``distance_m`` are sent when present and not NaN."""

    advertised_uuids = (uuids.sig_uuid128(uuids.RSC_SERVICE),)

    def services(self) -> list[gatt.Service]:
        self._measurement = gatt.Characteristic(
            uuids.sig_uuid128(uuids.RSC_MEASUREMENT),
            gatt.Characteristic.Properties.NOTIFY,
            gatt.Characteristic.Permissions(0),
            b"",
        )
        feature = rsc.RscFeature(True, True, True, False, False)
        chars = [
            self._measurement,
            gatt.Characteristic(
                uuids.sig_uuid128(uuids.RSC_FEATURE),
                gatt.Characteristic.Properties.READ,
                gatt.Characteristic.READABLE,
                rsc.build_feature(feature),
            ),
            gatt.Characteristic(
                uuids.sig_uuid128(uuids.SENSOR_LOCATION),
                gatt.Characteristic.Properties.READ,
                gatt.Characteristic.READABLE,
                _FOOT,
            ),
        ]
        return [gatt.Service(uuids.sig_uuid128(uuids.RSC_SERVICE), chars)]

    @property
    def characteristic(self) -> gatt.Characteristic:
        return self._measurement

    def encode(self, sample: Any) -> bytes:
        return rsc.build_measurement(
            float(sample.speed_mps),
            int(round(sample.cadence_spm)),
            _opt(getattr(sample, "stride_m", None)),
            _opt(getattr(sample, "distance_m", None)),
            running=bool(getattr(sample, "running", True)),
        )


def _opt(value: Any) -> float | None:
    if value is None or value != value:  # None or NaN
        return None
    return float(value)
