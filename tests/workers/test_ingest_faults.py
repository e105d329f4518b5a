"""Fault test of the scale-out ingest path, against real NATS servers and PostgreSQL.

A 3-node JetStream cluster (started here on free loopback ports, each node with its own store
directory) holds the ingest stream with 3 replicas; two `carbonlink worker ingest` processes
consume it into a fresh PostgreSQL schema. A publisher sends 300 time steps of 20 meters
(6 000 readings, one message per step). Mid-stream the NATS node leading the stream and one
worker are killed with SIGKILL (with both workers holding a batch they have not committed);
the worker is started again. The publisher also sends the first ten messages a
second time. Afterwards the readings table holds exactly the 6 000 readings sent, and the
alerts table exactly the 15 alerts the data calls for, each opened once and closed.

The expected alerts, worked by hand: the rule is "value above 100 kWh" on every meter; values
are 40 + (step mod 7) + meter number / 2, at most 55.5, except 15 spikes of 150 kWh — meters 0
to 4 at steps 40 + m, 140 + m and 240 + m. Each spike is one reading above the limit between
two normal ones: an alert opened at the spike's time and closed at the next step's time.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nats
import pytest
import sqlalchemy as sa
from ingest_plant import METERS, ORG, WATCHED, PostgresSchema, register_plant, worker
from nats_servers import NatsServers

from carbonlink.ingest.base import Reading
from carbonlink.ingest.jetstream import JetStreamSink, StreamSpec, ensure_stream
from carbonlink.monitor.stream_alerts import LOCK_KEY, LOCK_NAMESPACE
from carbonlink.store.results_schema import alerts
from carbonlink.store.schema import to_epoch_us

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(90)]

START = datetime(2026, 11, 1, tzinfo=UTC)
STEP = timedelta(minutes=15)
STEPS = 300
SPIKE = 150.0


def spike_steps(meter_number: int) -> list[int]:
    return [40 + meter_number, 140 + meter_number, 240 + meter_number]


def step_readings(step: int) -> list[Reading]:
    ts = START + step * STEP
    readings = []
    for number, meter_id in enumerate(METERS):
        value = 40.0 + step % 7 + number / 2
        if meter_id in WATCHED and step in spike_steps(number):
            value = SPIKE
        readings.append(Reading(meter_id, ts, value, "kWh", source_ref=f"test:step{step}"))
    return readings


def expected_alerts() -> set[tuple[str, int, int]]:
    """(meter, opened µs, closed µs) of every alert the data must open."""
    return {
        (meter_id, to_epoch_us(START + s * STEP), to_epoch_us(START + (s + 1) * STEP))
        for number, meter_id in enumerate(WATCHED)
        for s in spike_steps(number)
    }


def publish_all(spec: StreamSpec, steps: list[int]) -> int:
    """Publish each step through the collectors' own sink, which waits for JetStream's
    acknowledgement and tries again while the cluster elects a new stream leader (a retry is
    safe: the same message id); return how many messages it published."""
    sink = JetStreamSink(spec, "test")
    try:
        for step in steps:
            sink.add_message_set("test", "test", (), step_readings(step), ())
    finally:
        sink.close()
    return sink.published


async def create_stream(spec: StreamSpec) -> None:
    nc = await nats.connect(servers=list(spec.servers))
    try:
        await ensure_stream(nc.jetstream(), spec)
    finally:
        await nc.close()


async def ack_pending(spec: StreamSpec) -> int:
    """Messages handed to a worker and not acknowledged yet."""
    nc = await nats.connect(servers=list(spec.servers))
    try:
        info = await nc.jetstream().consumer_info(spec.stream, spec.consumer)
        return int(info.num_ack_pending or 0)
    finally:
        await nc.close()


async def stream_leader(spec: StreamSpec) -> str:
    """The server name (n0, n1, n2) of the stream's current leader."""
    nc = await nats.connect(servers=list(spec.servers))
    try:
        info = await nc.jetstream().stream_info(spec.stream)
        assert info.cluster is not None
        return str(info.cluster.leader)
    finally:
        await nc.close()


async def stream_messages(spec: StreamSpec) -> int:
    nc = await nats.connect(servers=list(spec.servers))
    try:
        info = await nc.jetstream().stream_info(spec.stream)
        return int(info.state.messages)
    finally:
        await nc.close()


