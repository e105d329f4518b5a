"""Fuzz target: MQTT JSON payloads and Sparkplug B messages, as the collectors receive them.

The first input byte picks the path: MQTT JSON parsing (checked against a small meter
registry) or a Sparkplug host that has seen one NBIRTH and gets the rest as a message on one of
the edge node's topics. Every input must end as readings or quarantined records.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import atheris
from harness import run

with atheris.instrument_imports(include=["carbonlink"]):
    from carbonlink.domain.metering import Meter
    from carbonlink.ingest.base import MemorySink
    from carbonlink.ingest.mqtt import MeterCheck, TimeWindow, TopicMapping, parse_message
    from carbonlink.ingest.sparkplug.host import SparkplugHost, SparkplugHostConfig
    from carbonlink.ingest.sparkplug.schema import DataType, Payload

MAPPING = TopicMapping(topic="plant/+", meter="{1}", unit="kWh", timezone="Asia/Shanghai")
WINDOW = TimeWindow(datetime(2000, 1, 1, tzinfo=UTC), datetime.now(UTC) + timedelta(days=1))
CHECK = MeterCheck(lambda: {"EM-07": Meter("EM-07", "register", "kWh", min_value=0)})
TOPICS = [
    "spBv1.0/g/NDATA/e",
    "spBv1.0/g/DDATA/e/d",
    "spBv1.0/g/DBIRTH/e/d",
    "spBv1.0/g/NBIRTH/e",
    "spBv1.0/g/NDEATH/e",
    "spBv1.0/STATE/carbonlink",
]


def _birth() -> bytes:
    birth = Payload(timestamp=1_709_252_100_000, seq=0)
    birth.metrics.add(name="bdSeq", datatype=int(DataType.Int64), long_value=0)
    birth.metrics.add(name="Power", alias=5, datatype=int(DataType.Double), double_value=1.0)
    return bytes(birth.SerializeToString())


BIRTH = _birth()


def target(data: bytes) -> None:
    if not data:
        return
    choice, body = data[0], data[1:]
    if choice % 2 == 0:
        readings, rejected = parse_message(MAPPING, "plant/EM-07", body, window=WINDOW, check=CHECK)
        assert readings or rejected
        return
    config = SparkplugHostConfig(default_unit="kWh", reorder_timeout=0.01)
    host = SparkplugHost(config, MemorySink())
    host.receive("spBv1.0/g/NBIRTH/e", BIRTH)
    host.receive(TOPICS[(choice // 2) % len(TOPICS)], body)
    host.check_reorder_timeouts(now=time.monotonic() + 1)
    assert not any(node.held for node in host.nodes.values())


if __name__ == "__main__":
    data = Payload(timestamp=1_709_252_160_000, seq=1)
    data.metrics.add(alias=5, double_value=2.5)
    run(
        target,
        [
            b"\x00" + b'{"ts": "2024-03-01T08:15:00+08:00", "value": 812.5}',
            b"\x00" + b'[{"ts": 1709252100000, "value": 1, "unit": "MWh"}]',
            b"\x01" + data.SerializeToString(),
            b"\x07" + b'{"online": false, "timestamp": 1}',
        ],
    )
