"""OPC UA subscription client: monitored meter nodes become readings with their source time.

Data can be dropped in two queues, and both are sized and given a policy here on purpose:

* the server's queue per monitored item (``queue_size``, OPC UA Part 4 §5.12.1.5) holds the
  samples taken between two publish responses. ``DiscardOldest = False``: when it is full the
  server replaces the newest queued value with the new sample and sets the Overflow bit on it.
  The queue therefore keeps the oldest unsent samples *and* the latest one. For a register
  (cumulative) meter that means the latest reading, which carries all consumption so far, is
  never lost; only intermediate resolution is. The Overflow bit is kept in the reading's quality
  (``good+overflow``) so gap detection can see where samples are missing.
* the client's queue between the network task and the storage task (``client_queue``). When the
  store stalls long enough for it to fill, asyncua's ``WARN`` policy logs each dropped
  notification; the default size holds several minutes of a few hundred meters.

Every notification keeps its SourceTimestamp (the device's time, falling back to the server's
time with quality ``good+server_time`` when a server sends none) and status code. A Bad status
goes to quarantine with the status name as the reason; an Uncertain one is stored with quality
``uncertain``. A time outside the meter's plausible window (`carbonlink.ingest.validation`:
from 1990 to a day ahead unless the store holds the meter's own window) goes to quarantine
with the reason: OPC UA's null DateTime is 1601-01-01, and a device whose clock was never set
sends it.

The connection is watched three ways: asyncua's supervisor reads the server's state every
``watchdog_interval`` seconds and reports a closed or silent connection; a subscription status
change with a Bad code (the server lost or timed out the subscription) counts as a loss; and a
subscription that has had no publish response, not even a keep-alive, for twice its keep-alive
period is stale. On any of these the collector stores what it has, drops the session, and
connects again with exponential back-off (capped, with jitter) forever, logging each change;
on success it creates its subscription anew. A new subscription's first notification of each
node is the value the server holds, with its SourceTimestamp, so the latest reading of an
outage is stored with the device's time. The values between are read from the server's
history (HistoryRead, raw, from the newest SourceTimestamp stored for the node) where the
server keeps one; where it refuses the read, the log says which values cannot be recovered. At start
the collector waits for the server the same way, unless ``fail_fast`` is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from asyncua import Client, ua
from asyncua.common.subscription import DataChangeEvent, OverflowPolicy, StatusChangeEvent
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from carbonlink.errors import ConfigError, IngestError
from carbonlink.ingest.base import Reading, ReadingSink, Rejected
from carbonlink.ingest.mqtt import Backoff
from carbonlink.ingest.validation import (
    ReadingWindow,
    StoredWindows,
    store_behind,
    validate_readings,
)

log = logging.getLogger(__name__)

__all__ = [
    "MonitoredMeter",
    "OpcUaCollector",
    "OpcUaConfig",
    "load_config",
    "notification_to_record",
]

# OPC UA Part 4 §7.39.1: bits 0–9 of a StatusCode carry InfoBits; 0x0400 marks a data value,
# 0x0080 (within it) is Overflow.
_INFO_TYPE_DATAVALUE = 0x0400
_OVERFLOW = 0x0080


class MonitoredMeter(BaseModel):
    """One OPC UA variable node that carries a meter's value."""

    model_config = ConfigDict(extra="forbid")

    node_id: str = Field(description="Node id, e.g. 'ns=2;s=Mill1.EM07.ActiveEnergy'.")
    meter: str = Field(description="carbonlink meter id the values belong to.")
    unit: str = Field(description="Unit of the node's value, e.g. 'kWh' or 'Nm3'.")
    sampling_interval: float = Field(
        default=1000.0, ge=0, description="Sampling interval asked of the server, ms."
    )


