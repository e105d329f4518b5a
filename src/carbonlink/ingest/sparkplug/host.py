"""Sparkplug B 3.0 host application: births, aliases, `seq`/`bdSeq` tracking, rebirth, STATE.

The host turns NBIRTH/DBIRTH/NDATA/DDATA metrics into readings. Births carry each metric's
name, alias, data type and (optionally, as the property ``engUnit``) its unit; data messages
carry only aliases, resolved through the last birth of the same edge node.

Ordering (Sparkplug 3.0 §7.1–7.4): every message of an edge node after NBIRTH carries ``seq``,
0–255, shared by the node and its devices. When a message arrives out of order the host holds
it for ``reorder_timeout`` seconds waiting for the missing one; if the gap is still open then,
it stores the held messages — each metric carries its own timestamp, and the aliases resolve
through the node's current birth — with quality ``good+seq_gap`` (metrics it cannot resolve go
to quarantine with the reason), and publishes an NCMD with ``Node Control/Rebirth`` = true, so
the node publishes its births again with current values. Messages still held when a new NBIRTH
or an NDEATH arrives are stored the same way first: nothing received is dropped.
A metric whose timestamp lies outside its meter's plausible window (`carbonlink.ingest.validation`:
from 1990 to a day ahead unless the store holds the meter's own window) goes to quarantine with
the reason, as an unset edge-node clock (timestamp 0, 1970) or a far-future one would send it.
An NDEATH is honoured only when its ``bdSeq`` equals the ``bdSeq`` of the node's current NBIRTH:
a late will message of an earlier session must not take a live node offline.

STATE (§7.5): on connect the host registers a will, subscribes to the edge nodes' topics and to
its own ``spBv1.0/STATE/<host id>``, then publishes, retained with QoS 1,
``{"online": true, "timestamp": t}`` there; the will and the clean shutdown publish
``{"online": false, "timestamp": t}`` with the same ``t``. When the host sees itself declared
offline while it runs (a will of an earlier connection delivered late, another client), it
publishes its online STATE again at once.

Broker outages: the host waits for the broker at start (unless ``fail_fast``) and, when the
connection is lost, reconnects with exponential back-off (capped, with jitter) forever, logging
each change. A reconnection is a new clean session, so the host no longer trusts what it knew
of the edge nodes: it asks every known node for a rebirth, and their data is taken again from
the next NBIRTH (an edge node that lost the broker too publishes one on reconnecting, §7.1).
"""

from __future__ import annotations

import json
import logging
import math
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

