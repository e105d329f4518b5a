"""``carbonlink worker ingest``: store the readings of the ingest stream, batch by batch.

Each worker pulls batches from the stream's durable consumer (JetStream hands every message to
one worker), and for each batch:

1. decodes the envelopes (`carbonlink.ingest.envelope`); an unreadable message or element is
   a record for quarantine, named by the stream sequence and its position;
2. checks every reading against the meter registry, as every other way in does
   (`carbonlink.ingest.validation.validate_readings`); a refused one is quarantined with the
   reason;
3. writes readings and quarantine in one transaction (`carbonlink.store.batch_writer`), with
   the alert rules evaluated inside it on the new readings (`carbonlink.monitor.stream_alerts`);
4. acknowledges the batch's messages only after the commit.

A worker killed anywhere in between leaves its messages unacknowledged; JetStream delivers
them again after ``ack_wait`` and the writer, keyed on (meter, timestamp), stores nothing twice
and opens no alert twice. While a write waits (the database is locked or away) the worker
tells JetStream every few seconds that it is still working on the batch, so the messages are
not handed to another worker meanwhile; the stream keeps buffering what collectors publish.
SIGTERM (or Ctrl-C) lets the batch in hand finish and be acknowledged, then stops.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from carbonlink.domain.metering import Meter
from carbonlink.ingest.base import Reading, Rejected
from carbonlink.ingest.envelope import decode
from carbonlink.ingest.jetstream import StreamSpec, connect, consumer_config, ensure_stream
from carbonlink.ingest.validation import StoredWindows, unit_problem, validate_readings
from carbonlink.monitor.stream_alerts import StreamAlerts
from carbonlink.store.batch_writer import BatchWriter, WriteResult
from carbonlink.store.repository import Store

log = logging.getLogger("carbonlink.ingest.worker")

__all__ = ["IngestWorker", "WorkerStats", "tune_garbage_collector"]


@dataclass
class WorkerStats:
    """Counters of a running worker."""

    messages: int = 0
    batches: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    conflicts: int = 0
    alerts_opened: int = 0
    write_retries: int = 0
    started: float = field(default_factory=time.monotonic)

    def line(self) -> str:
        """One line for the console."""
        return (
            f"{self.messages} messages in {self.batches} batches: {self.stored} new readings, "
            f"{self.duplicates} already stored, {self.quarantined} quarantined, "
            f"{self.conflicts} conflicts kept, {self.alerts_opened} alerts opened"
        )


def tune_garbage_collector() -> None:
    """Collect the youngest generation every 100 000 allocations instead of 700.

    A worker makes a few short-lived objects per reading and keeps none: with the default
    threshold the collector runs every few hundred readings and took a quarter of the time of
    checking a batch (measured with `benchmarks/bench_ingest_scale.py`'s batches). What was
    loaded at start is frozen out of the collections altogether.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


class IngestWorker:
    """One consumer of the ingest stream writing to one database."""

    def __init__(
        self,
        spec: StreamSpec,
        engine: Engine,
        *,
        batch: int = 500,
        alerts: bool = True,
        registry_refresh: float = 5.0,
        on_batch: Callable[[WorkerStats, WriteResult], None] | None = None,
        notify_key: bytes | None = None,
    ) -> None:
        self.spec = spec
        self.notify_key = notify_key
        self.engine = engine
        self.batch = batch
        self.stats = WorkerStats()
        self.alerts = StreamAlerts(engine) if alerts else None
        self.writer = BatchWriter(
            engine,
            before=self.alerts.lock if self.alerts else None,
            after=self.alerts.evaluate if self.alerts else None,
        )
        self._store = Store(engine)
        self._windows = StoredWindows(self._store, refresh=registry_refresh)
        self._refresh = registry_refresh
        self._meters: dict[str, Meter] = {}
        self._factors: dict[tuple[str, str], tuple[float | None, str | None]] = {}
        self._pairs: dict[tuple[str, str], tuple[float | None, str | None]] = {}
        self._meters_at = -1e18
        self._on_batch = on_batch

    def _registry(self) -> dict[str, Meter]:
        if time.monotonic() - self._meters_at >= self._refresh:
            meters = self._store.meters()
            if meters != self._meters:
                self._factors.clear()
            self._meters = meters
            self._meters_at = time.monotonic()
        return self._meters

    def _unit_factors(self, readings: list[Reading], meters: dict[str, Meter]) -> None:
        """Fill the (meter, unit) → conversion cache from one (unit, meter unit) cache: parsing
        a unit costs milliseconds, and a plant has a handful of units for many meters."""
        for reading in readings:
            key = (reading.meter_id, reading.unit)
            if key in self._factors:
                continue
            meter = meters.get(reading.meter_id)
            if meter is None:
                continue
            pair = (reading.unit, meter.unit)
            found = self._pairs.get(pair)
            if found is None:
                found = unit_problem(reading.unit, meter)
                if found[0] is None:
                    # A refusal names the meter: worked out for each meter on its own.
                    self._factors[key] = found
                    continue
                self._pairs[pair] = found
            self._factors[key] = found

    def prepare(self, msgs: list[Msg]) -> tuple[list[Reading], list[Rejected]]:
        """The checked readings and the records to quarantine of a batch of messages."""
        readings: list[Reading] = []
        rejected: list[Rejected] = []
        for msg in msgs:
            try:
                ref = f"jetstream:{self.spec.stream}#{msg.metadata.sequence.stream}"
            except (nats.errors.Error, AttributeError, TypeError):
                ref = f"jetstream:{self.spec.stream}:{msg.subject}"
            decoded = decode(msg.data, ref)
            readings.extend(decoded.readings)
            rejected.extend(decoded.rejected)
        meters = self._registry()
        self._unit_factors(readings, meters)
        checked = validate_readings(
            readings, meters, windows=self._windows(), factors=self._factors
        )
        if checked.refused and time.monotonic() - self._meters_at >= 1.0:
            # A meter registered since the last look is not refused for that (looked up at
            # most once a second, however many unknown meters keep coming).
            self._meters_at = -1e18
            meters = self._registry()
            self._unit_factors(readings, meters)
            checked = validate_readings(
                readings, meters, windows=self._windows(), factors=self._factors
            )
        for refusal in checked.refused:
            sent = readings[refusal.index]
            raw = json.dumps(
                {
                    "meter_id": sent.meter_id,
                    "ts": sent.ts.isoformat(),
                    "value": sent.value,
                    "unit": sent.unit,
                },
                sort_keys=True,
            ).encode()
            rejected.append(
                Rejected(raw, refusal.reason, sent.source_ref or "jetstream", sent.meter_id)
            )
        return checked.readings, rejected

    async def _keep_alive(self, task: asyncio.Future[Any], msgs: list[Msg]) -> None:
        """Wait for ``task``, telling JetStream every third of ``ack_wait`` that the messages
        are still in hand (so they are not handed to another worker meanwhile)."""
        while True:
            done, _ = await asyncio.wait({task}, timeout=max(1.0, self.spec.ack_wait / 3))
            if done:
                return
            for msg in msgs:
                try:
                    await msg.in_progress()
                except nats.errors.Error as exc:
                    log.warning("cannot extend the batch's ack deadline: %s", exc)
                    break

    async def _write(
        self, msgs: list[Msg], readings: list[Reading], rejected: list[Rejected]
    ) -> WriteResult:
        """Write in a thread, telling JetStream the batch is in hand while the write waits; a
        write that fails (database away, deadlock) is tried again until it succeeds."""
        loop = asyncio.get_running_loop()
        delay = 0.2
        while True:
            task = loop.run_in_executor(None, self.writer.write, readings, rejected)
            await self._keep_alive(task, msgs)
            try:
                return task.result()
            except DBAPIError as exc:
                self.stats.write_retries += 1
                log.warning(
                    "writing %d readings failed (%s); retrying in %.1f s",
                    len(readings),
                    str(exc.orig).strip().splitlines()[0] if exc.orig else exc,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                for msg in msgs:
                    try:
                        await msg.in_progress()
                    except nats.errors.Error:
                        break

    async def run(self, stop: asyncio.Event) -> WorkerStats:
        """Consume until ``stop`` is set; the batch in hand is finished and acknowledged."""
        nc = await connect(self.spec, name="carbonlink-ingest-worker")
        try:
            js = nc.jetstream()
            await ensure_stream(js, self.spec)
            sub = await self._subscribe(js)
            log.info(
                "consuming %s on %s as %s", self.spec.stream, self.spec.address, self.spec.consumer
            )
            # One batch is written (in a thread) while the next is fetched and checked here.
            in_flight: asyncio.Task[None] | None = None
            try:
                while not stop.is_set():
                    try:
                        msgs = await sub.fetch(self.batch, timeout=1.0)
                    except (TimeoutError, nats.errors.TimeoutError):
                        continue
                    except (nats.errors.Error, nats.js.errors.Error) as exc:
                        log.warning("fetching from %s: %s; retrying", self.spec.stream, exc)
                        await asyncio.sleep(0.5)
                        continue
                    if not msgs:
                        continue
                    readings, rejected = self.prepare(msgs)
                    if in_flight is not None:
                        await self._keep_alive(in_flight, msgs)
                    in_flight = asyncio.create_task(self._write_and_ack(msgs, readings, rejected))
            finally:
                if in_flight is not None:
                    await in_flight
        finally:
            # Every batch taken has been acknowledged: send what is buffered, then leave.
            try:
                await nc.flush(timeout=2)
            except (nats.errors.Error, TimeoutError) as exc:
                log.warning("flushing the last acknowledgements: %s", exc)
            await nc.close()
        return self.stats

    async def _write_and_ack(
        self, msgs: list[Msg], readings: list[Reading], rejected: list[Rejected]
    ) -> None:
        """Write one batch, then acknowledge its messages (only after the commit)."""
        result = await self._write(msgs, readings, rejected)
        self._notify()
        for msg in msgs:
            try:
                await msg.ack()
            except nats.errors.Error as exc:
                # Stored already: a redelivery of it will change nothing.
                log.warning("acknowledging a message: %s", exc)
        self._count(len(msgs), result)

    def _notify(self) -> None:
        """Send the alerts the committed batch opened to their organizations' channels (with
        the service key that opens the channels' secrets); delivery runs in its own thread."""
        if self.alerts is None:
            return
        fresh = self.alerts.take_fresh()
        if not fresh or self.notify_key is None:
            return
        from carbonlink.api.notifications import notify

        by_organization: dict[str, list[Any]] = {}
        for organization_id, event in fresh:
            by_organization.setdefault(organization_id, []).append(event)
        for organization_id, events in by_organization.items():
            notify(self.engine, organization_id, events, key=self.notify_key)

    async def _subscribe(self, js: Any) -> Any:
        for attempt in range(60):
            try:
                return await js.pull_subscribe(
                    f"{self.spec.subject_prefix}.>",
                    durable=self.spec.consumer,
                    stream=self.spec.stream,
                    config=consumer_config(self.spec),
                )
            except (nats.js.errors.ServiceUnavailableError, nats.errors.TimeoutError) as exc:
                if attempt == 59:
                    raise
                log.warning("creating the consumer: %s; retrying", exc)
                await asyncio.sleep(0.5)
        raise AssertionError("unreachable")

    def _count(self, messages: int, result: WriteResult) -> None:
        stats = self.stats
        stats.messages += messages
        stats.batches += 1
        stats.stored += result.new
        stats.duplicates += result.duplicates
        stats.quarantined += result.quarantined
        stats.conflicts += result.conflicts
        stats.alerts_opened += result.alerts_opened
        if self._on_batch is not None:
            self._on_batch(stats, result)
