"""Which devices to collect from: address or advertised name -> athlete, placement, kind."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from drivers.ble import SERVICES

KINDS = tuple(SERVICES)  # the GATT services drivers.ble knows
_ADDRESS = re.compile(r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$")


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """One configured sensor.

    ``match`` is a Bluetooth address (``AA:BB:CC:DD:EE:FF``, case-insensitive) or the
    advertised local name; ``kind`` is ``rsc`` (foot pod), ``hr`` (HR strap) or ``pmd``
    (Polar IMU pod); ``athlete`` and ``placement`` (e.g. ``left_foot``, ``chest``) become
    tags downstream.
    """

    match: str
    athlete: str
    kind: str
    placement: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"device kind must be one of {KINDS}, got {self.kind!r}")

    @property
    def is_address(self) -> bool:
        return bool(_ADDRESS.match(self.match))

    def matches(self, address: str, name: str | None) -> bool:
        """True when an advertisement (address, name) is this device."""
        if self.is_address:
            return address.split("/")[0].upper() == self.match.upper()
        return name == self.match


def parse_devices(entries: Iterable[Mapping[str, str]]) -> list[DeviceSpec]:
    """Build specs from config rows with ``address`` or ``name``, ``athlete``, ``kind``,
    optional ``placement`` (e.g. the ``devices`` list of a TOML/YAML config)."""
    specs = []
    for row in entries:
        match = row.get("address") or row.get("name")
        if not match:
            raise ValueError(f"device entry needs an address or a name: {dict(row)}")
        specs.append(
            DeviceSpec(
                match=match,
                athlete=row["athlete"],
                kind=row["kind"],
                placement=row.get("placement", ""),
            )
        )
    return specs
