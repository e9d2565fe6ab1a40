"""Emulated sensors for ``sensorhub emulate``, tests and benchmarks: sample sources from a
FIT file or an IMU CSV, and a :class:`Rig` of bumble emulators on one virtual link.

A :class:`Rig` holds a :class:`bumble.link.LocalLink` with one virtual controller per
emulated sensor. A collector joins it either in the same process (:meth:`Rig.central`) or
from another process through an HCI transport (:meth:`Rig.expose`, e.g.
``tcp-server:_:9000``; the collector then opens ``tcp-client:127.0.0.1:9000``) — the way
bumble's own ``controllers`` app links hosts.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from bumble.controller import Controller
from bumble.link import LocalLink

import drivers.fit
from drivers.ble.emulators import FootPod, HeartRateStrap, PolarImuPod, local_device, replay
from drivers.ble.emulators.base import EmulatedSensor
from drivers.imu import read_recording

from ..collect.bumble_transport import BumbleTransport
from ..normalise import running_frame

_BODY_TO_POD = {
    "acc_ap_g": "acc_x_g",
    "acc_ml_g": "acc_y_g",
    "acc_v_g": "acc_z_g",
    "gyr_ap_dps": "gyr_x_dps",
    "gyr_ml_dps": "gyr_y_dps",
    "gyr_v_dps": "gyr_z_dps",
}
_GYRO = ("gyr_x_dps", "gyr_y_dps", "gyr_z_dps")
#: how far ahead of ``Rig.run`` the sensors' common start lies: long enough for every replay
#: coroutine to be waiting for its first sample when it is due
START_LEAD_S = 0.05
FRAME_S = 0.18  # s of samples per emulated PMD frame


def fit_samples(path: str | Path) -> pd.DataFrame:
    """Per-record ``t_s``, ``speed_mps``, ``cadence_spm``, ``stride_m``, ``distance_m``,
    ``hr_bpm``, ``rr_s`` from a FIT file (stride = 2 × FIT step length; RR = 60 / HR, one
    beat per record, as a strap without HRV would report)."""
    run = running_frame(drivers.fit.decode(path).frame("record"))
    run = run[run.index.notna()].sort_index()
    if run.empty:
        raise ValueError(f"{path}: no records with a timestamp")
    out = pd.DataFrame({"t_s": (run.index - run.index[0]).total_seconds()})
    for col in ("speed_mps", "cadence_spm", "distance_m", "hr_bpm"):
        out[col] = run[col].to_numpy(float) if col in run else np.nan
    out["stride_m"] = (
        2.0 * run["step_length_mm"].to_numpy(float) / 1000.0 if "step_length_mm" in run else np.nan
    )
    hr = out["hr_bpm"].to_numpy(float)
    out["rr_s"] = [(60.0 / h,) if np.isfinite(h) and h > 0 else () for h in hr]
    return out


def imu_samples(path_or_frame: str | Path | pd.DataFrame, gyro: bool = False) -> pd.DataFrame:
    """``t_s`` (s) and pod-axis ``acc_x_g``/``acc_y_g``/``acc_z_g`` (g) from an IMU recording
    or frame: sensor axes as they are, body axes ``acc_ap_g``/``acc_ml_g``/``acc_v_g`` put on
    x/−y/z (a right-handed pod, see :func:`_pod_axes`). A file is read by :func:`drivers.imu.read_recording` (any supported format: the
    project CSV of ``fixtures/imu`` and ``fixtures/readiness``, Polar Sensor Logger exports;
    units converted to g). ``gyro``: also ``gyr_x_dps``/``gyr_y_dps``/``gyr_z_dps`` when the
    recording has them (body axes ``gyr_ap/ml/v_dps`` likewise), for the pod's gyro stream."""
    df = (
        path_or_frame
        if isinstance(path_or_frame, pd.DataFrame)
        else read_recording(path_or_frame).frame
    )
    start = df.attrs.get("start_utc")
    df = _pod_axes(df)
    missing = {"t_s", "acc_x_g", "acc_y_g", "acc_z_g"} - set(df.columns)
    if missing:
        raise ValueError(f"IMU samples need columns t_s and acc_x/y/z_g; missing {sorted(missing)}")
    cols = ["t_s", "acc_x_g", "acc_y_g", "acc_z_g"]
    if gyro and set(_GYRO) <= set(df.columns):
        cols += list(_GYRO)
    out = df[cols].dropna().reset_index(drop=True)
    # the recording's absolute start (UTC), when it has one: Rig.run lines pods up by it
    out.attrs["start_utc"] = start if start is not None and not pd.isna(start) else None
    return out


def _pod_axes(df: pd.DataFrame) -> pd.DataFrame:
    """Body axes onto a real (right-handed) pod: x = AP, z = V and y = −ML, because the
    live path recovers ML as AP × V (:func:`sensorhub.gait.body_rotation`). Putting ML on +y
    would be a mirror-image pod, one no sensor can be, and swap left and right for a sacral pod."""
    df = df.copy()
    for ml in ("acc_ml_g", "gyr_ml_dps"):
        if ml in df:
            df[ml] = -df[ml]
    return df.rename(columns=_BODY_TO_POD)


