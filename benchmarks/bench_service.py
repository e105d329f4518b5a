"""Service benchmark: the running server driven from another process over loopback.

Builds the demo workspace (``carbonlink demo`` into a temporary folder: the demo enterprise's
saved inventories and the real plant year), starts ``carbonlink serve --workspace … --demo
--workers N`` in a child process on a free port, logs in, then measures
- the overview page at 50 concurrent connections with ``wrk`` (2 threads, 20 s): requests/s and
  p50/p90/p99 latency (target p99 < 150 ms);
- readings batch POST of 10 000 readings per request: readings/s (target ≥ 20 000/s).
Floors measured in the same run: a static file at the same concurrency (the server's own
overhead) and the store's bulk insert called directly (what the database can take).

``wrk`` is a small C load generator (``apt-get install wrk``); it leaves the server nearly all of
the CPU. Without it the overview is driven by an async httpx client in Python, which competes
with the server for the same cores and so reports worse latencies than the server's own.

    python benchmarks/bench_service.py [--workers N] [--duration S] [--connections C]
                                       [--client auto|wrk|httpx]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

BATCHES = 12
BATCH = 10_000
PASSWORD = "bench-password-123"

# wrk calls done() once at the end with the merged latency histogram (microseconds).
WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d bytes=%d errors=%d status_errors=%d " ..
    "p50_us=%d p90_us=%d p99_us=%d max_us=%d\\n",
    summary.requests, summary.duration, summary.bytes,
    e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True)
class Load:
    """What one load run measured."""

    tool: str
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    bytes_per_request: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def line(self) -> str:
        return (
            f"{self.rps:8.0f} req/s   p50 {self.p50_ms:6.1f} ms   p90 {self.p90_ms:6.1f} ms   "
            f"p99 {self.p99_ms:6.1f} ms   ({self.requests} requests in {self.seconds:.1f} s)"
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def login(client: httpx.Client) -> str:
    """Log in as the demo manager; return the CSRF token of the overview page."""
    client.get("/login")
    token = client.cookies["carbonlink_login_csrf"]
    response = client.post(
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


def with_wrk(url: str, cookie: str, connections: int, duration_s: int) -> Load:
    """``wrk`` with 2 threads and ``connections`` connections for ``duration_s`` seconds."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_REPORT)
    try:
        done = subprocess.run(
            [
                "wrk",
                "--threads",
                "2",
                "--connections",
                str(connections),
                "--duration",
                f"{duration_s}s",
                "--timeout",
                "10s",
                "--script",
                script.name,
                "--header",
                f"Cookie: {cookie}",
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(script.name)
    match = re.search(r"^RESULT (.*)$", done.stdout, re.MULTILINE)
    assert match, f"wrk printed no result:\n{done.stdout}\n{done.stderr}"
    got = {k: int(v) for k, v in (pair.split("=") for pair in match.group(1).split())}
    assert got["errors"] == 0 and got["status_errors"] == 0, f"wrk saw errors: {got}"
    return Load(
        "wrk",
        got["requests"],
        got["duration_us"] / 1e6,
        got["p50_us"] / 1000,
        got["p90_us"] / 1000,
        got["p99_us"] / 1000,
        got["bytes"] / max(got["requests"], 1),
    )


def with_httpx(url: str, cookie: str, connections: int, duration_s: int) -> Load:
    """The same load from an async httpx client in this process (when wrk is absent)."""
    latencies: list[float] = []
    sizes: list[int] = []
    name, _, value = cookie.partition("=")

    async def worker(stop: float) -> None:
        async with httpx.AsyncClient(cookies={name: value}, timeout=30) as client:
            while time.perf_counter() < stop:
                start = time.perf_counter()
                response = await client.get(url)
                latencies.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, response.status_code
                sizes.append(len(response.content))

    async def drive() -> float:
        start = time.perf_counter()
        await asyncio.gather(*(worker(start + duration_s) for _ in range(connections)))
        return time.perf_counter() - start

    seconds = asyncio.run(drive())
    cut = statistics.quantiles(latencies, n=100)
    return Load(
        "httpx",
        len(latencies),
        seconds,
        statistics.median(latencies),
        cut[89],
        cut[98],
        statistics.fmean(sizes),
    )


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by process ``pid`` and its live children (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children")
    pids = [pid, *map(int, children.read_text().split())] if children.exists() else [pid]
    total = 0
    for one in pids:
        fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / tick


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


def readings_post(base: str, client: httpx.Client, csrf: str) -> None:
    """POST BATCHES batches of BATCH readings with an API key, one after the other."""
    key = client.post(
        "/api/v1/api-keys",
        json={"name": "bench", "role": "editor"},
        headers={"X-CSRF-Token": csrf},
    )
    key.raise_for_status()
    headers = {"Authorization": f"Bearer {key.json()['key']}"}
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
    with httpx.Client(base_url=base, timeout=120, headers=headers) as machine:
        start = time.perf_counter()
        for body in bodies:
            response = machine.post("/api/v1/readings", json=body)
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


def run(
    base: str, server: int, workers: int, connections: int, duration_s: int, client_name: str
) -> None:
    if client_name == "auto":
        client_name = "wrk" if shutil.which("wrk") else "httpx"
    load = with_wrk if client_name == "wrk" else with_httpx
    with httpx.Client(base_url=base, timeout=60, follow_redirects=True) as client:
        csrf = login(client)
        cookie = f"carbonlink_session={client.cookies['carbonlink_session']}"
        page = client.get("/")
        assert page.status_code == 200 and 'class="kpis"' in page.text, "no overview page"
        load(f"{base}/", cookie, connections, 3)  # warm-up: caches, connections, templates
        print(
            f"load average before the run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; "
            f"server workers: {workers}; client: {client_name}"
        )
        floor = load(f"{base}/static/favicon.svg", cookie, connections, duration_s)
        cpu_before = cpu_seconds(server)
        over = load(f"{base}/", cookie, connections, duration_s)
        cpu_ms = (cpu_seconds(server) - cpu_before) * 1000 / over.requests
        # A lost session would answer every request with a short redirect to /login.
        assert over.bytes_per_request > 0.9 * len(page.content), "overview not served in full"
        print(f"overview page, {connections} connections, {duration_s} s:")
        print(f"  {over.line()}   (target p99 < 150 ms)")
        print(f"  server CPU time per overview request: {cpu_ms:.2f} ms (all workers)")
        print(f"  floor (static file, same load): {floor.line()}")
        print(f"  ratio overview/floor {over.rps / floor.rps:.2f}")
        print(f"load average after the overview runs: {os.getloadavg()[0]:.2f}")
        readings_post(base, client, csrf)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=int, default=20, help="seconds per load run")
    parser.add_argument("--client", choices=("auto", "wrk", "httpx"), default="auto")
    args = parser.parse_args()
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
                "--workers",
                str(args.workers),
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
            base = f"http://127.0.0.1:{port}"
            run(base, server.pid, args.workers, args.connections, args.duration, args.client)
        finally:
            server.terminate()
            server.wait(timeout=15)


if __name__ == "__main__":
    main()
