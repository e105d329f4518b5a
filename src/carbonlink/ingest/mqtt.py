"""MQTT collector: JSON meter messages on mapped topics become readings, nothing lost on restart.

Reliability rests on three things working together:

* QoS 1 subscriptions and an MQTT 5 persistent session (fixed client id, ``clean_start`` false,
  a session expiry interval), so the broker queues messages while the collector is down;
* manual acknowledgement: a PUBACK is sent only after the batch holding the message has been
  written to the sink, so a collector killed mid-batch gets the unacknowledged messages again;
* an idempotent sink keyed on (meter, timestamp), so those redeliveries (and any QoS-1
  duplicate) change nothing.

The broker must be allowed to queue enough messages for a disconnected session: Mosquitto's
``max_queued_messages`` defaults to 1000 and silently drops QoS-1 messages beyond it. Set it
(and ``max_queued_bytes``) for the longest outage the plant must ride through, and set
``persistence true`` so queued messages also survive a broker restart.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import paho.mqtt.client as mqtt
import yaml
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from carbonlink.errors import ConfigError, IngestError
from carbonlink.ingest.base import MessageSetSink, Reading, ReadingSink, Rejected

log = logging.getLogger(__name__)

_ROUTE_CACHE = 100_000

__all__ = [
    "MqttCollector",
    "MqttCollectorConfig",
    "TopicMapping",
    "load_config",
    "parse_message",
    "topic_matches",
]


class TopicMapping(BaseModel):
    """Which topics carry which meter, and where the value and timestamp sit in the JSON."""

    model_config = ConfigDict(extra="forbid")

    topic: str = Field(description="MQTT topic filter; '+' matches one level, '#' the rest.")
    meter: str = Field(
        description=(
            "Meter id. '{N}' is replaced by topic level N (counted from 0), so "
            "'plant/+/meter/+' with meter '{1}.{3}' gives 'mill1.EM-07' for "
            "'plant/mill1/meter/EM-07'."
        )
    )
    unit: str | None = Field(
        default=None, description="Unit of the value when the message does not carry one."
    )
    value_key: str = Field(default="value", description="JSON key holding the number.")
    timestamp_key: str = Field(
        default="ts", description="JSON key holding the time: ISO 8601 or Unix epoch milliseconds."
    )
    unit_key: str = Field(default="unit", description="JSON key holding the unit, if any.")
    timezone: str | None = Field(
        default=None,
        description=(
            "IANA zone for timestamps sent without an offset. Without it such messages are "
            "quarantined, because guessing the zone would shift every interval."
        ),
    )

    @field_validator("topic")
    @classmethod
    def _valid_filter(cls, topic: str) -> str:
        levels = topic.split("/")
        for i, level in enumerate(levels):
            if "#" in level and (level != "#" or i != len(levels) - 1):
                raise ValueError("'#' must be a whole level at the end of the filter")
            if "+" in level and level != "+":
                raise ValueError("'+' must be a whole level")
        return topic

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str | None) -> str | None:
        if zone is not None:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {zone!r}") from exc
        return zone

    def meter_for(self, topic: str) -> str:
        """The meter id for a topic that matches this mapping."""
        return self.meter.format(*topic.split("/"))


class MqttCollectorConfig(BaseModel):
    """Everything the collector needs: broker, session identity and the topic mappings."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(default="127.0.0.1", description="Broker host name or address.")
    port: int = Field(default=1883, description="Broker TCP port.")
    client_id: str = Field(
        default="carbonlink-collector",
        description=(
            "Fixed client id. The broker keeps the session (subscriptions and queued "
            "messages) under this id, so a restarted collector must use the same one, and "
            "two collectors must never share it."
        ),
    )
    session_expiry: int = Field(
        default=7 * 24 * 3600,
        ge=0,
        description="Seconds the broker keeps the session and queues messages while offline.",
    )
    keepalive: int = Field(default=30, ge=5, description="MQTT keep-alive in seconds.")
    batch_size: int = Field(
        default=1000, ge=1, description="Messages written to the store in one transaction."
    )
    flush_interval: float = Field(
        default=0.2, gt=0, description="Longest time (s) a received message waits for its batch."
    )
    receive_maximum: int = Field(
        default=2000,
        ge=1,
        le=65535,
        description=(
            "Unacknowledged messages the broker may send ahead (MQTT 5 Receive Maximum); "
            "must exceed batch_size or batches never fill."
        ),
    )
    username: str | None = None
    password: str | None = None
    topics: list[TopicMapping] = Field(min_length=1)

    def mapping_for(self, topic: str) -> TopicMapping | None:
        """The first mapping whose filter matches the topic."""
        for mapping in self.topics:
            if topic_matches(mapping.topic, topic):
                return mapping
        return None


