"""Polar Measurement Data (PMD) service: control point and ACC/GYRO data frames.

Everything here follows Polar's BLE SDK (polarofficial/polar-ble-sdk, Android library,
package ``com.polar.androidcommunications.api.ble.model.gatt.client.pmd``) and the byte
vectors of its unit tests (``AccDataTest.kt``, ``BlePmdClientPmdSettingsTest.java``).

- :mod:`.control` — control point (``FB005C81``) requests/responses, settings TLV
  (sample rate, resolution, range, channels, factor), feature read value.
- :mod:`.frames` — data (``FB005C82``) frames: header (type, uint64 ns since 2000-01-01 of
  the last sample, frame type with compressed bit 0x80), raw and delta-compressed content,
  factor, timestamps spread using the previous frame.
- :mod:`.delta` — the delta-compression codec.
"""

from drivers.ble.pmd.control import (
    ControlOp,
    ControlRequest,
    ControlResponse,
    MeasurementType,
    SettingType,
    Status,
    build_feature,
    build_request,
    build_response,
    build_settings,
    parse_feature,
    parse_request,
    parse_response,
    parse_settings,
)
from drivers.ble.pmd.frames import (
    POLAR_EPOCH_UNIX_NS,
    FrameHeader,
    PmdDecoder,
    PmdFrame,
    build_frame,
    parse_frame,
    parse_header,
    sample_times,
)

__all__ = [
    "POLAR_EPOCH_UNIX_NS",
    "ControlOp",
    "ControlRequest",
    "ControlResponse",
    "FrameHeader",
    "MeasurementType",
    "PmdDecoder",
    "PmdFrame",
    "SettingType",
    "Status",
    "build_feature",
    "build_frame",
    "build_request",
    "build_response",
    "build_settings",
    "parse_feature",
    "parse_frame",
    "parse_header",
    "parse_request",
    "parse_response",
    "parse_settings",
    "sample_times",
]
