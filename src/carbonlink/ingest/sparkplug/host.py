"""Sparkplug B 3.0 host application: births, aliases, `seq`/`bdSeq` tracking, rebirth, STATE.

The host turns NBIRTH/DBIRTH/NDATA/DDATA metrics into readings. Births carry each metric's
name, alias, data type and (optionally, as the property ``engUnit``) its unit; data messages
carry only aliases, resolved through the last birth of the same edge node.

Ordering (Sparkplug 3.0 §7.1–7.4): every message of an edge node after NBIRTH carries ``seq``,
0–255, shared by the node and its devices. When a message arrives out of order the host holds
it for ``reorder_timeout`` seconds waiting for the missing one; if the gap is still open then,
it drops the held messages (their values are not trusted) and publishes an NCMD with
``Node Control/Rebirth`` = true, so the node publishes its births again with current values.
An NDEATH is honoured only when its ``bdSeq`` equals the ``bdSeq`` of the node's current NBIRTH:
a late will message of an earlier session must not take a live node offline.

STATE (§7.5): on connect the host registers a will and publishes, retained with QoS 1,
``{"online": true, "timestamp": t}`` on ``spBv1.0/STATE/<host id>``; the will and the clean
shutdown publish ``{"online": false, "timestamp": t}`` with the same ``t``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from google.protobuf.message import DecodeError
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from pydantic import BaseModel, ConfigDict, Field

from carbonlink.ingest.base import Reading, ReadingSink, Rejected
from carbonlink.ingest.mqtt import connect_broker
from carbonlink.ingest.sparkplug.schema import DataType, Payload
from carbonlink.ingest.sparkplug.topics import (
    BDSEQ_METRIC,
    NAMESPACE,
    REBIRTH_METRIC,
    SparkplugTopic,
    parse_topic,
    state_topic,
)

log = logging.getLogger(__name__)

_NUMERIC = {
    DataType.Int8: "int_value",
    DataType.Int16: "int_value",
    DataType.Int32: "int_value",
    DataType.UInt8: "int_value",
    DataType.UInt16: "int_value",
    DataType.UInt32: "int_value",
    DataType.Int64: "long_value",
    DataType.UInt64: "long_value",
    DataType.Float: "float_value",
    DataType.Double: "double_value",
}
_SIGNED_BITS = {DataType.Int8: 8, DataType.Int16: 16, DataType.Int32: 32, DataType.Int64: 64}


class SparkplugHostConfig(BaseModel):
    """Broker, host identity and which edge nodes to follow."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(default="127.0.0.1", description="Broker host name or address.")
    port: int = Field(default=1883, description="Broker TCP port.")
    host_id: str = Field(
        default="carbonlink",
        description="Host application id: STATE is published on spBv1.0/STATE/<host_id>.",
    )
    client_id: str | None = Field(
        default=None, description="MQTT client id; defaults to 'carbonlink-host-<host_id>'."
    )
    group: str = Field(default="+", description="Sparkplug group to follow; '+' for all.")
    reorder_timeout: float = Field(
        default=2.0,
        gt=0,
        description="Seconds to wait for a missing seq before asking the node for a rebirth.",
    )
    default_unit: str | None = Field(
        default=None,
        description="Unit for metrics whose birth carries no 'engUnit' property.",
    )
    keepalive: int = Field(default=30, ge=5)


@dataclass
class _Metric:
    name: str
    datatype: int
    unit: str | None


@dataclass
class EdgeNodeState:
    """What the host knows about one edge node since its last NBIRTH."""

    online: bool = False
    bd_seq: int | None = None
    next_seq: int = 0
    # (device or None, alias) → metric; names map too, for data sent without aliases.
    aliases: dict[tuple[str | None, int], _Metric] = field(default_factory=dict)
    names: dict[tuple[str | None, str], _Metric] = field(default_factory=dict)
    devices_online: set[str] = field(default_factory=set)
    held: dict[int, tuple[SparkplugTopic, Any, bytes]] = field(default_factory=dict)
    gap_since: float | None = None
    awaiting_birth: bool = False
    rebirth_at: float = 0.0
    rebirths_requested: int = 0


