"""The ingest worker on one NATS server, on SQLite and PostgreSQL: what it stores, what it
quarantines (naming the message), what it does with a message delivered twice, and alerts."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import nats
import pytest
import sqlalchemy as sa
from ingest_plant import METERS, ORG, register_plant
from nats_servers import NatsServers

from carbonlink.ingest.base import Reading, Rejected
from carbonlink.ingest.envelope import encode
from carbonlink.ingest.jetstream import StreamSpec, ensure_stream
from carbonlink.store.results_schema import alerts
from carbonlink.workers.ingest import IngestWorker

pytestmark = pytest.mark.timeout(60)

T0 = datetime(2026, 11, 1, tzinfo=UTC)


async def run_until_drained(worker: IngestWorker, spec: StreamSpec, expected: int) -> None:
    """Run the worker until it has taken ``expected`` messages, then stop it."""
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    for _ in range(200):
        await asyncio.sleep(0.05)
        if worker.stats.messages >= expected or task.done():
            break
    stop.set()
    await asyncio.wait_for(task, timeout=10)


async def send(spec: StreamSpec, bodies: list[tuple[bytes, str]]) -> None:
    nc = await nats.connect(servers=list(spec.servers))
    js = nc.jetstream()
    await ensure_stream(js, spec)
    for body, msg_id in bodies:
        await js.publish(spec.subject("test"), body, headers={"Nats-Msg-Id": msg_id})
    await nc.close()


def readings(engine: sa.Engine) -> list[tuple[str, int, float]]:
    with engine.connect() as conn:
        return [
            tuple(row)
            for row in conn.execute(
                sa.text("SELECT meter_id, ts, value FROM readings ORDER BY meter_id, ts")
            )
        ]


def test_worker_stores_checks_quarantines_and_alerts(
    engine: sa.Engine, nats_single: NatsServers
) -> None:
    register_plant(engine)
    spec = StreamSpec(servers=tuple(nats_single.urls), ack_wait=5.0)
    meter = METERS[0]
    good = [
        Reading(meter, T0 + timedelta(minutes=15 * i), v, "kWh")
        for i, v in enumerate([50.0, 120.0, 60.0])
    ]
    # 0.2 MWh is 200 kWh: converted to the meter's unit, and above the rule's 100 kWh.
    in_mwh = Reading(METERS[1], T0, 0.2, "MWh")
    unknown = Reading("nobody.EM-99", T0, 1.0, "kWh")
    collector_reject = Rejected(
        b'{"value": "n/a"}', "value 'n/a' is not a number", "mqtt:plant0/EM-00"
    )
    first = encode([*good, in_mwh, unknown], [collector_reject])
    again = encode(good)  # the same readings in another message: a redelivery in effect
    broken = b'{"v": 1, "readings": [["plant0.EM-02", "yesterday", 1.0, "kWh", "good", null]]}'
    bodies = [
        (first.body, first.msg_id),
        (again.body, again.msg_id),
        (b"not json", "garbage-1"),
        (json.dumps({"v": 9}).encode(), "future-1"),
        (broken, "broken-1"),
    ]
    asyncio.run(send(spec, bodies))
    worker = IngestWorker(spec, engine, batch=2)
    asyncio.run(run_until_drained(worker, spec, expected=len(bodies)))

    stored = readings(engine)
    us = lambda dt: int((dt - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1_000_000)  # noqa: E731
    assert stored == sorted(
        [(meter, us(r.ts), r.value) for r in good] + [(METERS[1], us(T0), 200.0)]
    )
    assert worker.stats.stored == 4
    assert worker.stats.duplicates == 3
    with engine.connect() as conn:
        kept = conn.execute(
            sa.text("SELECT source_ref, meter_id, reason FROM quarantine ORDER BY id")
        ).all()
        opened = conn.execute(
            sa.select(alerts.c.meter_id, alerts.c.status, alerts.c.value)
            .where(alerts.c.organization_id == ORG)
            .order_by(alerts.c.meter_id)
        ).all()
    reasons = {ref: reason for ref, _meter, reason in kept}
    assert reasons["mqtt:plant0/EM-00"] == "value 'n/a' is not a number"
    unknown_ref = next(ref for ref, m, _ in kept if m == "nobody.EM-99")
    assert unknown_ref.startswith("jetstream:CARBONLINK_READINGS#1#r")
    assert "unknown meter" in reasons[unknown_ref]
    assert "not JSON" in reasons["jetstream:CARBONLINK_READINGS#3"]
    assert "version 1" in reasons["jetstream:CARBONLINK_READINGS#4"]
    assert "whole microseconds" in reasons["jetstream:CARBONLINK_READINGS#5#r0"]
    assert len(kept) == 5
    # 120 kWh opens an alert that 60 kWh closes; 200 kWh opens one that stays open.
    assert [tuple(row) for row in opened] == [
        (METERS[0], "closed", 120.0),
        (METERS[1], "open", 200.0),
    ]

    # Every message was acknowledged: the work queue is empty, and running again stores nothing.
    async def left() -> int:
        nc = await nats.connect(servers=list(spec.servers))
        info = await nc.jetstream().stream_info(spec.stream)
        await nc.close()
        return int(info.state.messages)

    assert asyncio.run(left()) == 0


def test_an_alert_arriving_before_its_predecessor_is_still_opened_once(
    engine: sa.Engine, nats_single: NatsServers
) -> None:
    """Readings of one meter in reverse order, one message each: 50, 150, 50 at t0, t1, t2
    arrive as t2, t1, t0. The spike at t1 opens one alert, closed at t2."""
    register_plant(engine)
    spec = StreamSpec(servers=tuple(nats_single.urls), ack_wait=5.0)
    meter = METERS[2]
    values = [50.0, 150.0, 50.0]
    messages = [
        encode([Reading(meter, T0 + timedelta(minutes=15 * i), values[i], "kWh")])
        for i in (2, 1, 0)
    ]
    asyncio.run(send(spec, [(m.body, m.msg_id) for m in messages]))
    worker = IngestWorker(spec, engine, batch=1)
    asyncio.run(run_until_drained(worker, spec, expected=3))
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(alerts.c.opened_at, alerts.c.closed_at, alerts.c.status)
        ).all()
    assert rows == [(T0 + timedelta(minutes=15), T0 + timedelta(minutes=30), "closed")]


def test_alerts_a_worker_opens_go_to_the_organizations_channels(
    engine: sa.Engine, nats_single: NatsServers
) -> None:
    """The alert opened by a reading that came through the stream is posted, signed, to the
    organization's webhook channel once the batch has committed, as from a posted reading."""
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from carbonlink.monitor.notify import verify_signature
    from carbonlink.store import operations

    received: list[tuple[dict[str, str], bytes]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    key = b"the service key of this test, long enough"
    try:
        register_plant(engine)
        operations.save_alert_channel(
            engine,
            ORG,
            None,
            name="Energy desk",
            kind="webhook",
            config={"url": f"http://127.0.0.1:{server.server_port}/hook"},
            secret="hook-secret",
            min_severity="info",
            enabled=True,
            who="test",
            key=key,
        )
        spec = StreamSpec(servers=tuple(nats_single.urls), ack_wait=5.0)
        message = encode([Reading(METERS[1], T0, 250.0, "kWh")])  # above the 100 kWh rule
        asyncio.run(send(spec, [(message.body, message.msg_id)]))
        worker = IngestWorker(spec, engine, batch=5, notify_key=key)
        asyncio.run(run_until_drained(worker, spec, expected=1))
        deadline = time.monotonic() + 10
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        server.shutdown()
        server.server_close()
    assert len(received) == 1
    headers, body = received[0]
    event = json.loads(body)
    assert METERS[1] in json.dumps(event) and "250" in json.dumps(event)
    # signed with the channel's secret, opened from its sealed copy with the service key
    signature = {k.lower(): v for k, v in headers.items()}["x-carbonlink-signature"]
    assert verify_signature(b"hook-secret", body, signature)
