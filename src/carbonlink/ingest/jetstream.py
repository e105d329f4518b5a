"""The durable ingest log: NATS JetStream between the protocol adapters and the writers.

With ``CARBONLINK_NATS_URL`` set, the MQTT, Sparkplug B and OPC UA collectors hand each flush to
`JetStreamSink`, which publishes it as one envelope (`carbonlink.ingest.envelope`) to the
ingest stream and waits for JetStream's acknowledgement; only then does the collector
acknowledge the messages to its own source (a PUBACK to the MQTT broker), so a reading is
always held by someone who will not lose it. Any number of ``carbonlink worker ingest``
processes then consume the stream as a work queue (`carbonlink.workers.ingest`).

The stream (`ensure_stream`): work-queue retention (a message is deleted once a worker has
acknowledged it), file storage, ``replicas`` copies on a JetStream cluster (3 rides out the
loss of one server), ``discard new`` when ``max_bytes`` is reached (a publish is refused and
the collector keeps the readings unacknowledged at its source, instead of JetStream silently
dropping the oldest backlog), and a de-duplication window for the message ids.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)

from carbonlink.errors import IngestError
from carbonlink.ingest.base import Reading, Rejected
from carbonlink.ingest.envelope import Envelope, split

log = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = [
    "JetStreamSink",
    "StreamSpec",
    "connect",
    "consumer_config",
    "ensure_stream",
]


@dataclass(frozen=True)
class StreamSpec:
    """Where the ingest log lives and how it is kept (from settings)."""

    servers: tuple[str, ...] = ("nats://127.0.0.1:4222",)
    stream: str = "CARBONLINK_READINGS"
    subject_prefix: str = "carbonlink.readings"
    replicas: int = 1
    max_bytes: int = -1
    duplicate_window: float = 120.0
    consumer: str = "carbonlink-ingest"
    ack_wait: float = 30.0
    max_ack_pending: int = 1000

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> StreamSpec:
        """The spec from `carbonlink.settings.Settings` (``nats_*``), with overrides."""
        servers = tuple(s.strip() for s in (settings.nats_url or "").split(",") if s.strip())
        values: dict[str, Any] = {
            "servers": servers or cls.servers,
            "stream": settings.nats_stream,
            "replicas": settings.nats_replicas,
            "max_bytes": settings.nats_max_bytes,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def address(self) -> str:
        """The servers, for messages."""
        return ",".join(self.servers)

    def subject(self, kind: str) -> str:
        """The subject a collector of this kind publishes to."""
        return f"{self.subject_prefix}.{kind}"


async def connect(spec: StreamSpec, *, name: str, wait: bool = True) -> NatsClient:
    """A NATS connection that reconnects forever (to any server of the cluster) once up.

    With ``wait``, an unreachable server at start is retried every second; without, the
    first failure raises IngestError.
    """

    async def _error(exc: Exception) -> None:
        # One line per event: a server of the cluster away is expected, not a crash.
        log.warning("NATS: %s", exc or type(exc).__name__)

    while True:
        try:
            return await nats.connect(
                servers=list(spec.servers),
                name=name,
                error_cb=_error,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
                connect_timeout=2,
                allow_reconnect=True,
            )
        except (OSError, nats.errors.Error, TimeoutError) as exc:
            if not wait:
                raise IngestError(
                    f"cannot reach NATS at {spec.address}: {exc}",
                    hint="check CARBONLINK_NATS_URL and that nats-server runs with JetStream (-js)",
                ) from exc
            log.warning("cannot reach NATS at %s (%s); retrying in 1 s", spec.address, exc)
            await asyncio.sleep(1.0)


def stream_config(spec: StreamSpec) -> StreamConfig:
    """The ingest stream's configuration."""
    return StreamConfig(
        name=spec.stream,
        subjects=[f"{spec.subject_prefix}.>"],
        retention=RetentionPolicy.WORK_QUEUE,
        storage=StorageType.FILE,
        num_replicas=spec.replicas,
        max_bytes=spec.max_bytes,
        discard=DiscardPolicy.NEW,
        duplicate_window=spec.duplicate_window,
    )