@dataclass
class HostStats:
    """Counters of a running host (for the CLI and tests)."""

    messages: int = 0
    readings: int = 0
    quarantined: int = 0
    rebirths_requested: int = 0
    stale_deaths_ignored: int = 0


def metric_meter_id(topic: SparkplugTopic, metric_name: str) -> str:
    """Meter id of a metric: group/edge node[/device]/metric name."""
    parts = [topic.group, topic.edge_node]
    if topic.device is not None:
        parts.append(topic.device)
    parts.append(metric_name)
    return "/".join(parts)


def _property(metric: Any, key: str) -> str | None:
    if not metric.HasField("properties"):
        return None
    props = metric.properties
    for k, v in zip(props.keys, props.values, strict=False):
        if k == key and v.WhichOneof("value") == "string_value":
            return str(v.string_value)
    return None


def metric_value(metric: Any, datatype: int) -> float:
    """The numeric value of a metric, sign-restored for signed integer types (§6.4.17)."""
    try:
        kind = DataType(datatype)
    except ValueError as exc:
        raise ValueError(f"unknown Sparkplug datatype {datatype}") from exc
    if kind not in _NUMERIC:
        raise ValueError(f"metric type {kind.name} is not a number")
    present = metric.WhichOneof("value")
    if present != _NUMERIC[kind]:
        raise ValueError(f"{kind.name} metric carries {present or 'no value'}")
    raw = getattr(metric, present)
    bits = _SIGNED_BITS.get(kind)
    if bits is not None:
        # Signed integers travel as their two's complement in an unsigned field.
        raw &= (1 << bits) - 1
        if raw >= 1 << (bits - 1):
            raw -= 1 << bits
    return float(raw)