def load_config(
    path: Path, *, defaults: dict[str, Any] | None = None, **overrides: Any
) -> MqttCollectorConfig:
    """Read a collector configuration (YAML or JSON); overrides win over the file, which wins
    over the defaults (from settings)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(
            f"cannot read the topic mapping: {exc}", file=str(path), hint="check path and syntax"
        ) from exc
    if not isinstance(data, dict):
        raise ConfigError(
            "the topic mapping must be a mapping with a 'topics' list", file=str(path)
        )
    data = {**(defaults or {}), **data, **{k: v for k, v in overrides.items() if v is not None}}
    try:
        return MqttCollectorConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            f"invalid topic mapping: {exc}",
            file=str(path),
            hint="see 'carbonlink ingest mqtt --help'",
        ) from exc


def topic_matches(topic_filter: str, topic: str) -> bool:
    """Whether a topic name matches an MQTT filter with '+' and '#' wildcards (MQTT 5 §4.7)."""
    filter_levels = topic_filter.split("/")
    levels = topic.split("/")
    # §4.7.2: wildcards at the first level do not match topics starting with '$'.
    if topic.startswith("$") and filter_levels[0] in ("+", "#"):
        return False
    for i, part in enumerate(filter_levels):
        if part == "#":
            return True
        if i >= len(levels):
            return False
        if part != "+" and part != levels[i]:
            return False
    return len(levels) == len(filter_levels)


def _parse_time(raw: object, zone: str | None) -> datetime:
    if isinstance(raw, bool) or raw is None:
        raise ValueError(f"timestamp {raw!r} is neither ISO 8601 nor epoch milliseconds")
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            raise ValueError(f"timestamp {raw!r} is not a finite number")
        return datetime.fromtimestamp(raw / 1000.0, tz=UTC)
    if isinstance(raw, str):
        ts = datetime.fromisoformat(raw)
        if ts.tzinfo is None:
            if zone is None:
                raise ValueError(
                    f"timestamp {raw!r} has no UTC offset and the mapping has no 'timezone'"
                )
            ts = ts.replace(tzinfo=ZoneInfo(zone))
        return ts.astimezone(UTC)
    raise ValueError(f"timestamp {raw!r} is neither ISO 8601 nor epoch milliseconds")


def parse_message(
    mapping: TopicMapping, topic: str, payload: bytes, *, meter: str | None = None
) -> tuple[list[Reading], list[Rejected]]:
    """Turn one JSON message (an object or a list of objects) into readings and rejects."""
    source_ref = f"mqtt:{topic}"
    meter = meter if meter is not None else mapping.meter_for(topic)
    try:
        document = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [], [Rejected(payload, f"payload is not JSON: {exc}", source_ref, meter)]
    items = document if isinstance(document, list) else [document]
    readings: list[Reading] = []
    rejected: list[Rejected] = []
    for index, item in enumerate(items):
        ref = source_ref if len(items) == 1 else f"{source_ref}#{index}"
        try:
            if not isinstance(item, dict):
                raise ValueError("expected a JSON object with value and timestamp")
            value = item[mapping.value_key]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"value {value!r} is not a number")
            if not math.isfinite(value):
                raise ValueError(f"value {value!r} is not finite")
            unit = item.get(mapping.unit_key, mapping.unit)
            if not isinstance(unit, str) or not unit:
                raise ValueError("no unit in the message and none in the mapping")
            ts = _parse_time(item[mapping.timestamp_key], mapping.timezone)
            quality = item.get("quality", "good")
            readings.append(
                Reading(meter, ts, float(value), unit, quality=str(quality), source_ref=ref)
            )
        except KeyError as exc:
            rejected.append(Rejected(_raw(item), f"missing key {exc}", ref, meter))
        except (ValueError, OverflowError, OSError) as exc:
            rejected.append(Rejected(_raw(item), str(exc), ref, meter))
    return readings, rejected


def _raw(item: object) -> bytes:
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass
class CollectorStats:
    """Counters a running collector exposes (for the CLI and tests)."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    batches: int = 0
    connects: int = 0
    last_flush: float = field(default_factory=time.monotonic)


@dataclass
class _Pending:
    mid: int
    qos: int
    readings: list[Reading]
    rejected: list[Rejected]
    payload: bytes = b""


