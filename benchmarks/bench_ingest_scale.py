"""Scale-out ingest through NATS JetStream, each figure beside its floor measured in the same run.

1. One ingest worker into PostgreSQL (fetch, decode, check against the registry, COPY → insert
   skipping stored keys, alert rules, ack after commit), against a bare binary-free COPY of the
   very same rows into an empty readings table (the database's floor).
2. JetStream: publishing the envelopes with acknowledgements, and consuming them with the
   worker's decode and checks but no database, against a bare nats-py pull consumer that
   fetches and acknowledges the same messages and does nothing else.
3. End-to-end latency from publish to committed in PostgreSQL (p50, p99), with collectors
   publishing at a steady rate well below the worker's capacity.

    nice .venv/bin/python benchmarks/bench_ingest_scale.py [--readings 200000] [--meters 2000]

It starts its own nats-server (a free loopback port, a temporary store) and works in a
PostgreSQL schema of its own (CARBONLINK_TEST_POSTGRES_URL, or the local default), dropped
afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nats
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from carbonlink.domain.metering import Facility, Meter, Organization
from carbonlink.ingest.base import Reading
from carbonlink.ingest.envelope import Envelope, encode, split
from carbonlink.ingest.jetstream import StreamSpec, consumer_config, ensure_stream, publish
from carbonlink.monitor.rules import AlertRule
from carbonlink.store import Store, create_store_engine, upgrade
from carbonlink.store.results import save_alert_rules
from carbonlink.store.schema import to_epoch_us
from carbonlink.workers.ingest import IngestWorker, tune_garbage_collector

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/carbonlink_test"
START = datetime(2026, 1, 1, tzinfo=UTC)
COLUMNS = "meter_id, ts, value, unit, quality, batch_id, source_ref"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_nats(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
    port = free_port()
    process = subprocess.Popen(
        [binary, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(root / "js")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return process, f"nats://127.0.0.1:{port}"
        time.sleep(0.05)
    raise RuntimeError("nats-server did not start")


def make_readings(n: int, meters: int, *, tag: str = "") -> list[Reading]:
    steps = -(-n // meters)
    out = []
    for step in range(steps):
        ts = START + step * timedelta(minutes=15)
        for m in range(meters):
            if len(out) == n:
                break
            value = 20.0 + (step * 7 + m) % 50
            out.append(Reading(f"M{m:05d}", ts, value, "kWh", source_ref=tag or None))
    return out


def fresh_schema(url: str) -> tuple[Engine, Engine, str]:
    admin = create_store_engine(url)
    name = f"bench_scale_{uuid.uuid4().hex[:8]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    engine = create_store_engine(url, connect_args={"options": f"-csearch_path={name}"})
    upgrade(engine)
    return admin, engine, name


def register(engine: Engine, meters: int) -> None:
    store = Store(engine)
    store.save_organization(Organization("bench", "Bench group"))
    store.save_facility(Facility("f", "bench", "Plant", "UTC"))
    for m in range(meters):
        store.save_meter(Meter(f"M{m:05d}", "interval", "kWh", facility_id="f"))
    # One threshold rule on 20 meters: the alert path is on, as in a plant.
    rules = [
        AlertRule(id=f"hot-{m}", kind="threshold", meter_id=f"M{m:05d}", above=1e9)
        for m in range(min(20, meters))
    ]
    save_alert_rules(engine, "bench", rules)


def empty(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE readings, quarantine"))


def copy_floor(engine: Engine, readings: list[Reading]) -> float:
    """Seconds for a bare COPY of the rows into the empty readings table."""
    rows = [
        (r.meter_id, to_epoch_us(r.ts), r.value, r.unit, r.quality, None, r.source_ref)
        for r in readings
    ]
    with engine.begin() as conn:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        started = time.perf_counter()
        with cursor.copy(f"COPY readings ({COLUMNS}) FROM STDIN") as copy:
            copy.set_types(("text", "int8", "float8", "text", "text", "text", "text"))
            for row in rows:
                copy.write_row(row)
    return time.perf_counter() - started


async def publish_all(spec: StreamSpec, envelopes: list[Envelope]) -> float:
    nc = await nats.connect(servers=list(spec.servers))
    js = nc.jetstream()
    await ensure_stream(js, spec)
    started = time.perf_counter()
    for start in range(0, len(envelopes), 64):
        await publish(js, spec, "bench", envelopes[start : start + 64])
    seconds = time.perf_counter() - started
    await nc.close()
    return seconds


async def purge(spec: StreamSpec) -> None:
    nc = await nats.connect(servers=list(spec.servers))
    js = nc.jetstream()
    with contextlib.suppress(nats.js.errors.NotFoundError):
        await js.delete_consumer(spec.stream, spec.consumer)
    await js.purge_stream(spec.stream)
    await nc.close()


async def run_worker(worker: IngestWorker, messages: int) -> float:
    stop = asyncio.Event()
    started = time.perf_counter()
    task = asyncio.create_task(worker.run(stop))
    while worker.stats.messages < messages and not task.done():
        await asyncio.sleep(0.01)
    seconds = time.perf_counter() - started
    stop.set()
    await task
    return seconds


async def bare_consume(spec: StreamSpec, messages: int, batch: int) -> float:
    nc = await nats.connect(servers=list(spec.servers))
    js = nc.jetstream()
    sub = await js.pull_subscribe(
        f"{spec.subject_prefix}.>",
        durable=spec.consumer,
        stream=spec.stream,
        config=consumer_config(spec),
    )
    started = time.perf_counter()
    seen = 0
    while seen < messages:
        for msg in await sub.fetch(batch, timeout=5):
            await msg.ack()
            seen += 1
    seconds = time.perf_counter() - started
    await nc.close()
    return seconds


async def decode_consume(
    worker: IngestWorker, spec: StreamSpec, messages: int, batch: int
) -> float:
    nc = await nats.connect(servers=list(spec.servers))
    js = nc.jetstream()
    sub = await js.pull_subscribe(
        f"{spec.subject_prefix}.>",
        durable=spec.consumer,
        stream=spec.stream,
        config=consumer_config(spec),
    )
    started = time.perf_counter()
    seen = 0
    while seen < messages:
        msgs = await sub.fetch(batch, timeout=5)
        worker.prepare(msgs)
        for msg in msgs:
            await msg.ack()
        seen += len(msgs)
    seconds = time.perf_counter() - started
    await nc.close()
    return seconds


async def latency(
    spec: StreamSpec, engine: Engine, meters: int, rate: float, seconds: float, per_message: int
) -> list[float]:
    """Publish→committed latency of each message, publishing ``rate`` messages a second."""
    worker = IngestWorker(spec, engine, batch=100)
    committed: list[float] = []
    original = worker.writer.write

    def timed(readings: Any, rejected: Any) -> Any:
        result = original(readings, rejected)
        now = time.time()
        sent = {r.source_ref for r in readings if r.source_ref and r.source_ref.startswith("t=")}
        committed.extend(now - float(ref[2:]) for ref in sent)
        return result

    worker.writer.write = timed  # type: ignore[method-assign]
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    nc = await nats.connect(servers=list(spec.servers))
    js = nc.jetstream()
    total = int(rate * seconds)
    step0 = 10_000
    for i in range(total):
        tag = f"t={time.time():.6f}"
        ts = START + (step0 + i) * timedelta(minutes=15)
        batch = [
            Reading(f"M{(i * per_message + k) % meters:05d}", ts, 42.0, "kWh", source_ref=tag)
            for k in range(per_message)
        ]
        await publish(js, spec, "bench", [encode(batch)])
        await asyncio.sleep(1 / rate)
    deadline = time.monotonic() + 30
    while len(committed) < total and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    stop.set()
    await task
    await nc.close()
    return committed


def line(label: str, n: int, seconds: float, unit: str = "readings") -> float:
    rate = n / seconds
    print(f"  {label:<58} {n:>8,} {unit:<8} {seconds:7.2f} s  {rate:>10,.0f} {unit}/s")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=200_000)
    parser.add_argument("--meters", type=int, default=2_000)
    parser.add_argument("--per-message", type=int, default=500)
    parser.add_argument("--batch", type=int, default=20, help="messages per worker fetch")
    args = parser.parse_args()
    url = (
        os.environ.get("CARBONLINK_TEST_POSTGRES_URL")
        or os.environ.get("CARBONLINK_DATABASE_URL")
        or DEFAULT_POSTGRES
    )
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.machine()}"
    )
    print(
        f"{args.readings:,} readings of {args.meters:,} meters, {args.per_message} per message, "
        f"{args.batch} messages per fetch"
    )
    if not (shutil.which("nats-server") or os.access("/usr/sbin/nats-server", os.X_OK)):
        print("skipped: no nats-server binary (Debian package nats-server)")
        return
    try:
        create_store_engine(url).connect().close()
    except OperationalError as exc:
        print(f"skipped: PostgreSQL unreachable ({exc.orig})")
        return
    readings = make_readings(args.readings, args.meters)
    tune_garbage_collector()  # as `carbonlink worker ingest` does

    def envelopes_for(round_: str) -> list[Envelope]:
        # Another source label per round: the same bodies again would be dropped as duplicates
        # by JetStream's de-duplication window, as it should.
        return list(split(readings, size=args.per_message, source=round_))

    envelopes = envelopes_for("round1")
    n = len(readings)
    with tempfile.TemporaryDirectory() as tmp:
        server, nats_url = start_nats(Path(tmp))
        admin, engine, schema = fresh_schema(url)
        try:
            register(engine, args.meters)
            spec = StreamSpec(servers=(nats_url,), ack_wait=60.0, max_ack_pending=10_000)

            print("1. one worker into PostgreSQL, beside a bare COPY of the same rows")
            floor = line(
                "bare COPY into the empty keyed readings table", n, copy_floor(engine, readings)
            )
            empty(engine)
            asyncio.run(publish_all(spec, envelopes))
            worker = IngestWorker(spec, engine, batch=args.batch)
            ours = line(
                "worker: fetch, decode, check, COPY → insert, alerts, ack",
                n,
                asyncio.run(run_worker(worker, len(envelopes))),
            )
            assert worker.stats.stored == n, worker.stats
            print(f"  ratio worker / COPY floor: {ours / floor:.2f}")

            print("2. JetStream publish and consume, beside a bare nats-py consumer")
            asyncio.run(purge(spec))
            publish_s = asyncio.run(publish_all(spec, envelopes_for("round2")))
            line(
                "publish envelopes, each acknowledged by JetStream",
                len(envelopes),
                publish_s,
                "msgs",
            )
            line("  the same, in readings", n, publish_s)
            bare_s = asyncio.run(bare_consume(spec, len(envelopes), args.batch))
            bare = line("bare nats-py pull consumer: fetch + ack", n, bare_s)
            asyncio.run(purge(spec))
            asyncio.run(publish_all(spec, envelopes_for("round3")))
            decode_s = asyncio.run(decode_consume(worker, spec, len(envelopes), args.batch))
            decoded = line(
                "worker consume without database: fetch, decode, check, ack", n, decode_s
            )
            print(f"  ratio decode-and-check consumer / bare consumer: {decoded / bare:.2f}")

            print("3. end-to-end latency, publish → committed in PostgreSQL")
            asyncio.run(purge(spec))
            rate, per = 50.0, 20
            waits = asyncio.run(latency(spec, engine, args.meters, rate, 10.0, per))
            waits.sort()
            p50 = statistics.median(waits) * 1000
            p99 = waits[min(len(waits) - 1, int(0.99 * len(waits)))] * 1000
            print(
                f"  {len(waits)} messages of {per} readings at {rate:.0f} messages/s: "
                f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {waits[-1] * 1000:.1f} ms"
            )
        finally:
            engine.dispose()
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
