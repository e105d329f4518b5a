"""Back-pressure: the database unavailable for several seconds in the middle of a stream.

Two `carbonlink worker ingest` processes consume a single JetStream server's ingest stream into
a fresh PostgreSQL schema while a publisher sends 400 messages of 20 readings (8 000 readings)
at a steady pace. After a quarter of them, the test takes ``LOCK TABLE readings IN ACCESS
EXCLUSIVE MODE`` in a transaction it holds for 6 seconds (the shared server itself is never
stopped). Meanwhile the workers' writes wait: they acknowledge nothing (the consumer's ack
floor does not move) and the stream buffers what the publisher keeps sending. After the lock
is released the backlog drains, every reading is stored exactly once, and the test records
the drain rate (readings per second, as the ``drain_readings_per_s`` property of the report).
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nats
import pytest
import sqlalchemy as sa
from ingest_plant import METERS, PostgresSchema, register_plant, worker
from nats_servers import NatsServers

from carbonlink.ingest.base import Reading
from carbonlink.ingest.envelope import encode
from carbonlink.ingest.jetstream import StreamSpec, ensure_stream, publish
from carbonlink.store.schema import to_epoch_us

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(90)]

START = datetime(2026, 11, 1, tzinfo=UTC)
MESSAGES = 400
PACE = 0.01  # seconds between messages: 100 messages, 2 000 readings a second
LOCKED_FOR = 6.0


def message(step: int) -> list[Reading]:
    ts = START + step * timedelta(minutes=1)
    return [Reading(m, ts, 10.0 + (step % 11) + n, "kWh") for n, m in enumerate(METERS)]


async def consumer_state(spec: StreamSpec) -> tuple[int, int, int]:
    """(messages in the stream, last sequence acknowledged in order, last sequence published)."""
    nc = await nats.connect(servers=list(spec.servers))
    try:
        js = nc.jetstream()
        stream = await js.stream_info(spec.stream)
        consumer = await js.consumer_info(spec.stream, spec.consumer)
        floor = consumer.ack_floor.stream_seq if consumer.ack_floor else 0
        return int(stream.state.messages), int(floor or 0), int(stream.state.last_seq)
    finally:
        await nc.close()


def count(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM readings")).scalar_one())


def test_workers_hold_back_while_the_database_is_locked_and_drain_afterwards(
    tmp_path: Path,
    postgres_schema: PostgresSchema,
    nats_single: NatsServers,
    record_property: pytest.RecordProperty,
) -> None:
    engine = postgres_schema.engine
    register_plant(engine)
    spec = StreamSpec(servers=tuple(nats_single.urls), ack_wait=3.0)

    async def create() -> None:
        nc = await nats.connect(servers=list(spec.servers))
        await ensure_stream(nc.jetstream(), spec)
        await nc.close()

    asyncio.run(create())
    workers = [
        worker(tmp_path, f"worker{i}", postgres_schema.url, nats_single, replicas=1)
        for i in range(2)
    ]
    for w in workers:
        w.start()
    deadline = time.monotonic() + 20
    while not all("consuming" in w.output() for w in workers):
        assert time.monotonic() < deadline, [w.output() for w in workers]
        time.sleep(0.1)

    published = threading.Event()
    progress = {"sent": 0}

    async def publisher() -> None:
        nc = await nats.connect(servers=list(spec.servers))
        js = nc.jetstream()
        for step in range(MESSAGES):
            await publish(js, spec, "test", [encode(message(step))])
            progress["sent"] = step + 1
            await asyncio.sleep(PACE)
        await nc.close()
        published.set()

    thread = threading.Thread(target=lambda: asyncio.run(publisher()))
    thread.start()
    try:
        while progress["sent"] < MESSAGES // 4:
            time.sleep(0.05)
        with engine.connect() as holder:
            holder.execute(sa.text("LOCK TABLE readings IN ACCESS EXCLUSIVE MODE"))
            locked_at = time.monotonic()
            time.sleep(1.0)  # a batch committed just before the lock is acknowledged by now
            kept_before, floor_before, last_before = asyncio.run(consumer_state(spec))
            time.sleep(LOCKED_FOR - 1.0)
            buffered, floor_after, last = asyncio.run(consumer_state(spec))
            sent_while_locked = progress["sent"]
            holder.rollback()
        released_at = time.monotonic()
    finally:
        thread.join(timeout=60)
    assert published.is_set()

    # Nothing acknowledged while the table was locked (a work queue deletes what is acked):
    # every message published meanwhile was added to what the stream holds.
    assert floor_after == floor_before
    assert last > last_before
    assert buffered - kept_before == last - last_before
    assert sent_while_locked > MESSAGES // 4
    backlog_readings = buffered * len(METERS)

    total = MESSAGES * len(METERS)
    deadline = time.monotonic() + 40
    drained_at = None
    while time.monotonic() < deadline:
        if count(engine) >= total:
            drained_at = time.monotonic()
            break
        time.sleep(0.1)
    assert drained_at is not None, f"{count(engine)} of {total} stored"
    for w in workers:
        assert w.terminate() == 0, w.output()

    with engine.connect() as conn:
        rows = set(conn.execute(sa.text("SELECT meter_id, ts, value FROM readings")).all())
    sent = {
        (r.meter_id, to_epoch_us(r.ts), r.value) for step in range(MESSAGES) for r in message(step)
    }
    assert len(rows) == count(engine) == total
    assert rows == sent
    assert asyncio.run(consumer_state(spec))[0] == 0

    drain_s = drained_at - released_at
    rate = backlog_readings / drain_s
    record_property("locked_s", round(released_at - locked_at, 2))
    record_property("backlog_readings", backlog_readings)
    record_property("drain_s", round(drain_s, 2))
    record_property("drain_readings_per_s", round(rate))
    print(
        f"database locked {released_at - locked_at:.1f} s; backlog {backlog_readings} readings "
        f"drained in {drain_s:.2f} s: {rate:,.0f} readings/s"
    )
