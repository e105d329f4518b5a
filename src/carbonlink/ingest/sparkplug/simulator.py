"""A Sparkplug B edge node with devices, for demos and tests: births, data, rebirth on request.

It behaves as §6–7 of the specification asks of an edge node: an NDEATH will carrying the
session's ``bdSeq``; NBIRTH (seq 0) with ``bdSeq``, ``Node Control/Rebirth`` and its metrics
with aliases; one DBIRTH per device; data messages with aliases only and a ``seq`` that wraps
at 256; a new NBIRTH/DBIRTH set when an NCMD ``Node Control/Rebirth`` arrives. When the broker
connection drops, the node reconnects (paho's automatic reconnection) as a new session: the
``bdSeq`` is incremented, the will updated, and the births published again (§7.1). ``skip_seq``
deliberately loses a message so hosts can be tested on gaps.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from carbonlink.errors import IngestError
from carbonlink.ingest.sparkplug.schema import DataType, Payload
from carbonlink.ingest.sparkplug.topics import BDSEQ_METRIC, REBIRTH_METRIC, SparkplugTopic


@dataclass
class SimulatedMetric:
    """A numeric metric of the simulated node or of one of its devices."""

    name: str
    alias: int
    unit: str
    value: float = 0.0
    datatype: DataType = DataType.Double


def _now_ms() -> int:
    return int(time.time() * 1000)


class EdgeNodeSimulator:
    """One edge node (and its devices) publishing Sparkplug B over MQTT."""

    def __init__(
        self,
        group: str,
        edge_node: str,
        devices: Mapping[str, list[SimulatedMetric]],
        *,
        host: str = "127.0.0.1",
        port: int = 1883,
        node_metrics: list[SimulatedMetric] | None = None,
        bd_seq: int = 0,
    ) -> None:
        self.group = group
        self.edge_node = edge_node
        self.devices = {name: list(metrics) for name, metrics in devices.items()}
        self.node_metrics = list(node_metrics or [])
        self.host = host
        self.port = port
        self.bd_seq = bd_seq % 256
        self.rebirths_answered = 0
        self.connects = 0
        self._seq = 0
        self._lock = threading.Lock()
        self._born = threading.Event()
        self._client = self._new_client()

    def _new_client(self) -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"sim-{self.group}-{self.edge_node}",
            protocol=mqtt.MQTTv5,
        )
        client.on_message = self._on_message
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.reconnect_delay_set(min_delay=1, max_delay=2)
        return client

    def _set_will(self) -> None:
        death = Payload(timestamp=_now_ms())
        death.metrics.add(name=BDSEQ_METRIC, datatype=int(DataType.Int64), long_value=self.bd_seq)
        self._client.will_set(self._topic("NDEATH"), death.SerializeToString(), qos=1)

    def _on_connect(self, client: mqtt.Client, *_args: Any) -> None:
        client.subscribe([(self._topic("NCMD"), 1), (f"{self._topic('DCMD', '+')}", 1)])

    def _on_subscribe(self, *_args: Any) -> None:
        self.publish_births()
        self.connects += 1
        self._born.set()

    def _on_disconnect(self, *_args: Any) -> None:
        # The next connection is a new session: a new bdSeq, in the will and the next NBIRTH.
        self._born.clear()
        self.bd_seq = (self.bd_seq + 1) % 256
        self._set_will()

    def _topic(self, kind: str, device: str | None = None) -> str:
        return str(SparkplugTopic(self.group, kind, self.edge_node, device))

    # --- session -----------------------------------------------------------------------------
    def start(self) -> None:
        """Connect with the NDEATH will, subscribe to commands, publish NBIRTH and DBIRTHs."""
        self._set_will()
        try:
            self._client.connect(self.host, self.port, keepalive=10, clean_start=True)
        except OSError as exc:
            raise IngestError(f"cannot reach the MQTT broker at {self.host}:{self.port}") from exc
        self._client.loop_start()
        if not self._born.wait(10):
            raise IngestError("the broker did not confirm the edge node's command subscription")

    def wait_born(self, timeout: float) -> bool:
        """Block until the births of the current connection are published."""
        return self._born.wait(timeout)

    def stop(self) -> None:
        """Publish NDEATH (clean shutdown) and disconnect."""
        death = Payload(timestamp=_now_ms())
        death.metrics.add(name=BDSEQ_METRIC, datatype=int(DataType.Int64), long_value=self.bd_seq)
        self._client.publish(
            self._topic("NDEATH"), death.SerializeToString(), qos=1
        ).wait_for_publish(5)
        self._client.disconnect()
        self._client.loop_stop()

    def crash(self) -> None:
        """Drop the connection without DISCONNECT like a power cut; the broker sends the will."""
        self._client.loop_stop()
        sock = self._client.socket()
        if sock is not None:
            sock.close()

    def publish_births(self) -> None:
        """NBIRTH (seq 0) then a DBIRTH per device, each metric with name, alias and unit."""
        with self._lock:
            self._seq = 0
            birth = Payload(timestamp=_now_ms(), seq=self._next_seq())
            birth.metrics.add(
                name=BDSEQ_METRIC, datatype=int(DataType.Int64), long_value=self.bd_seq
            )
            birth.metrics.add(
                name=REBIRTH_METRIC, datatype=int(DataType.Boolean), boolean_value=False
            )
            for metric in self.node_metrics:
                self._add_birth_metric(birth, metric)
            self._publish("NBIRTH", None, birth)
            for device, metrics in self.devices.items():
                dbirth = Payload(timestamp=_now_ms(), seq=self._next_seq())
                for metric in metrics:
                    self._add_birth_metric(dbirth, metric)
                self._publish("DBIRTH", device, dbirth)

    def publish_data(
        self, device: str | None, values: Mapping[str, float], ts_ms: int | None = None
    ) -> int:
        """Publish NDATA (device None) or DDATA with the given metric values; returns its seq."""
        metrics = self.node_metrics if device is None else self.devices[device]
        by_name = {m.name: m for m in metrics}
        with self._lock:
            stamp = _now_ms() if ts_ms is None else ts_ms
            seq = self._next_seq()
            data = Payload(timestamp=stamp, seq=seq)
            for name, value in values.items():
                metric = by_name[name]
                metric.value = value
                entry = data.metrics.add(alias=metric.alias, timestamp=stamp)
                _set_value(entry, metric)
            self._publish("NDATA" if device is None else "DDATA", device, data)
        return seq

    def skip_seq(self, count: int = 1) -> None:
        """Consume sequence numbers without publishing: the host sees a gap."""
        with self._lock:
            for _ in range(count):
                self._next_seq()

    # --- internals ---------------------------------------------------------------------------
    def _next_seq(self) -> int:
        seq = self._seq
        self._seq = (self._seq + 1) % 256
        return seq

    def _add_birth_metric(self, payload: Any, metric: SimulatedMetric) -> None:
        entry = payload.metrics.add(
            name=metric.name, alias=metric.alias, timestamp=payload.timestamp
        )
        entry.datatype = int(metric.datatype)
        _set_value(entry, metric)
        entry.properties.keys.append("engUnit")
        entry.properties.values.add(type=int(DataType.String), string_value=metric.unit)

    def _publish(self, kind: str, device: str | None, payload: Any) -> None:
        self._client.publish(self._topic(kind, device), payload.SerializeToString(), qos=0)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        command = Payload.FromString(message.payload)
        for metric in command.metrics:
            if metric.name == REBIRTH_METRIC and metric.boolean_value:
                self.rebirths_answered += 1
                self.publish_births()
                return


def _set_value(entry: Any, metric: SimulatedMetric) -> None:
    entry.datatype = int(metric.datatype)
    if metric.datatype == DataType.Float:
        entry.float_value = metric.value
    elif metric.datatype in (DataType.Int64, DataType.UInt64):
        entry.long_value = int(metric.value) & ((1 << 64) - 1)
    elif metric.datatype in (DataType.Int32, DataType.UInt32, DataType.Int16, DataType.Int8):
        entry.int_value = int(metric.value) & ((1 << 32) - 1)
    else:
        entry.double_value = metric.value
