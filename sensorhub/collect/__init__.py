"""Live BLE collection: transports (bumble, bleak), per-device tasks, reconnect, sink.

Typical use::

    transport = await BumbleTransport.open("usb:0")        # or BleakTransport()
    collector = Collector(transport, parse_devices(cfg["devices"]), sink)
    await collector.run()

The sink is anything with ``async def handle(sample: Sample)``; :class:`CallbackSink`
adapts ``fn(device, kind, t_arrival_ns, parsed)``.
"""

from sensorhub.collect.backoff import Backoff
from sensorhub.collect.collector import Collector, DeviceStats
from sensorhub.collect.config import DeviceSpec, parse_devices
from sensorhub.collect.sink import CallbackSink, MemorySink, Sample, Sink, TeeSink

__all__ = [
    "Backoff",
    "CallbackSink",
    "Collector",
    "DeviceSpec",
    "DeviceStats",
    "MemorySink",
    "Sample",
    "Sink",
    "TeeSink",
    "parse_devices",
]
