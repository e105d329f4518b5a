"""Service benchmark: the running server driven from another process over loopback.

Builds the demo workspace (``carbonlink demo`` into a temporary folder: the demo enterprise's
saved inventories and the real plant year), starts ``carbonlink serve --workspace … --demo`` in a
child process on a free port, then with an async httpx client measures
- the overview page at 50 concurrent clients: requests/s, p50 and p99 latency (target p99 < 150 ms);
- readings batch POST of 10 000 readings per request: readings/s (target ≥ 20 000/s).
Floors measured in the same run: a static file at the same concurrency (the server's own
overhead) and the store's bulk insert called directly (what the database can take).
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

CLIENTS = 50
OVERVIEW_REQUESTS = 2000
BATCHES = 12
BATCH = 10_000
PASSWORD = "bench-password-123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def login(client: httpx.AsyncClient) -> str:
    await client.get("/login")
    token = client.cookies["carbonlink_login_csrf"]
    response = await client.post(
        "/login",
        data={
            "email": "manager@demo.carbonlink.example",
            "password": PASSWORD,
            "csrf_token": token,
        },
    )
    response.raise_for_status()
    match = re.search(r'name="csrf-token" content="([^"]+)"', response.text)
    assert match, "no CSRF token on the overview page"
    return match.group(1)


async def hammer(
    base: str, cookies: httpx.Cookies, path: str, total: int
) -> tuple[float, list[float]]:
    """``total`` GETs of ``path`` from CLIENTS concurrent clients; (seconds, latencies in ms)."""
    latencies: list[float] = []
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=30) as client:
            while remaining > 0:
                remaining -= 1
                start = time.perf_counter()
                response = await client.get(path)
                latencies.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, response.status_code

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CLIENTS)))
    return time.perf_counter() - start, latencies


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def store_floor(rows: int) -> float:
    """Readings/s of the store's bulk insert called in-process (SQLite file)."""
    from carbonlink.ingest.base import Reading
    from carbonlink.store import Store, create_store_engine, upgrade

    with tempfile.TemporaryDirectory() as folder:
        engine = create_store_engine(f"sqlite:///{Path(folder) / 'floor.db'}")
        upgrade(engine)
        store = Store(engine)
        t0 = datetime(2030, 1, 1, tzinfo=UTC)
        readings = [Reading("m", t0 + timedelta(seconds=i), 1.0, "MWh") for i in range(rows)]
        start = time.perf_counter()
        store.add_readings(readings)
        elapsed = time.perf_counter() - start
        engine.dispose()
    return rows / elapsed


async def run(base: str) -> None:
    print(f"load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    async with httpx.AsyncClient(base_url=base, timeout=60, follow_redirects=True) as client:
        csrf = await login(client)
        cookies = client.cookies

        await hammer(base, cookies, "/", 200)  # warm-up
        floor_s, floor_lat = await hammer(base, cookies, "/static/favicon.svg", OVERVIEW_REQUESTS)
        over_s, over_lat = await hammer(base, cookies, "/", OVERVIEW_REQUESTS)
        floor_rps, over_rps = OVERVIEW_REQUESTS / floor_s, OVERVIEW_REQUESTS / over_s
        print(f"overview page, {CLIENTS} concurrent clients, {OVERVIEW_REQUESTS} requests:")
        print(
            f"  {over_rps:8.0f} req/s   p50 {pct(over_lat, 50):6.1f} ms   "
            f"p99 {pct(over_lat, 99):6.1f} ms   (target p99 < 150 ms)"
        )
        print(
            f"  floor (static file, same clients): {floor_rps:8.0f} req/s   "
            f"p99 {pct(floor_lat, 99):6.1f} ms   ratio overview/floor {over_rps / floor_rps:.2f}"
        )

        key = await client.post(
            "/api/v1/api-keys",
            json={"name": "bench", "role": "editor"},
            headers={"X-CSRF-Token": csrf},
        )
        key.raise_for_status()
        headers = {"Authorization": f"Bearer {key.json()['key']}"}
    async with httpx.AsyncClient(base_url=base, timeout=120, headers=headers) as machine:
        t0 = datetime(2025, 1, 1, tzinfo=UTC)
        bodies = []
        for b in range(BATCHES):
            rows = [
                {
                    "meter_id": "daewoo-gwangyang-electricity",
                    "ts": (t0 + timedelta(minutes=b * BATCH + i)).isoformat(),
                    "value": 1.25,
                    "unit": "kWh",
                }
                for i in range(BATCH)
            ]
            bodies.append({"batch_id": f"bench-{b}", "readings": rows})
        stored = 0
        start = time.perf_counter()
        for body in bodies:
            response = await machine.post("/api/v1/readings", json=body)
            response.raise_for_status()
            stored += response.json()["stored"]
        elapsed = time.perf_counter() - start
    assert stored == BATCHES * BATCH, stored
    rate = stored / elapsed
    floor = store_floor(BATCHES * BATCH)
    print(f"readings batch POST, {BATCHES} × {BATCH} readings, one client:")
    per_batch = elapsed / BATCHES * 1000
    print(f"  {rate:8.0f} readings/s   ({per_batch:.0f} ms per batch; target ≥ 20 000/s)")
    print(f"  floor (store bulk insert in-process): {floor:8.0f} readings/s")
    print(f"  ratio POST/floor {rate / floor:.2f}")


def main() -> None:
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "CARBONLINK_DEMO_PASSWORD": PASSWORD,
            "CARBONLINK_DATABASE_URL": "",
        }
        command = str(Path(sys.executable).with_name("carbonlink"))
        subprocess.run(
            [command, "demo", "--out", folder], env=env, check=True, stdout=subprocess.DEVNULL
        )
        server = subprocess.Popen(
            [
                command,
                "serve",
                "--workspace",
                str(Path(folder) / "workspace"),
                "--demo",
                "--port",
                str(port),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        output = server.stdout.read() if server.stdout else ""
                        raise SystemExit(f"server did not start:\n{output}") from None
                    time.sleep(0.2)
            asyncio.run(run(f"http://127.0.0.1:{port}"))
        finally:
            server.terminate()
            server.wait(timeout=15)


if __name__ == "__main__":
    main()
