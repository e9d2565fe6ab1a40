"""Bluetooth LE GATT payload parsers and device emulators.

Parsers are pure functions from notification bytes to frozen dataclasses, one module per
GATT service:

- :mod:`drivers.ble.rsc` — Running Speed and Cadence (RSC, 0x1814; measurement 0x2A53).
- :mod:`drivers.ble.hrs` — Heart Rate (HRS, 0x180D; measurement 0x2A37).
- :mod:`drivers.ble.pmd` — Polar Measurement Data (PMD; ACC and GYRO streams).

:mod:`drivers.ble.emulators` holds bumble GATT peripherals that behave like real sensors.
A malformed payload raises :class:`ParseError` (a :class:`ValueError`).
"""

from drivers.ble.errors import ParseError
from drivers.ble.uuids import SERVICES, Service

__all__ = ["SERVICES", "ParseError", "Service"]
