"""Emulator pieces without a connection: sample replay, advertising, PMD control point."""

import asyncio

import pandas as pd
from bumble.core import AdvertisingData
from bumble.link import LocalLink

from drivers.ble import pmd
from drivers.ble.emulators import FootPod, PolarImuPod, local_device, replay


def test_replay_dataframe_times_from_index():
    idx = pd.date_range("2024-05-01 07:00:00", periods=3, freq="250ms", tz="UTC")
    rows = list(replay(pd.DataFrame({"hr_bpm": [120, 121, 122]}, index=idx)))
    assert [r.t_s for r in rows] == [0.0, 0.25, 0.5]
    assert [r.hr_bpm for r in rows] == [120, 121, 122]


def test_footpod_advertises_rsc_and_name():
    async def main():
        pod = FootPod(local_device(LocalLink(), "Stryd Left", "E0:00:00:00:00:09"))
        return AdvertisingData.from_bytes(pod.advertising_data())

    adv = asyncio.run(main())
    assert adv.get(AdvertisingData.COMPLETE_LOCAL_NAME) == "Stryd Left"
    uuids = adv.get(AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS)
    assert [u.to_hex_str() for u in uuids] == ["1814"]


def test_pmd_pod_control_point():
    async def main():
        return PolarImuPod(local_device(LocalLink(), "Polar Sense", "E0:00:00:00:00:0A"))

    pod = asyncio.run(main())
    acc = pmd.MeasurementType.ACC
    settings = pmd.parse_response(
        pod.handle_request(pmd.build_request(pmd.ControlOp.GET_SETTINGS, acc))
    ).settings
    assert settings[pmd.SettingType.SAMPLE_RATE] == (52,)
    bad = pmd.parse_response(
        pod.handle_request(
            pmd.build_request(pmd.ControlOp.START, acc, {pmd.SettingType.SAMPLE_RATE: 999})
        )
    )
    assert bad.status == pmd.Status.INVALID_PARAMETER and acc not in pod.active
    ok = pmd.parse_response(
        pod.handle_request(
            pmd.build_request(
                pmd.ControlOp.START, pmd.MeasurementType.GYRO, {pmd.SettingType.SAMPLE_RATE: 52}
            )
        )
    )
    assert ok.ok and ok.settings[pmd.SettingType.FACTOR][0] == 2000 / 32768
    again = pmd.parse_response(
        pod.handle_request(pmd.build_request(pmd.ControlOp.START, pmd.MeasurementType.GYRO))
    )
    assert again.status == pmd.Status.ALREADY_IN_STATE
    ecg = pmd.parse_response(
        pod.handle_request(pmd.build_request(pmd.ControlOp.START, pmd.MeasurementType.ECG))
    )
    assert ecg.status == pmd.Status.INVALID_MEASUREMENT_TYPE
    assert pmd.parse_feature(pod._read_feature(None)) == {acc, pmd.MeasurementType.GYRO}
