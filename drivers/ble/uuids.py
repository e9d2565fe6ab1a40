"""GATT UUIDs of the services and characteristics the parsers understand.

16-bit SIG numbers: Bluetooth SIG *Assigned Numbers* (section 3.4 services, 3.8
characteristics). Polar PMD 128-bit UUIDs: Polar BLE SDK ``BlePMDClient``
(polarofficial/polar-ble-sdk, Android ``BlePMDClient.kt`` companion object).
"""

from dataclasses import dataclass

RSC_SERVICE = 0x1814
RSC_MEASUREMENT = 0x2A53
RSC_FEATURE = 0x2A54
SENSOR_LOCATION = 0x2A5D

HR_SERVICE = 0x180D
HR_MEASUREMENT = 0x2A37
BODY_SENSOR_LOCATION = 0x2A38

PMD_SERVICE = "FB005C80-02E7-F387-1CAD-8ACD2D8DF0C8"
PMD_CONTROL_POINT = "FB005C81-02E7-F387-1CAD-8ACD2D8DF0C8"
PMD_DATA = "FB005C82-02E7-F387-1CAD-8ACD2D8DF0C8"


def sig_uuid128(short: int) -> str:
    """Expand a 16-bit SIG UUID to its 128-bit string form (Bluetooth Core, Vol 3 Part B 2.5.1)."""
    return f"0000{short:04X}-0000-1000-8000-00805F9B34FB"


@dataclass(frozen=True)
class Service:
    """A GATT service sensorhub collects from: its kind name, 128-bit UUID and description.

    ``advertised``: whether sensors put the UUID in their advertisements (Polar pods send
    the PMD UUID in the scan response only, so they are matched by name or address).
    """

    kind: str
    uuid: str
    description: str
    advertised: bool = True


#: Every service kind, by the name used in the config (``[[ble_devices]] kind``).
SERVICES: dict[str, Service] = {
    "rsc": Service("rsc", sig_uuid128(RSC_SERVICE), "running speed and cadence"),
    "hr": Service("hr", sig_uuid128(HR_SERVICE), "heart rate"),
    "pmd": Service("pmd", PMD_SERVICE, "Polar PMD (IMU)", advertised=False),
}
