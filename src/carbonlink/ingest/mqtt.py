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

Every reading is checked against the meter registry before it is stored, as file imports are:
an unknown meter, a unit of another kind than the meter's, a value outside the meter's
``min_value``/``max_value`` (after conversion to the meter's unit), a time before
``earliest`` or more than ``max_future`` seconds ahead, or outside the meter's own plausible
window (`carbonlink.store.Store.save_reading_window`; the same check as every other way in)
all send the message to quarantine with the reason. A number timestamp is Unix epoch
*milliseconds*; one that reads as a date before ``earliest`` in milliseconds but as a
plausible date in seconds is refused with that reason rather than guessed.

At start the collector waits for the broker (retrying with back-off) unless ``fail_fast`` is
set; a lost connection is retried with exponential back-off (capped, with jitter) forever.
"""

from __future__ import annotations

import json
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import paho.mqtt.client as mqtt
import yaml
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from carbonlink.domain.metering import Meter
from carbonlink.errors import ConfigError, IngestError
from carbonlink.ingest.base import MessageSetSink, Reading, ReadingSink, Rejected
from carbonlink.ingest.validation import (
    ReadingWindow,
    StoredWindows,
    store_behind,
    validate_readings,
)

log = logging.getLogger(__name__)

_ROUTE_CACHE = 100_000
_UNIT_CACHE = 10_000
# A registry reload is a query; an unknown meter id seen again within this time reuses the last.
_REGISTRY_REFRESH_S = 5.0
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)

__all__ = [
    "Backoff",
    "MeterCheck",
    "MeterSpec",
    "MqttCollector",
    "MqttCollectorConfig",
    "TimeWindow",
    "TopicMapping",
    "load_config",
    "parse_message",
    "topic_matches",
]


class Backoff:
    """Delays between connection attempts: doubling from `initial` up to `cap`, each with
    ±`jitter` (a fraction) so that many collectors restarted together do not retry in step."""

    def __init__(self, initial: float, cap: float, *, jitter: float = 0.2) -> None:
        self.initial = initial
        self.cap = cap
        self.jitter = jitter
        self._next = initial

    def next(self) -> float:
        """The delay before the next attempt (and double the one after)."""
        delay = self._next
        self._next = min(self._next * 2, self.cap)
        spread = delay * self.jitter
        return max(0.0, delay + random.uniform(-spread, spread))

    def reset(self) -> None:
        """Start again from `initial` (after a successful connection)."""
        self._next = self.initial


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
        default="ts",
        description=(
            "JSON key holding the time: ISO 8601 with an offset, or Unix epoch milliseconds "
            "(a number that only makes sense as seconds is refused)."
        ),
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


class MeterSpec(BaseModel):
    """A meter the collector registers at start, as a file mapping's ``meters:`` entries."""

    model_config = ConfigDict(extra="forbid")

    id: str
    kind: Literal["register", "interval"]
    unit: str
    multiplier: float = 1.0
    rollover_max: float | None = None
    time_zone: str = "UTC"
    labelling: Literal["start", "end"] = "end"
    interval_s: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    max_interval_quantity: float | None = None
    facility_id: str | None = None
    source_id: str | None = None
    name: str | None = None

    def to_meter(self) -> Meter:
        """The plain meter object."""
        return Meter(**self.model_dump())


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """The span of plausible reading times: [earliest, latest]."""

    earliest: datetime
    latest: datetime


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
    fail_fast: bool = Field(
        default=False,
        description="Stop with an error when the broker cannot be reached at start.",
    )
    reconnect_initial: float = Field(
        default=0.5, gt=0, description="First delay (s) before retrying the broker."
    )
    reconnect_max: float = Field(
        default=30.0, gt=0, description="Longest delay (s) between two connection attempts."
    )
    earliest: datetime = Field(
        default=EARLIEST, description="Readings dated before this are quarantined."
    )
    max_future: float = Field(
        default=86_400.0,
        ge=0,
        description="Seconds a reading may lie ahead of the collector's clock before quarantine.",
    )
    meters: list[MeterSpec] = Field(
        default_factory=list,
        description="Meters registered before collecting (optional; meters may already exist).",
    )
    topics: list[TopicMapping] = Field(min_length=1)

    @field_validator("earliest")
    @classmethod
    def _aware(cls, earliest: datetime) -> datetime:
        if earliest.tzinfo is None:
            raise ValueError("earliest needs a UTC offset, e.g. 2000-01-01T00:00:00Z")
        return earliest.astimezone(UTC)

    def window(self, now: datetime | None = None) -> TimeWindow:
        """The times accepted now."""
        now = now or datetime.now(UTC)
        return TimeWindow(self.earliest, now + timedelta(seconds=self.max_future))

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


def _iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def _parse_time(raw: object, zone: str | None, window: TimeWindow) -> datetime:
    if isinstance(raw, bool) or raw is None:
        raise ValueError(f"timestamp {raw!r} is neither ISO 8601 nor epoch milliseconds")
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            raise ValueError(f"timestamp {raw!r} is not a finite number")
        ts = _epoch(raw / 1000.0)
        if ts is not None and ts < window.earliest:
            seconds = _epoch(raw)
            if seconds is not None and window.earliest <= seconds <= window.latest:
                raise ValueError(
                    f"timestamp {raw!r} read as epoch milliseconds is {_iso(ts)}, as seconds "
                    f"{_iso(seconds)}: send epoch milliseconds ({int(raw) * 1000}) or ISO 8601"
                )
        if ts is None:
            raise ValueError(f"timestamp {raw!r} is out of range as epoch milliseconds")
    elif isinstance(raw, str):
        ts = datetime.fromisoformat(raw)
        if ts.tzinfo is None:
            if zone is None:
                raise ValueError(
                    f"timestamp {raw!r} has no UTC offset and the mapping has no 'timezone'"
                )
            ts = ts.replace(tzinfo=ZoneInfo(zone))
        ts = ts.astimezone(UTC)
    else:
        raise ValueError(f"timestamp {raw!r} is neither ISO 8601 nor epoch milliseconds")
    if ts < window.earliest:
        raise ValueError(
            f"time {_iso(ts)} is before {_iso(window.earliest)}, the earliest accepted"
        )
    if ts > window.latest:
        raise ValueError(
            f"time {_iso(ts)} is in the future (later than {_iso(window.latest)}); "
            "check the device's clock"
        )
    return ts


def _epoch(seconds: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


class MeterCheck:
    """Checks readings against the meter registry with the rule every way in shares
    (`carbonlink.ingest.validation.validate_readings`): the meter exists, the unit converts to
    the meter's, the value (in the meter's unit) is within its limits, and the time lies in
    the meter's plausible window (the one the store holds for it, or the default).

    The registry is read at start and again when an unknown meter id shows up (at most every
    few seconds), so meters registered while the collector runs are found.
    """

    def __init__(
        self,
        registry: Callable[[], Mapping[str, Meter]],
        windows: Callable[[], Callable[[str], ReadingWindow]] | None = None,
    ) -> None:
        self._registry = registry
        self._meters = dict(registry())
        self._loaded = time.monotonic()
        self._windows = windows or StoredWindows(None)
        self._factors: dict[tuple[str, str], tuple[float | None, str | None]] = {}

    def problem(self, reading: Reading) -> str | None:
        """Why the reading cannot be stored, or None."""
        meter = self._meters.get(reading.meter_id)
        if meter is None and time.monotonic() - self._loaded >= _REGISTRY_REFRESH_S:
            self._meters = dict(self._registry())
            self._loaded = time.monotonic()
            self._factors.clear()
            meter = self._meters.get(reading.meter_id)
        if meter is None:
            return (
                f"unknown meter {reading.meter_id!r}: register it first (meters: in the "
                "collector's mapping, a file mapping, or the API)"
            )
        if len(self._factors) >= _UNIT_CACHE:
            self._factors.clear()
        try:
            checked = validate_readings(
                [reading], self._meters, windows=self._windows(), factors=self._factors
            )
        except Exception as exc:
            # A unit text from the wire reaches pint's parser, which raises more than its
            # own errors on some inputs; the message goes to quarantine either way.
            self._factors.pop((reading.meter_id, reading.unit), None)
            return f"unit {reading.unit!r} cannot be read: {type(exc).__name__}"
        return checked.refused[0].reason if checked.refused else None


def parse_message(
    mapping: TopicMapping,
    topic: str,
    payload: bytes,
    *,
    meter: str | None = None,
    window: TimeWindow | None = None,
    check: MeterCheck | None = None,
) -> tuple[list[Reading], list[Rejected]]:
    """Turn one JSON message (an object or a list of objects) into readings and rejects.

    Times outside `window` (default: 2000-01-01 to a day ahead) are rejected; with `check`,
    so are readings the meter registry does not accept. Every element of the message ends up
    either a reading or a rejected record with its reason.
    """
    source_ref = f"mqtt:{topic}"
    meter = meter if meter is not None else mapping.meter_for(topic)
    window = window or TimeWindow(EARLIEST, datetime.now(UTC) + timedelta(days=1))
    try:
        document = json.loads(payload)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, too many digits
        return [], [Rejected(payload, f"payload is not JSON: {exc}", source_ref, meter)]
    except RecursionError:
        return [], [Rejected(payload, "payload is not JSON: nested too deeply", source_ref, meter)]
    items = document if isinstance(document, list) else [document]
    if not items:
        reason = "payload is an empty JSON list: no reading"
        return [], [Rejected(payload, reason, source_ref, meter)]
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
            ts = _parse_time(item[mapping.timestamp_key], mapping.timezone, window)
            quality = item.get("quality", "good")
            if not isinstance(quality, str):
                raise ValueError(f"quality {quality!r} is not a text")
            reading = Reading(meter, ts, float(value), unit, quality=quality, source_ref=ref)
            problem = check.problem(reading) if check is not None else None
            if problem is not None:
                raise ValueError(problem)
            readings.append(reading)
        except KeyError as exc:
            rejected.append(Rejected(_raw(item), f"missing key {exc}", ref, meter))
        except (ValueError, OverflowError, OSError) as exc:
            rejected.append(Rejected(_raw(item), str(exc), ref, meter))
    return readings, rejected


def _raw(item: object) -> bytes:
    text = json.dumps(item, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8", "surrogatepass")


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
        meters: Callable[[], Mapping[str, Meter]] | None,
        on_batch: Callable[[CollectorStats], None] | None = None,
    ) -> None:
        """`meters` reads the meter registry (e.g. `Store.meters`); readings are checked
        against it. None skips the check — only for replaying captures into a scratch store."""
        self.config = config
        self.sink = sink
        self.stats = CollectorStats()
        self._check = (
            None
            if meters is None
            else MeterCheck(
                meters,
                # The store written to, or the one whose registry `meters` reads.
                StoredWindows(
                    store_behind(sink) or store_behind(getattr(meters, "__self__", None))
                ),
            )
        )
        self._window = config.window()
        self._window_at = time.monotonic()
        self._on_batch = on_batch
        self._pending: list[_Pending] = []
        # topic → (mapping, meter id): a plant has a fixed set of topics, so match each once.
        self._routes: dict[str, tuple[TopicMapping | None, str]] = {}
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        self._ever_connected = False
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
            if time.monotonic() - self._window_at >= 1.0:
                self._window = self.config.window()
                self._window_at = time.monotonic()
            readings, rejected = parse_message(
                route[0], topic, payload, meter=route[1], window=self._window, check=self._check
            )
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

    def _connect_until(self, stop: threading.Event, backoff: Backoff, *, first: bool) -> bool:
        """Connect, retrying with back-off until it works or `stop` is set (True if connected).

        With `fail_fast`, an unreachable broker at the very first attempt raises IngestError.
        """
        address = f"{self.config.host}:{self.config.port}"
        while not stop.is_set():
            try:
                if not self._ever_connected:
                    self._connect()
                else:
                    self._client.reconnect()
            except (IngestError, OSError) as exc:
                if self.config.fail_fast and first:
                    raise
                delay = backoff.next()
                log.warning(
                    "cannot reach the MQTT broker at %s (%s); retrying in %.1f s",
                    address,
                    exc,
                    delay,
                )
                stop.wait(delay)
                continue
            self._ever_connected = True
            return True
        return False

    def run(self, stop: threading.Event | None = None, *, reconnect: bool = True) -> CollectorStats:
        """Collect until `stop` is set; waits for the broker at start (unless `fail_fast`) and
        reconnects with back-off, forever, when it goes away."""
        stop = stop or threading.Event()
        address = f"{self.config.host}:{self.config.port}"
        backoff = Backoff(self.config.reconnect_initial, self.config.reconnect_max)
        self._ever_connected = False
        if not self._connect_until(stop, backoff, first=True):
            return self.stats
        log.info("connected to the MQTT broker at %s", address)
        lost = False
        while not stop.is_set():
            rc = self._client.loop(timeout=min(0.05, self.config.flush_interval))
            if rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
                if lost and self._connected.is_set():
                    lost = False
                    backoff.reset()
                    log.warning("reconnected to the MQTT broker at %s", address)
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
            lost = True
            delay = backoff.next()
            log.warning(
                "lost connection to the MQTT broker at %s (%s), retrying in %.1f s",
                address,
                mqtt.error_string(rc),
                delay,
            )
            stop.wait(delay)
            if not self._connect_until(stop, backoff, first=False):
                break
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