class SparkplugHost:
    """Follows Sparkplug edge nodes over MQTT and writes their numeric metrics to a sink."""

    def __init__(
        self,
        config: SparkplugHostConfig,
        sink: ReadingSink,
        *,
        on_event: Callable[[str, SparkplugTopic | None], None] | None = None,
    ) -> None:
        self.config = config
        self.sink = sink
        self.stats = HostStats()
        self.nodes: dict[tuple[str, str], EdgeNodeState] = {}
        self._on_event = on_event
        self._state_ts = 0
        self._online = threading.Event()
        client_id = config.client_id or f"carbonlink-host-{config.host_id}"
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe

    # --- session and STATE -------------------------------------------------------------------
    def _state(self, online: bool) -> bytes:
        return json.dumps({"online": online, "timestamp": self._state_ts}).encode()

    def _connect(self) -> None:
        self._state_ts = int(time.time() * 1000)
        self._client.will_set(
            state_topic(self.config.host_id), self._state(False), qos=1, retain=True
        )
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = 0
        # §7.5: a host application starts a clean session and rebuilds its view from births,
        # asking for them where it must.
        connect_broker(
            self._client,
            self.config.host,
            self.config.port,
            keepalive=self.config.keepalive,
            clean_start=True,
            properties=properties,
        )

    def _on_connect(self, client: mqtt.Client, *_args: Any) -> None:
        group = self.config.group
        client.subscribe(
            [
                (f"{NAMESPACE}/{group}/+/+", 1),
                (f"{NAMESPACE}/{group}/+/+/+", 1),
            ]
        )

    def _on_subscribe(self, client: mqtt.Client, *_args: Any) -> None:
        # STATE online only once the subscriptions are in place, so no birth is missed.
        client.publish(state_topic(self.config.host_id), self._state(True), qos=1, retain=True)
        self._online.set()
        self._emit("online", None)

    def wait_online(self, timeout: float) -> bool:
        """Block until STATE online has been published (for tests and demos)."""
        return self._online.wait(timeout)

    def run(self, stop: threading.Event | None = None) -> HostStats:
        """Follow edge nodes until `stop` is set, then publish STATE offline and disconnect."""
        stop = stop or threading.Event()
        self._connect()
        while not stop.is_set():
            rc = self._client.loop(timeout=0.05)
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                self._online.clear()
                stop.wait(1.0)
                self._connect()
                continue
            self.check_reorder_timeouts()
        info = self._client.publish(
            state_topic(self.config.host_id), self._state(False), qos=1, retain=True
        )
        deadline = time.monotonic() + 2.0
        while not info.is_published() and time.monotonic() < deadline:
            self._client.loop(timeout=0.05)
        self._client.disconnect()
        return self.stats

    # --- message handling --------------------------------------------------------------------
    def _emit(self, event: str, topic: SparkplugTopic | None) -> None:
        if self._on_event is not None:
            self._on_event(event, topic)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.stats.messages += 1
        raw = bytes(message.payload)
        topic = parse_topic(message.topic)
        if topic is None or topic.message_type in ("NCMD", "DCMD"):
            return
        try:
            payload = Payload.FromString(raw)
        except DecodeError as exc:
            self._quarantine([Rejected(raw, f"not a Sparkplug B payload: {exc}", str(topic))])
            return
        self.handle(topic, payload, raw)

    def handle(self, topic: SparkplugTopic, payload: Any, raw: bytes) -> None:
        """Process one decoded message in arrival order (public for offline replays)."""
        node = self.nodes.setdefault(topic.node_key, EdgeNodeState())
        kind = topic.message_type
        if kind == "NDEATH":
            self._node_death(topic, node, payload)
            return
        if kind == "NBIRTH":
            self._node_birth(topic, node, payload, raw)
            self._drain(topic, node)
            return
        if not node.online or node.awaiting_birth:
            self._quarantine([Rejected(raw, f"{kind} before NBIRTH of its edge node", str(topic))])
            self.request_rebirth(topic)
            return
        if not payload.HasField("seq"):
            self._quarantine([Rejected(raw, f"{kind} without seq", str(topic))])
            return
        seq = payload.seq
        if seq != node.next_seq:
            node.held[seq] = (topic, payload, raw)
            if node.gap_since is None:
                node.gap_since = time.monotonic()
                self._emit("gap", topic)
            return
        self._apply(topic, node, payload, raw)
        self._drain(topic, node)

    def _drain(self, topic: SparkplugTopic, node: EdgeNodeState) -> None:
        while node.next_seq in node.held and not node.awaiting_birth:
            held_topic, held_payload, held_raw = node.held.pop(node.next_seq)
            self._apply(held_topic, node, held_payload, held_raw)
        if not node.held:
            node.gap_since = None

    def _apply(self, topic: SparkplugTopic, node: EdgeNodeState, payload: Any, raw: bytes) -> None:
        node.next_seq = (node.next_seq + 1) % 256
        kind = topic.message_type
        if kind == "DBIRTH":
            assert topic.device is not None
            node.devices_online.add(topic.device)
            for key in [k for k in node.aliases if k[0] == topic.device]:
                del node.aliases[key]
            self._learn(topic.device, node, payload)
            self._store(topic, node, payload, raw)
        elif kind == "DDEATH":
            node.devices_online.discard(topic.device or "")
        else:  # NDATA, DDATA
            self._store(topic, node, payload, raw)
        self._emit(kind, topic)

    def _node_birth(
        self, topic: SparkplugTopic, node: EdgeNodeState, payload: Any, raw: bytes
    ) -> None:
        bd_seq = next((int(m.long_value) for m in payload.metrics if m.name == BDSEQ_METRIC), None)
        if bd_seq is None:
            self._quarantine([Rejected(raw, "NBIRTH without a bdSeq metric", str(topic))])
            self.request_rebirth(topic)
            return
        node.online = True
        node.awaiting_birth = False
        node.bd_seq = bd_seq
        node.next_seq = (int(payload.seq) + 1) % 256
        node.aliases.clear()
        node.names.clear()
        node.devices_online.clear()
        node.held.clear()
        node.gap_since = None
        self._learn(None, node, payload)
        self._store(topic, node, payload, raw)
        self._emit("NBIRTH", topic)

    def _node_death(self, topic: SparkplugTopic, node: EdgeNodeState, payload: Any) -> None:
        bd_seq = next((int(m.long_value) for m in payload.metrics if m.name == BDSEQ_METRIC), None)
        if node.bd_seq is not None and bd_seq != node.bd_seq:
            self.stats.stale_deaths_ignored += 1
            self._emit("stale NDEATH", topic)
            return
        node.online = False
        node.devices_online.clear()
        node.held.clear()
        node.gap_since = None
        self._emit("NDEATH", topic)

    def _learn(self, device: str | None, node: EdgeNodeState, payload: Any) -> None:
        for metric in payload.metrics:
            if not metric.name:
                continue
            info = _Metric(metric.name, int(metric.datatype), _property(metric, "engUnit") or None)
            node.names[(device, metric.name)] = info
            if metric.HasField("alias"):
                node.aliases[(device, int(metric.alias))] = info

    def _store(self, topic: SparkplugTopic, node: EdgeNodeState, payload: Any, raw: bytes) -> None:
        readings: list[Reading] = []
        rejected: list[Rejected] = []
        ref = f"{topic}#seq={payload.seq}" if payload.HasField("seq") else str(topic)
        unknown_alias = False
        for metric in payload.metrics:
            if metric.name:
                info = node.names.get((topic.device, metric.name))
            elif metric.HasField("alias"):
                info = node.aliases.get((topic.device, int(metric.alias)))
            else:
                info = None
            if info is None:
                rejected.append(
                    Rejected(
                        metric.SerializeToString(),
                        f"alias {metric.alias} not declared in the last birth",
                        ref,
                    )
                )
                unknown_alias = True
                continue
            if info.name == BDSEQ_METRIC or info.name.startswith(
                ("Node Control/", "Device Control/", "Properties/")
            ):
                continue
            meter = metric_meter_id(topic, info.name)
            try:
                if metric.is_null:
                    raise ValueError("metric value is null")
                value = metric_value(metric, info.datatype)
                unit = info.unit or self.config.default_unit
                if unit is None:
                    raise ValueError("no engUnit in the birth and no default unit configured")
                stamp = metric.timestamp if metric.HasField("timestamp") else payload.timestamp
                ts = datetime.fromtimestamp(stamp / 1000.0, tz=UTC)
            except (ValueError, OverflowError, OSError) as exc:
                rejected.append(Rejected(metric.SerializeToString(), str(exc), ref, meter))
                continue
            readings.append(Reading(meter, ts, value, unit, source_ref=ref))
        if rejected:
            self._quarantine(rejected)
        if readings:
            self.stats.readings += self.sink.add_readings(readings)
        if unknown_alias:
            self.request_rebirth(topic)

    def _quarantine(self, rejected: list[Rejected]) -> None:
        self.stats.quarantined += self.sink.quarantine(rejected)

    # --- rebirth -----------------------------------------------------------------------------
    def check_reorder_timeouts(self, now: float | None = None) -> None:
        """Ask for a rebirth of every node whose seq gap has stayed open past the timeout."""
        now = time.monotonic() if now is None else now
        for (group, edge), node in self.nodes.items():
            if node.gap_since is not None and now - node.gap_since >= self.config.reorder_timeout:
                node.held.clear()
                node.gap_since = None
                self.request_rebirth(SparkplugTopic(group, "NCMD", edge))
            elif node.awaiting_birth and now - node.rebirth_at >= 5 * self.config.reorder_timeout:
                # The request or the answer was lost (NCMD travels at QoS 0): ask again.
                self.request_rebirth(SparkplugTopic(group, "NCMD", edge), repeat=True)

    def request_rebirth(self, topic: SparkplugTopic, *, repeat: bool = False) -> None:
        """Publish NCMD ``Node Control/Rebirth`` = true to the edge node (§6.4.2 rebirth)."""
        node = self.nodes.setdefault(topic.node_key, EdgeNodeState())
        if node.awaiting_birth and not repeat:
            return
        node.awaiting_birth = True
        node.rebirth_at = time.monotonic()
        node.rebirths_requested += 1
        self.stats.rebirths_requested += 1
        command = Payload(timestamp=int(time.time() * 1000))
        command.metrics.add(name=REBIRTH_METRIC, datatype=int(DataType.Boolean), boolean_value=True)
        target = SparkplugTopic(topic.group, "NCMD", topic.edge_node)
        self._client.publish(str(target), command.SerializeToString(), qos=0)
        self._emit("rebirth requested", target)