def advisory_waiters(engine: sa.Engine) -> int:
    """Sessions waiting for one of the workers' advisory locks (caught in the middle of a
    batch: one waits for the test's lock, the other maybe for a lock the first one holds)."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.text(
                    "SELECT count(DISTINCT pid) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND NOT granted AND classid = CAST(:ns AS oid)"
                ),
                {"ns": LOCK_NAMESPACE},
            ).scalar_one()
        )


def stored(engine: sa.Engine) -> list[tuple[str, int, float]]:
    with engine.connect() as conn:
        return [
            (m, int(ts), float(v))
            for m, ts, v in conn.execute(
                sa.text("SELECT meter_id, ts, value FROM readings ORDER BY meter_id, ts")
            )
        ]


def wait_for(condition, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return condition()


def test_killing_a_nats_node_and_a_worker_loses_and_doubles_nothing(
    tmp_path: Path, postgres_schema: PostgresSchema, nats_cluster: NatsServers
) -> None:
    engine = postgres_schema.engine
    register_plant(engine)
    spec = StreamSpec(servers=tuple(nats_cluster.urls), replicas=3, ack_wait=3.0)
    asyncio.run(create_stream(spec))

    workers = [
        worker(tmp_path, f"worker{i}", postgres_schema.url, nats_cluster, replicas=3)
        for i in range(2)
    ]
    for w in workers:
        w.start()
    for w in workers:
        assert wait_for(lambda w=w: "consuming" in w.output(), timeout=20), w.output()

    sent = {
        (r.meter_id, to_epoch_us(r.ts), r.value)
        for step in range(STEPS)
        for r in step_readings(step)
    }
    # Hold the per-meter lock the workers take before writing a batch with meter 0 in it, so
    # that both are caught in the middle of a batch: fetched, not yet committed nor acked.
    holder = engine.connect()
    holder.execute(
        sa.text("SELECT pg_advisory_lock(:ns, " + LOCK_KEY.format(meter=":m") + ")"),
        {"ns": LOCK_NAMESPACE, "m": METERS[0]},
    )
    published = publish_all(spec, list(range(100)))
    # Both workers wait for that lock, each with a batch in hand.
    assert wait_for(lambda: advisory_waiters(engine) == 2, timeout=15)
    assert asyncio.run(ack_pending(spec)) > 0
    # The node that leads the stream goes: the other two must elect a new leader mid-stream.
    leader = asyncio.run(stream_leader(spec))
    assert leader in {"n0", "n1", "n2"}, leader
    nats_cluster.kill(int(leader[1:]))
    workers[0].kill()
    holder.execute(
        sa.text("SELECT pg_advisory_unlock(:ns, " + LOCK_KEY.format(meter=":m") + ")"),
        {"ns": LOCK_NAMESPACE, "m": METERS[0]},
    )
    holder.close()
    published += publish_all(spec, list(range(100, 200)))
    restarted = worker(tmp_path, "worker0-again", postgres_schema.url, nats_cluster, replicas=3)
    restarted.start()
    assert wait_for(lambda: "consuming" in restarted.output(), timeout=20), restarted.output()
    # The first ten messages once more: JetStream's de-duplication window drops them, and
    # were any to get through, the workers would store nothing twice.
    published += publish_all(spec, list(range(200, STEPS)) + list(range(10)))

    assert wait_for(lambda: len(stored(engine)) >= len(sent), timeout=40), (
        f"{len(stored(engine))} of {len(sent)} readings stored; "
        f"worker logs:\n{workers[1].output()}\n{restarted.output()}"
    )
    assert wait_for(lambda: asyncio.run(stream_messages(spec)) == 0, timeout=15)
    assert restarted.terminate() == 0
    assert workers[1].terminate() == 0

    rows = stored(engine)
    assert len(rows) == len(sent) == STEPS * len(METERS)
    assert set(rows) == sent
    with engine.connect() as conn:
        opened = conn.execute(
            sa.select(
                alerts.c.meter_id, alerts.c.opened_at, alerts.c.closed_at, alerts.c.status
            ).where(alerts.c.organization_id == ORG)
        ).all()
    found = [(m, to_epoch_us(o), to_epoch_us(c) if c else None) for m, o, c, _ in opened]
    assert len(found) == len(expected_alerts()) == 15
    assert set(found) == expected_alerts()
    assert {status for *_, status in opened} == {"closed"}
    # The killed worker's stats line is gone with it; the others report what they did.
    assert "new readings" in restarted.output()
    assert published == STEPS + 10