class OpcUaConfig(BaseModel):
    """Endpoint, subscription timing and queue sizes, and the monitored nodes."""

    model_config = ConfigDict(extra="forbid")

    endpoint: str = Field(description="Server endpoint, e.g. 'opc.tcp://10.0.0.5:4840'.")
    publishing_interval: float = Field(
        default=1000.0, gt=0, description="How often the server sends notifications, ms."
    )
    queue_size: int = Field(
        default=600,
        ge=1,
        description=(
            "Samples the server keeps per node between two notifications "
            "(DiscardOldest false: the newest value always survives)."
        ),
    )
    client_queue: int = Field(
        default=100_000, ge=1, description="Notifications buffered in carbonlink before storing."
    )
    batch_size: int = Field(default=1000, ge=1, description="Readings per store transaction.")
    fail_fast: bool = Field(
        default=False, description="Stop with an error when the server is away at start."
    )
    reconnect_initial: float = Field(
        default=0.5, gt=0, description="First delay (s) before connecting again."
    )
    reconnect_max: float = Field(
        default=30.0, gt=0, description="Longest delay (s) between two connection attempts."
    )
    watchdog_interval: float = Field(
        default=1.0, gt=0, description="Seconds between two checks that the server answers."
    )
    nodes: list[MonitoredMeter] = Field(min_length=1)


