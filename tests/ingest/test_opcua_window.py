"""OPC UA collector: values dated outside their meter's plausible window are quarantined.

The server runs in its own process (``opcua_test_server.py``) and writes each value with the
SourceTimestamp the test gives, as a device with an unset or wrong clock would.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from carbonlink.ingest.opcua import MonitoredMeter, OpcUaCollector, OpcUaConfig
from carbonlink.store import Store

SERVER = Path(__file__).with_name("opcua_test_server.py")
NODE = "ns=2;s=EM07.Energy"
GOOD = datetime(2024, 3, 1, 0, 15, tzinfo=UTC)
# OPC UA's null DateTime, a clock far ahead, and a time inside the default window but before
# the window stored for this meter.
NULL_DATE = datetime(1601, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)
BEFORE_METER = datetime(2023, 6, 1, tzinfo=UTC)


@pytest.mark.slow
def test_values_outside_the_plausible_window_are_quarantined_not_stored(
    loopback_port: int, store: Store
) -> None:
    store.save_reading_window("EM07", valid_from=datetime(2024, 1, 1, tzinfo=UTC))
    config = OpcUaConfig(
        endpoint=f"opc.tcp://127.0.0.1:{loopback_port}/carbonlink-test/",
        publishing_interval=50,
        queue_size=100,
        nodes=[MonitoredMeter(node_id=NODE, meter="EM07", unit="kWh", sampling_interval=0)],
    )
    collector = OpcUaCollector(config, store)

    async def scenario() -> None:
        server = await asyncio.create_subprocess_exec(
            sys.executable,
            str(SERVER),
            str(loopback_port),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert server.stdin is not None and server.stdout is not None
        stop = asyncio.Event()
        task = asyncio.create_task(collector.run(stop))
        try:
            assert (await asyncio.wait_for(server.stdout.readline(), 30)).strip() == b"ready"
            await asyncio.wait_for(collector.subscribed.wait(), 30)
            for value, source in [
                (1.0, NULL_DATE),
                (2.0, FAR_FUTURE),
                (3.0, BEFORE_METER),
                (4.0, GOOD),
            ]:
                stamp = int(source.timestamp() * 1000)
                server.stdin.write(f"write {value} {stamp}\n".encode())
                await server.stdin.drain()
                assert (await asyncio.wait_for(server.stdout.readline(), 10)).strip() == b"ok"
                await asyncio.sleep(0.1)  # one notification per value
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and collector.stats.quarantined < 3:
                await asyncio.sleep(0.05)
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)
            server.kill()
            await server.wait()

    asyncio.run(scenario())
    series = store.series("EM07")
    stored = dict(zip(series.ts_us.tolist(), series.value.tolist(), strict=True))
    assert stored[int(GOOD.timestamp()) * 1_000_000] == 4.0
    assert sorted(v for v in stored.values() if v) == [4.0]  # 0.0: the node's first value
    kept = store.quarantined()
    assert len(kept) == 3
    assert {(k.meter_id, k.source_ref) for k in kept} == {("EM07", f"opcua:{NODE}")}
    reasons = sorted(k.reason for k in kept)
    assert reasons[0].startswith("timestamp 1601-01-01T00:00:00+00:00 is outside the plausible")
    assert reasons[1].startswith("timestamp 2023-06-01T00:00:00+00:00 is outside the plausible")
    assert "window 2024-01-01 00:00 to " in reasons[1]
    assert reasons[2].startswith("timestamp 2100-01-01T00:00:00+00:00 is outside the plausible")
    assert collector.stats.quarantined == 3