class MqttCollector:
    """Subscribes to the mapped topics and stores readings, acknowledging only what is stored."""

    def __init__(
        self,
        config: MqttCollectorConfig,
        sink: ReadingSink,
        *,
        on_batch: Callable[[CollectorStats], None] | None = None,
    ) -> None:
        self.config = config
        self.sink = sink
        self.stats = CollectorStats()
        self._on_batch = on_batch
        self._pending: list[_Pending] = []
        # topic → (mapping, meter id): a plant has a fixed set of topics, so match each once.
        self._routes: dict[str, tuple[TopicMapping | None, str]] = {}
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        self._client = self._make_client()

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.config.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if self.config.username is not None:
            client.username_pw_set(self.config.username, self.config.password)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    # --- paho callbacks (run in the thread that calls `run`) ---------------------------------
    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            log.error("broker refused the connection: %s", reason)
            return
        self.stats.connects += 1
        self._connected.set()
        options = SubscribeOptions(qos=1)
        client.subscribe([(mapping.topic, options) for mapping in self.config.topics])

    def _on_subscribe(self, *_args: Any) -> None:
        self._subscribed.set()

    def _on_disconnect(self, *_args: Any) -> None:
        self._connected.clear()
        self._subscribed.clear()

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.stats.received += 1
        topic = message.topic
        payload = bytes(message.payload)
        route = self._routes.get(topic)
        if route is None:
            mapping = self.config.mapping_for(topic)
            route = (mapping, mapping.meter_for(topic) if mapping is not None else "")
            if len(self._routes) >= _ROUTE_CACHE:
                self._routes.clear()
            self._routes[topic] = route
        if route[0] is None:
            readings: list[Reading] = []
            rejected = [Rejected(payload, "no topic mapping matches this topic", f"mqtt:{topic}")]
        else:
            readings, rejected = parse_message(route[0], topic, payload, meter=route[1])
        self._pending.append(_Pending(message.mid, message.qos, readings, rejected, payload))
        if len(self._pending) >= self.config.batch_size:
            self.flush()

    # --- storing and acknowledging -----------------------------------------------------------
    def flush(self) -> None:
        """Write the pending batch to the sink, then acknowledge its messages to the broker."""
        self.stats.last_flush = time.monotonic()
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        new = self._store(pending)
        readings = [r for p in pending for r in p.readings]
        self.stats.stored += new
        self.stats.duplicates += len(readings) - new
        self.stats.batches += 1
        for item in pending:
            if item.qos > 0:
                self._client.ack(item.mid, item.qos)
        if self._on_batch is not None:
            self._on_batch(self.stats)

    def _connect(self) -> None:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.config.session_expiry
        properties.ReceiveMaximum = self.config.receive_maximum
        connect_broker(
            self._client,
            self.config.host,
            self.config.port,
            keepalive=self.config.keepalive,
            clean_start=False,
            properties=properties,
        )

    def run(self, stop: threading.Event | None = None, *, reconnect: bool = True) -> CollectorStats:
        """Collect until `stop` is set; reconnects with back-off when the broker goes away."""
        stop = stop or threading.Event()
        self._connect()
        backoff = 0.5
        while not stop.is_set():
            rc = self._client.loop(timeout=min(0.05, self.config.flush_interval))
            if rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
                backoff = 0.5
                if (
                    self._pending
                    and time.monotonic() - self.stats.last_flush >= self.config.flush_interval
                ):
                    self.flush()
                continue
            # Messages of a lost connection are stored but not acknowledged: the broker
            # redelivers them on the next connection and the sink ignores the copies.
            self._store_without_ack()
            if not reconnect:
                break
            log.warning("lost the broker (%s); reconnecting in %.1fs", rc, backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, 30.0)
            try:
                self._client.reconnect()
            except OSError as exc:
                log.warning("reconnect failed: %s", exc)
        self.flush()
        self._client.disconnect()
        return self.stats

    def _store_without_ack(self) -> None:
        pending, self._pending = self._pending, []
        if pending:
            self.stats.stored += self._store(pending)

    def _store(self, pending: list[_Pending]) -> int:
        """Write pending messages to the sink (as one message set when it takes them whole);
        count the quarantined records and return how many readings were new."""
        readings = [r for p in pending for r in p.readings]
        rejected = [r for p in pending for r in p.rejected]
        if isinstance(self.sink, MessageSetSink):
            new, kept = self.sink.add_message_set(
                "mqtt",
                f"mqtt://{self.config.host}:{self.config.port}",
                [p.payload for p in pending],
                readings,
                rejected,
            )
            self.stats.quarantined += kept
            return new
        if rejected:
            self.stats.quarantined += self.sink.quarantine(rejected)
        return self.sink.add_readings(readings) if readings else 0

    def wait_subscribed(self, timeout: float) -> bool:
        """Block until the subscriptions are acknowledged (for tests and demos)."""
        return self._subscribed.wait(timeout)


def mapping_topics(config: MqttCollectorConfig) -> Sequence[str]:
    """The topic filters the collector subscribes to."""
    return [m.topic for m in config.topics]


def iter_readings(
    config: MqttCollectorConfig, messages: Iterable[tuple[str, bytes]]
) -> Iterable[Reading | Rejected]:
    """Parse (topic, payload) pairs offline, as the collector would (a `Reader` over a capture)."""
    for topic, payload in messages:
        mapping = config.mapping_for(topic)
        if mapping is None:
            yield Rejected(payload, "no topic mapping matches this topic", f"mqtt:{topic}")
            continue
        readings, rejected = parse_message(mapping, topic, payload)
        yield from readings
        yield from rejected


def connect_broker(
    client: mqtt.Client,
    host: str,
    port: int,
    *,
    keepalive: int,
    clean_start: bool,
    properties: Properties,
) -> None:
    """Connect an MQTT v5 client, turning a refused or unreachable broker into an IngestError."""
    try:
        client.connect(
            host, port, keepalive=keepalive, clean_start=clean_start, properties=properties
        )
    except OSError as exc:
        raise IngestError(
            f"cannot reach the MQTT broker at {host}:{port}: {exc}",
            hint="check --host/--port and that the broker is running",
        ) from exc
