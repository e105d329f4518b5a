"""OPC UA collector against a server in its own process that is killed and started again."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from carbonlink.errors import IngestError
from carbonlink.ingest.base import MemorySink
from carbonlink.ingest.opcua import MonitoredMeter, OpcUaCollector, OpcUaConfig

SERVER = Path(__file__).with_name("opcua_test_server.py")
T0 = datetime(2024, 3, 1, 0, 0, tzinfo=UTC)


class _Server:
    """The test server process: start, write a value with its source time, kill."""

    def __init__(self, port: int, *, history: bool = False) -> None:
        self.port = port
        self.history = history
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(SERVER),
            str(self.port),
            *(["--history"] if self.history else []),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 30)
        assert line.strip() == b"ready", line

    async def write(self, value: float, source: datetime) -> None:
        assert self.process is not None
        assert self.process.stdin is not None and self.process.stdout is not None
        stamp = int(source.timestamp() * 1000)
        self.process.stdin.write(f"write {value} {stamp}\n".encode())
        await self.process.stdin.drain()
        assert (await asyncio.wait_for(self.process.stdout.readline(), 10)).strip() == b"ok"

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        self.process = None


def _config(port: int, **options: object) -> OpcUaConfig:
    return OpcUaConfig.model_validate(
        {
            "endpoint": f"opc.tcp://127.0.0.1:{port}/carbonlink-test/",
            "publishing_interval": 50,
            "reconnect_initial": 0.2,
            "reconnect_max": 1.0,
            "watchdog_interval": 0.5,
            "nodes": [
                MonitoredMeter(
                    node_id="ns=2;s=EM07.Energy", meter="EM07", unit="kWh", sampling_interval=0
                )
            ],
            **options,
        }
    )


async def _until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.05)
    return False


@pytest.mark.slow
def test_collector_reconnects_after_the_server_is_killed_and_restarted(
    loopback_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    sink = MemorySink()
    collector = OpcUaCollector(_config(loopback_port), sink)
    server = _Server(loopback_port)

    def stored(minutes: int) -> float | None:
        reading = sink.readings.get(("EM07", T0 + timedelta(minutes=minutes)))
        return None if reading is None else reading.value

    async def scenario() -> None:
        await server.start()
        stop = asyncio.Event()
        task = asyncio.create_task(collector.run(stop))
        try:
            assert await _until(collector.subscribed.is_set, 20)
            await server.write(100.0, T0 + timedelta(minutes=15))
            assert await _until(lambda: stored(15) == 100.0, 10)

            await server.kill()
            assert await _until(lambda: collector.stats.connection_losses == 1, 15)
            await asyncio.sleep(1.0)  # a few attempts fail while the server is down
            assert not task.done()
            await server.start()
            assert await _until(lambda: collector.stats.connects == 2, 30)

            await server.write(200.0, T0 + timedelta(minutes=30))
            await server.write(300.0, T0 + timedelta(minutes=45))
            assert await _until(lambda: stored(45) == 300.0, 10)
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)
            await server.kill()

    with caplog.at_level(logging.INFO, logger="carbonlink.ingest.opcua"):
        asyncio.run(scenario())
    assert (stored(15), stored(30), stored(45)) == (100.0, 200.0, 300.0)
    endpoint = f"opc.tcp://127.0.0.1:{loopback_port}/carbonlink-test/"
    assert f"lost connection to the OPC UA server at {endpoint}" in caplog.text
    assert "retrying in" in caplog.text
    assert f"reconnected to the OPC UA server at {endpoint}" in caplog.text
    assert sink.rejected == []


@pytest.mark.slow
def test_collector_waits_for_a_server_that_starts_later(loopback_port: int) -> None:
    sink = MemorySink()
    collector = OpcUaCollector(_config(loopback_port), sink)
    server = _Server(loopback_port)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(collector.run(stop))
        try:
            await asyncio.sleep(1.0)
            assert not task.done()
            await server.start()
            assert await _until(collector.subscribed.is_set, 30)
            await server.write(5.0, T0)
            assert await _until(lambda: ("EM07", T0) in sink.readings, 10)
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)
            await server.kill()

    asyncio.run(scenario())
    assert sink.readings[("EM07", T0)].value == 5.0


def test_fail_fast_stops_at_once_when_the_server_is_away(loopback_port: int) -> None:
    collector = OpcUaCollector(_config(loopback_port, fail_fast=True), MemorySink())
    started = time.monotonic()
    with pytest.raises(IngestError, match="cannot connect to the OPC UA server"):
        asyncio.run(collector.run(asyncio.Event()))
    assert time.monotonic() - started < 10


class _Proxy:
    """A TCP relay between collector and server whose connections the test can cut, so the
    collector loses the server while the server keeps running."""

    def __init__(self, port: int, target: int) -> None:
        self.port = port
        self.target = target
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        self.writers += [writer, up_writer]

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except OSError:
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.transport.abort()
        self.writers.clear()
        await self.server.wait_closed()


@pytest.mark.slow
def test_values_taken_while_disconnected_are_read_from_the_servers_history(
    loopback_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        server_port = int(probe.getsockname()[1])
    server = _Server(server_port, history=True)
    proxy = _Proxy(loopback_port, server_port)
    sink = MemorySink()
    collector = OpcUaCollector(_config(loopback_port), sink)

    # Source times after the server's start, as a device's clock gives them: the node's initial
    # value is stamped at start, and the history read resumes from the newest stored.
    base = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)

    def stored(minutes: int) -> float | None:
        reading = sink.readings.get(("EM07", base + timedelta(minutes=minutes)))
        return None if reading is None else reading.value

    async def scenario() -> None:
        await server.start()
        await proxy.start()
        stop = asyncio.Event()
        task = asyncio.create_task(collector.run(stop))
        try:
            assert await _until(collector.subscribed.is_set, 20)
            await server.write(100.0, base + timedelta(minutes=15))
            assert await _until(lambda: stored(15) == 100.0, 10)

            await proxy.cut()
            assert await _until(lambda: collector.stats.connection_losses == 1, 15)
            # The server runs on and takes three values; only the last is its current value.
            for minutes, value in ((30, 200.0), (45, 300.0), (60, 400.0)):
                await server.write(value, base + timedelta(minutes=minutes))
            await proxy.start()
            assert await _until(lambda: collector.stats.connects == 2, 30)
            assert await _until(lambda: stored(60) == 400.0, 10)
            assert await _until(lambda: stored(30) == 200.0 and stored(45) == 300.0, 10)
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)
            await proxy.cut()
            await server.kill()

    with caplog.at_level(logging.INFO, logger="carbonlink.ingest.opcua"):
        asyncio.run(scenario())
    assert [stored(m) for m in (15, 30, 45, 60)] == [100.0, 200.0, 300.0, 400.0]
    assert "3 values of ns=2;s=EM07.Energy read from the server's history" in caplog.text