async def ensure_stream(js: JetStreamContext, spec: StreamSpec) -> None:
    """Create the ingest stream, or bring an existing one to the spec (replicas, limits)."""
    config = stream_config(spec)
    for attempt in range(30):
        try:
            try:
                await js.stream_info(spec.stream)
            except nats.js.errors.NotFoundError:
                await js.add_stream(config)
            else:
                await js.update_stream(config)
            return
        except nats.js.errors.BadRequestError as exc:
            raise IngestError(
                f"JetStream refused the ingest stream {spec.stream}: {exc.description}",
                hint="check nats_replicas against the cluster size and that subjects are free",
            ) from exc
        except (nats.js.errors.ServiceUnavailableError, nats.errors.TimeoutError) as exc:
            # A cluster that has just started has no meta leader yet.
            if attempt == 29:
                raise IngestError(
                    f"JetStream at {spec.address} does not answer: {exc}",
                    hint="start nats-server with -js (and a cluster with a quorum)",
                ) from exc
            await asyncio.sleep(0.5)


def consumer_config(spec: StreamSpec) -> ConsumerConfig:
    """The durable pull consumer all workers share (each message goes to one of them)."""
    return ConsumerConfig(
        durable_name=spec.consumer,
        name=spec.consumer,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=spec.ack_wait,
        max_deliver=-1,
        max_ack_pending=spec.max_ack_pending,
        filter_subject=f"{spec.subject_prefix}.>",
        num_replicas=spec.replicas,
    )


async def publish(
    js: JetStreamContext, spec: StreamSpec, kind: str, envelopes: Sequence[Envelope]
) -> None:
    """Publish envelopes and wait until JetStream has stored each one (or raise IngestError)."""
    try:
        futures = [
            await js.publish_async(
                spec.subject(kind),
                envelope.body,
                headers={"Nats-Msg-Id": envelope.msg_id},
                wait_stall=spec.ack_wait,
            )
            for envelope in envelopes
        ]
        await asyncio.wait_for(asyncio.gather(*futures), timeout=spec.ack_wait)
    except (nats.errors.Error, TimeoutError) as exc:
        raise IngestError(
            f"JetStream at {spec.address} did not store {len(envelopes)} message(s): {exc}",
            hint="the readings stay unacknowledged at their source and are sent again",
        ) from exc


class JetStreamSink:
    """A collector's sink that publishes each flush to the ingest stream (a `MessageSetSink`).

    The collectors call it from their own thread; NATS runs on an event loop in a thread of
    its own. A call returns once JetStream has acknowledged the flush, and raises IngestError
    when it has not within ``ack_wait`` seconds; a collector then leaves its messages
    unacknowledged at the source, so nothing is lost.
    """

    def __init__(self, spec: StreamSpec, kind: str = "stream") -> None:
        self.spec = spec
        self.kind = kind
        self.published = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._nc: NatsClient = self._call(connect(spec, name=f"carbonlink-{kind}-collector"))
        self._js = self._nc.jetstream()
        self._call(ensure_stream(self._js, spec))

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def add_message_set(
        self,
        kind: str,
        source_ref: str,
        messages: Sequence[bytes],
        readings: Sequence[Reading],
        rejected: Sequence[Rejected],
    ) -> tuple[int, int]:
        """Publish one flush; return (readings, rejected records) handed to the stream."""
        envelopes = list(split(list(readings), list(rejected), source=source_ref))
        if envelopes:
            self._call(self._publish_patiently(kind, envelopes))
        self.published += len(envelopes)
        return len(readings), len(rejected)

    async def _publish_patiently(self, kind: str, envelopes: list[Envelope]) -> None:
        """Publish, trying again for up to ``ack_wait`` seconds: while a cluster elects a new
        stream leader (a few seconds after a server is lost) publishes are refused, and a retry
        is safe (the same message ids). Past that, IngestError."""
        deadline = asyncio.get_running_loop().time() + self.spec.ack_wait
        while True:
            try:
                await publish(self._js, self.spec, kind, envelopes)
                return
            except IngestError as exc:
                if asyncio.get_running_loop().time() >= deadline:
                    raise
                log.warning("%s; trying again", exc.message)
                await asyncio.sleep(0.5)

    def add_readings(self, readings: Iterable[Reading]) -> int:
        """Publish readings (count handed over, not count new: the worker decides that)."""
        return self.add_message_set(self.kind, "", (), list(readings), ())[0]

    def quarantine(self, rejected: Iterable[Rejected]) -> int:
        """Publish rejected records, for a worker to keep in quarantine."""
        return self.add_message_set(self.kind, "", (), (), list(rejected))[1]

    def close(self) -> None:
        """Flush and close the connection, then stop the loop."""
        try:
            self._call(self._nc.drain())
        except (nats.errors.Error, TimeoutError) as exc:
            log.warning("closing the NATS connection: %s", exc)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()