from carbonlink.errors import IngestError
from carbonlink.ingest.base import Reading, ReadingSink, Rejected
from carbonlink.ingest.mqtt import Backoff, connect_broker
from carbonlink.ingest.sparkplug.schema import DataType, Payload
from carbonlink.ingest.sparkplug.topics import (
    BDSEQ_METRIC,
    NAMESPACE,
    REBIRTH_METRIC,
    SparkplugTopic,
    parse_topic,
    state_topic,
)
from carbonlink.ingest.validation import (
    ReadingWindow,
    StoredWindows,
    store_behind,
    validate_readings,
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
    fail_fast: bool = Field(
        default=False, description="Stop with an error when the broker is away at start."
    )
    reconnect_initial: float = Field(
        default=0.5, gt=0, description="First delay (s) before retrying the broker."
    )
    reconnect_max: float = Field(
        default=30.0, gt=0, description="Longest delay (s) between two connection attempts."
    )


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
    held_released: int = 0
    connects: int = 0
    state_republished: int = 0


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
        windows: Callable[[], Callable[[str], ReadingWindow]] | None = None,
    ) -> None:
        """`windows` gives each meter's plausible window; by default the windows the store
        behind `sink` holds (re-read every few seconds), or the default window."""
        self.config = config
        self.sink = sink
        self._windows = windows or StoredWindows(store_behind(sink))
        self.stats = HostStats()
        self.nodes: dict[tuple[str, str], EdgeNodeState] = {}
        self._on_event = on_event
        self._state_ts = 0
        self._online = threading.Event()
        self._stopping = False
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

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            log.error("the MQTT broker refused the connection: %s", reason)
            return
        self.stats.connects += 1
        group = self.config.group
        client.subscribe(
            [
                (f"{NAMESPACE}/{group}/+/+", 1),
                (f"{NAMESPACE}/{group}/+/+/+", 1),
                (state_topic(self.config.host_id), 1),
            ]
        )

    def _forget_sessions(self) -> None:
        """After a reconnection: births seen before may be stale, so every known edge node is
        asked for new ones (its held messages are stored first)."""
        for (group, edge), node in self.nodes.items():
            self._release_held(node, "the connection to the broker was lost")
            node.awaiting_birth = False
            self.request_rebirth(SparkplugTopic(group, "NCMD", edge))

    def _on_subscribe(self, client: mqtt.Client, *_args: Any) -> None:
        # STATE online only once the subscriptions are in place, so no birth is missed.
        client.publish(state_topic(self.config.host_id), self._state(True), qos=1, retain=True)
        self._online.set()
        self._emit("online", None)
        if self.stats.connects > 1:
            self._forget_sessions()

    def wait_online(self, timeout: float) -> bool:
        """Block until STATE online has been published (for tests and demos)."""
        return self._online.wait(timeout)

    def _connect_until(self, stop: threading.Event, backoff: Backoff, *, first: bool) -> bool:
        """Connect, retrying with back-off until it works or `stop` is set (True if connected)."""
        address = f"{self.config.host}:{self.config.port}"
        while not stop.is_set():
            try:
                self._connect()
            except IngestError as exc:
                if first and self.config.fail_fast:
                    raise
                delay = backoff.next()
                log.warning(
                    "cannot reach the MQTT broker at %s (%s); retrying in %.1f s",
                    address,
                    exc.__cause__ or exc,
                    delay,
                )
                stop.wait(delay)
                continue
            return True
        return False

    def run(self, stop: threading.Event | None = None) -> HostStats:
        """Follow edge nodes until `stop` is set, then publish STATE offline and disconnect.

        Waits for the broker at start (unless `fail_fast`) and reconnects with back-off,
        forever, when the connection is lost."""
        stop = stop or threading.Event()
        address = f"{self.config.host}:{self.config.port}"
        backoff = Backoff(self.config.reconnect_initial, self.config.reconnect_max)
        if not self._connect_until(stop, backoff, first=True):
            return self.stats
        lost = False
        while not stop.is_set():
            rc = self._client.loop(timeout=0.05)
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                self._online.clear()
                lost = True
                delay = backoff.next()
                log.warning(
                    "lost connection to the MQTT broker at %s (%s), retrying in %.1f s",
                    address,
                    mqtt.error_string(rc),
                    delay,
                )
                self._emit("offline", None)
                stop.wait(delay)
                if not self._connect_until(stop, backoff, first=False):
                    break
                continue
            if lost and self._online.is_set():
                lost = False
                backoff.reset()
                log.warning("reconnected to the MQTT broker at %s", address)
            self.check_reorder_timeouts()
        if not self._client.is_connected():
            return self.stats
        self._stopping = True
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
        self.receive(message.topic, bytes(message.payload))

    def receive(self, topic_name: str, raw: bytes) -> None:
        """One message as received from the broker: decoded and handled, or quarantined."""
        self.stats.messages += 1
        if topic_name == state_topic(self.config.host_id):
            self._own_state(raw)
            return
        topic = parse_topic(topic_name)
        if topic is None or topic.message_type in ("NCMD", "DCMD"):
            return
        try:
            payload = Payload.FromString(raw)
        except DecodeError as exc:
            self._quarantine([Rejected(raw, f"not a Sparkplug B payload: {exc}", str(topic))])
            return
        self.handle(topic, payload, raw)

    def _own_state(self, raw: bytes) -> None:
        """§7.5: a host that sees itself declared offline while running says it is online."""
        try:
            state = json.loads(raw)
        except ValueError:
            state = None
        offline = not (isinstance(state, dict) and state.get("online") is True)
        if offline and self._online.is_set() and not self._stopping:
            log.warning("STATE of host %s was set offline; publishing online", self.config.host_id)
            self.stats.state_republished += 1
            self._client.publish(
                state_topic(self.config.host_id), self._state(True), qos=1, retain=True
            )
            self._emit("state republished", None)

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
            self._device_birth(topic, node, payload)
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
        self._release_held(node, "a new NBIRTH arrived")
        node.online = True
        node.awaiting_birth = False
        node.bd_seq = bd_seq
        node.next_seq = (int(payload.seq) + 1) % 256
        node.aliases.clear()
        node.names.clear()
        node.devices_online.clear()
        self._learn(None, node, payload)
        self._store(topic, node, payload, raw)
        self._emit("NBIRTH", topic)

    def _node_death(self, topic: SparkplugTopic, node: EdgeNodeState, payload: Any) -> None:
        bd_seq = next((int(m.long_value) for m in payload.metrics if m.name == BDSEQ_METRIC), None)
        if node.bd_seq is not None and bd_seq != node.bd_seq:
            self.stats.stale_deaths_ignored += 1
            self._emit("stale NDEATH", topic)
            return
        self._release_held(node, "the edge node died")
        node.online = False
        node.devices_online.clear()
        self._emit("NDEATH", topic)

    def _learn(self, device: str | None, node: EdgeNodeState, payload: Any) -> None:
        for metric in payload.metrics:
            if not metric.name:
                continue
            info = _Metric(metric.name, int(metric.datatype), _property(metric, "engUnit") or None)
            node.names[(device, metric.name)] = info
            if metric.HasField("alias"):
                node.aliases[(device, int(metric.alias))] = info

    def _release_held(self, node: EdgeNodeState, why: str) -> None:
        """Store the messages held past a seq gap that did not close (in arrival order of seq
        after the gap), marked ``good+seq_gap``; nothing held is dropped."""
        if not node.held:
            node.gap_since = None
            return
        held = sorted(node.held.items(), key=lambda item: (item[0] - node.next_seq) % 256)
        node.held.clear()
        node.gap_since = None
        log.warning(
            "edge node %s: seq %d never arrived (%s); storing %d held message(s) as good+seq_gap",
            "/".join(held[0][1][0].node_key),
            node.next_seq,
            why,
            len(held),
        )
        for _, (topic, payload, raw) in held:
            self.stats.held_released += 1
            if topic.message_type == "DBIRTH":
                self._device_birth(topic, node, payload)
            if topic.message_type in ("NDATA", "DDATA", "DBIRTH"):
                self._store(topic, node, payload, raw, quality="good+seq_gap")
            elif topic.message_type == "DDEATH":
                node.devices_online.discard(topic.device or "")

    def _device_birth(self, topic: SparkplugTopic, node: EdgeNodeState, payload: Any) -> None:
        device = topic.device or ""
        node.devices_online.add(device)
        for key in [k for k in node.aliases if k[0] == device]:
            del node.aliases[key]
        self._learn(device, node, payload)

    def _store(
        self,
        topic: SparkplugTopic,
        node: EdgeNodeState,
        payload: Any,
        raw: bytes,
        *,
        quality: str = "good",
    ) -> None:
        readings: list[Reading] = []
        raws: list[bytes] = []
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
                if not math.isfinite(value):
                    raise ValueError(f"metric value {value} is not a finite number")
                unit = info.unit or self.config.default_unit
                if unit is None:
                    raise ValueError("no engUnit in the birth and no default unit configured")
                stamp = metric.timestamp if metric.HasField("timestamp") else payload.timestamp
                ts = datetime.fromtimestamp(stamp / 1000.0, tz=UTC)
            except (ValueError, OverflowError, OSError) as exc:
                rejected.append(Rejected(metric.SerializeToString(), str(exc), ref, meter))
                continue
            readings.append(Reading(meter, ts, value, unit, quality=quality, source_ref=ref))
            raws.append(metric.SerializeToString())
        checked = validate_readings(readings, None, windows=self._windows())
        for refusal in checked.refused:
            rejected.append(Rejected(raws[refusal.index], refusal.reason, ref, refusal.meter_id))
        readings = checked.readings
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
                self._release_held(node, f"waited {self.config.reorder_timeout:g} s")
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