def load_config(path: Path, **overrides: Any) -> OpcUaConfig:
    """Read an OPC UA collector configuration (YAML or JSON)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the node list: {exc}", file=str(path)) from exc
    if not isinstance(data, dict):
        raise ConfigError("the node list must be a mapping with a 'nodes' list", file=str(path))
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return OpcUaConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            f"invalid OPC UA configuration: {exc}",
            file=str(path),
            hint="see 'carbonlink ingest opcua --help'",
        ) from exc


def _utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def notification_to_record(meter: MonitoredMeter, value: ua.DataValue) -> Reading | Rejected:
    """One DataValue as a reading (time from the source) or a quarantined record with reason."""
    ref = f"opcua:{meter.node_id}"
    status = value.StatusCode if value.StatusCode is not None else ua.StatusCode()
    raw = repr(value).encode()
    if status.is_bad():
        return Rejected(raw, f"bad status {status.name}", ref, meter.meter)
    variant = value.Value
    number = variant.Value if variant is not None else None
    if isinstance(number, bool) or not isinstance(number, int | float):
        return Rejected(raw, f"value {number!r} is not a number", ref, meter.meter)
    quality = "uncertain" if status.is_uncertain() else "good"
    if value.SourceTimestamp is not None:
        ts = _utc(value.SourceTimestamp)
    elif value.ServerTimestamp is not None:
        ts = _utc(value.ServerTimestamp)
        quality += "+server_time"
    else:
        return Rejected(raw, "no SourceTimestamp and no ServerTimestamp", ref, meter.meter)
    info = status.value & 0x7FF
    if info & _INFO_TYPE_DATAVALUE and info & _OVERFLOW:
        quality += "+overflow"
    return Reading(meter.meter, ts, float(number), meter.unit, quality=quality, source_ref=ref)


@dataclass
class OpcUaStats:
    """Counters of a running collector."""

    notifications: int = 0
    stored: int = 0
    quarantined: int = 0
    batches: int = 0
    connects: int = 0
    connection_losses: int = 0


class OpcUaCollector:
    """Subscribes to the configured nodes and writes what the server reports to a sink."""

    def __init__(
        self,
        config: OpcUaConfig,
        sink: ReadingSink,
        *,
        windows: Callable[[], Callable[[str], ReadingWindow]] | None = None,
    ) -> None:
        """`windows` gives each meter's plausible window; by default the windows the store
        behind `sink` holds (re-read every few seconds), or the default window."""
        self.config = config
        self.sink = sink
        self._windows = windows or StoredWindows(store_behind(sink))
        self.stats = OpcUaStats()
        self.subscribed = asyncio.Event()
        # node id → newest SourceTimestamp stored: where a history read resumes after a loss.
        self._newest: dict[str, datetime] = {}

    def _requests(self, client: Client) -> list[ua.MonitoredItemCreateRequest]:
        requests = []
        for handle, meter in enumerate(self.config.nodes, start=1):
            item = ua.ReadValueId()
            item.NodeId = client.get_node(meter.node_id).nodeid
            item.AttributeId = ua.AttributeIds.Value
            params = ua.MonitoringParameters()
            params.ClientHandle = handle
            params.SamplingInterval = meter.sampling_interval
            params.QueueSize = self.config.queue_size
            params.DiscardOldest = False
            request = ua.MonitoredItemCreateRequest()
            request.ItemToMonitor = item
            request.MonitoringMode = ua.MonitoringMode.Reporting
            request.RequestedParameters = params
            requests.append(request)
        return requests

    async def run(self, stop: asyncio.Event) -> OpcUaStats:
        """Collect until `stop` is set, reconnecting after every loss of the server."""
        endpoint = self.config.endpoint
        backoff = Backoff(self.config.reconnect_initial, self.config.reconnect_max)
        while not stop.is_set():
            client = Client(url=endpoint, watchdog_intervall=self.config.watchdog_interval)
            lost = _LossWatch()
            client.connection_lost_callback = lost
            try:
                await client.connect()
            except (OSError, TimeoutError, ConnectionError, ua.UaError) as exc:
                await _close(client)
                if self.config.fail_fast and self.stats.connects == 0:
                    raise IngestError(
                        f"cannot connect to the OPC UA server at {endpoint}: {exc}",
                        hint="check the endpoint URL and that the server accepts anonymous "
                        "sessions",
                    ) from exc
                delay = backoff.next()
                log.warning(
                    "cannot reach the OPC UA server at %s (%s); retrying in %.1f s",
                    endpoint,
                    _describe(exc),
                    delay,
                )
                await _sleep(stop, delay)
                continue
            why: object = None
            try:
                subscription, meters = await self._subscribe(client)
                self.stats.connects += 1
                if self.stats.connects > 1:
                    log.warning("reconnected to the OPC UA server at %s", endpoint)
                    await self._catch_up(client)
                else:
                    log.info("connected to the OPC UA server at %s", endpoint)
                backoff.reset()
                self.subscribed.set()
                why = await self._consume(subscription, meters, stop, lost.event)
            except (OSError, TimeoutError, ConnectionError, ua.UaError) as exc:
                why = exc
            finally:
                self.subscribed.clear()
                await _close(client)
            if stop.is_set():
                break
            self.stats.connection_losses += 1
            delay = backoff.next()
            log.warning(
                "lost connection to the OPC UA server at %s (%s), retrying in %.1f s",
                endpoint,
                _describe(lost.reasons[0] if lost.reasons else why),
                delay,
            )
            await _sleep(stop, delay)
        return self.stats

    async def _catch_up(self, client: Client) -> None:
        """Read from the server's history what each node recorded while disconnected."""
        # A day ahead: a device clock running fast must not hide its values.
        until = datetime.now(UTC) + timedelta(days=1)
        for meter in self.config.nodes:
            since = self._newest.get(meter.node_id)
            if since is None:
                continue
            try:
                values = await client.get_node(meter.node_id).read_raw_history(
                    starttime=since, endtime=until, return_bounds=False
                )
            except ua.UaStatusCodeError as exc:
                log.warning(
                    "no history of %s on the server (%s): values it took between %s and now, "
                    "other than the current one, cannot be recovered",
                    meter.node_id,
                    type(exc).__name__,
                    since.isoformat(),
                )
                continue
            missed = [
                self._record(meter, value)
                for value in values
                if value.SourceTimestamp is None or _utc(value.SourceTimestamp) > since
            ]
            if missed:
                log.info(
                    "%d values of %s read from the server's history", len(missed), meter.node_id
                )
                self._flush(missed)

    async def _subscribe(self, client: Client) -> tuple[Any, dict[int, MonitoredMeter]]:
        subscription = await client.create_subscription(
            self.config.publishing_interval,
            queue_maxsize=self.config.client_queue,
            overflow=OverflowPolicy.WARN,
        )
        results = await subscription.create_monitored_items(self._requests(client))
        meters: dict[int, MonitoredMeter] = {}
        for handle, (meter, result) in enumerate(
            zip(self.config.nodes, results, strict=True), start=1
        ):
            if isinstance(result, ua.StatusCode):
                raise IngestError(
                    f"the server refused to monitor {meter.node_id}: {result.name}",
                    record=meter.meter,
                    hint="check the node id in the configuration",
                )
            meters[handle] = meter
        return subscription, meters

    async def _consume(
        self,
        subscription: Any,
        meters: dict[int, MonitoredMeter],
        stop: asyncio.Event,
        lost: asyncio.Event,
    ) -> str | None:
        """Store notifications until `stop` (None) or a sign that the session is gone (why)."""
        batch: list[Reading | Rejected] = []
        why: str | None = None
        try:
            while not stop.is_set() and why is None:
                if lost.is_set():
                    why = "the connection was lost"
                    break
                if subscription.is_stale(2.0):
                    why = "no publish response, not even a keep-alive, from the server"
                    break
                event = await subscription.next_event(timeout=0.1)
                while event is not None:
                    if isinstance(event, DataChangeEvent):
                        self.stats.notifications += 1
                        handle = event.data.monitored_item.ClientHandle
                        batch.append(self._record(meters[handle], event.data.monitored_item.Value))
                    elif isinstance(event, StatusChangeEvent):
                        status = event.notification.Status
                        if status is not None and status.is_bad():
                            why = f"subscription status {status.name}"
                            break
                    if len(batch) >= self.config.batch_size:
                        break
                    event = await subscription.next_event(timeout=0.005)
                if batch:
                    self._flush(batch)
                    batch = []
        except StopAsyncIteration:
            why = "the subscription was closed"
        if batch:
            self._flush(batch)
        return why

    def _record(self, meter: MonitoredMeter, value: ua.DataValue) -> Reading | Rejected:
        """The notification as a record, refused when its time is outside the meter's window."""
        record = notification_to_record(meter, value)
        if isinstance(record, Rejected):
            return record
        checked = validate_readings([record], None, windows=self._windows())
        if checked.refused:
            reason = checked.refused[0].reason
            return Rejected(repr(value).encode(), reason, f"opcua:{meter.node_id}", meter.meter)
        return record

    def _flush(self, batch: list[Reading | Rejected]) -> None:
        readings = [r for r in batch if isinstance(r, Reading)]
        for reading in readings:
            node = (reading.source_ref or "").removeprefix("opcua:")
            if reading.ts > self._newest.get(node, reading.ts - timedelta(1)):
                self._newest[node] = reading.ts
        rejected = [r for r in batch if isinstance(r, Rejected)]
        if rejected:
            self.stats.quarantined += self.sink.quarantine(rejected)
        if readings:
            self.stats.stored += self.sink.add_readings(readings)
        self.stats.batches += 1


class _LossWatch:
    """asyncua's connection-lost callback: keeps the reason and wakes the consumer."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.reasons: list[BaseException] = []

    async def __call__(self, exc: Exception) -> None:
        self.reasons.append(exc)
        self.event.set()


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or less when `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def _close(client: Client) -> None:
    """Close a session that may already be dead, without waiting on it for long."""
    try:
        await asyncio.wait_for(client.disconnect(), 5)
    except Exception as exc:  # a dead connection fails to close in many ways; it is gone anyway
        log.debug("closing the OPC UA session: %r", exc)


def _describe(reason: object) -> str:
    if isinstance(reason, BaseException):
        return str(reason) or type(reason).__name__
    return str(reason or "unknown reason")