def on_one_clock(frames: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """Sample frames whose recordings carry an absolute start (``attrs["start_utc"]``, from
    :func:`imu_samples`) with ``t_s`` moved onto the earliest start: two pods of one
    session (e.g. fixtures/imu/shank_right_200hz.csv starts 250 ms after the left) replay as
    they were recorded, as a file ingest aligns them. Frames without a start are unchanged."""
    starts = [f.attrs.get("start_utc") for f in frames]
    known = [pd.Timestamp(t) for t in starts if t is not None]
    if len(known) < 2:
        return frames
    first = min(known)
    out = []
    for f, t in zip(frames, starts, strict=True):
        shift = (pd.Timestamp(t) - first).total_seconds() if t is not None else 0.0
        out.append(f.assign(t_s=f["t_s"] + shift) if shift else f)
    return out


def frame_samples(rate_hz: float) -> int:
    """Samples per PMD notification: :data:`FRAME_S` of samples, at least 10 (36 at 200 Hz,
    at most 189 bytes delta-coded: inside the 244-byte payload of the 247-byte MTU the
    collector asks for). Fuller frames mean fewer notifications, so a sped-up replay of two
    200 Hz pods keeps to its schedule on a busy machine instead of falling seconds behind."""
    return max(10, int(round(rate_hz * FRAME_S)))


def sample_rate(samples: pd.DataFrame) -> int:
    return int(round(1.0 / float(np.median(np.diff(samples["t_s"].to_numpy(float))))))


class Rig:
    """Emulated sensors on one virtual link; ``run()`` replays every sensor's samples."""

    def __init__(self, speedup: float = 1.0, link: LocalLink | None = None) -> None:
        self.link = link or LocalLink()
        self.speedup = speedup
        self.sensors: list[tuple[EmulatedSensor, Any]] = []
        self._transports: list[Any] = []

    def footpod(self, name: str, address: str, samples: pd.DataFrame, **kw: Any) -> FootPod:
        ok = samples[["speed_mps", "cadence_spm"]].notna().all(axis=1)
        return self._add(
            FootPod(local_device(self.link, name, address), self.speedup, **kw), samples[ok]
        )

    def strap(self, name: str, address: str, samples: pd.DataFrame, **kw: Any) -> HeartRateStrap:
        ok = samples["hr_bpm"].notna()
        return self._add(
            HeartRateStrap(local_device(self.link, name, address), self.speedup, **kw), samples[ok]
        )

    def pod(self, name: str, address: str, samples: pd.DataFrame, **kw: Any) -> PolarImuPod:
        kw.setdefault("sample_rate_hz", sample_rate(samples))
        kw.setdefault("samples_per_frame", frame_samples(kw["sample_rate_hz"]))
        return self._add(
            PolarImuPod(local_device(self.link, name, address), self.speedup, **kw), samples
        )

    def _add(self, sensor: EmulatedSensor, samples: pd.DataFrame) -> Any:
        self.sensors.append((sensor, samples))
        return sensor

    async def start(self) -> None:
        for sensor, _ in self.sensors:
            await sensor.start()

    async def wait_connected(self, timeout_s: float | None = None) -> None:
        """Until every sensor has a central (and every PMD pod a started stream)."""

        def ready(sensor: EmulatedSensor) -> bool:
            return bool(sensor.device.connections) and getattr(sensor, "active", True) != set()

        async def wait() -> None:
            while not all(ready(s) for s, _ in self.sensors):
                await asyncio.sleep(0.05)

        await asyncio.wait_for(wait(), timeout_s)

    async def run(self) -> list[int]:
        """Replay all sensors concurrently on one timeline; returns the notifications each
        sent.

        Every sensor gets the same monotonic start (``t_s = 0``), a moment just ahead: were
        each to take its own start as its coroutine first runs, the second pod would start
        after the first had worked through its first samples, and under ``speedup`` N that
        head start would reach the collector's replay clock N times over — the two pods'
        timelines (and step time, flight time across pods) apart by N × that gap.
        """
        start = time.monotonic() + START_LEAD_S
        frames = on_one_clock([df for _, df in self.sensors])
        runs = (
            s.run(replay(df), start=start) for (s, _), df in zip(self.sensors, frames, strict=True)
        )
        return list(await asyncio.gather(*runs))

    def central(self, address: str = "F0:F1:F2:F3:F4:F5") -> BumbleTransport:
        """A collector-side bumble transport on the same link (same process)."""
        return BumbleTransport(local_device(self.link, "sensorhub", address))

    async def expose(self, hci_transport: str) -> None:
        """Offer a virtual controller on this link to a host in another process."""
        from bumble.transport import open_transport

        hci = await open_transport(hci_transport)
        Controller("hub", host_source=hci.source, host_sink=hci.sink, link=self.link)
        self._transports.append(hci)

    async def close(self) -> None:
        for t in self._transports:
            await t.close()
