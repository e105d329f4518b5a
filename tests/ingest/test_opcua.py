"""OPC UA collector against an in-process asyncua server on a loopback port."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asyncua import Server, ua

from carbonlink.errors import ConfigError, IngestError
from carbonlink.ingest.base import MemorySink, Reading, Rejected
from carbonlink.ingest.opcua import (
    MonitoredMeter,
    OpcUaCollector,
    OpcUaConfig,
    load_config,
    notification_to_record,
)
from carbonlink.store import Store

METER = MonitoredMeter(node_id="ns=2;s=EM07.Energy", meter="mill1.EM07", unit="kWh")
T0 = datetime(2024, 3, 1, 0, 15, tzinfo=UTC)


def _value(value: object, status: int = 0, source: datetime | None = T0) -> ua.DataValue:
    return ua.DataValue(
        ua.Variant(value),
        StatusCode=ua.StatusCode(status),
        SourceTimestamp=source,
        ServerTimestamp=T0 + timedelta(seconds=3),
    )


def test_good_value_keeps_its_source_timestamp() -> None:
    record = notification_to_record(METER, _value(812.5))
    assert record == Reading("mill1.EM07", T0, 812.5, "kWh", source_ref="opcua:ns=2;s=EM07.Energy")


def test_bad_status_is_quarantined_with_the_status_name() -> None:
    record = notification_to_record(METER, _value(0.0, ua.StatusCodes.BadSensorFailure))
    assert isinstance(record, Rejected)
    assert record.reason == "bad status BadSensorFailure"
    assert record.meter_id == "mill1.EM07"


def test_uncertain_overflow_and_server_time_are_kept_in_the_quality() -> None:
    uncertain = notification_to_record(METER, _value(1.0, ua.StatusCodes.UncertainLastUsableValue))
    assert isinstance(uncertain, Reading)
    assert uncertain.quality == "uncertain"
    # Good with InfoType DataValue (0x400) and the Overflow bit (0x80).
    overflow = notification_to_record(METER, _value(1.0, 0x0480))
    assert isinstance(overflow, Reading)
    assert overflow.quality == "good+overflow"
    server_time = notification_to_record(METER, _value(1.0, source=None))
    assert isinstance(server_time, Reading)
    assert (server_time.ts, server_time.quality) == (T0 + timedelta(seconds=3), "good+server_time")


def test_text_value_is_quarantined() -> None:
    record = notification_to_record(METER, _value("n/a"))
    assert isinstance(record, Rejected)
    assert "not a number" in record.reason


def test_config_requires_nodes(tmp_path: Path) -> None:
    path = tmp_path / "nodes.yaml"
    path.write_text("endpoint: opc.tcp://127.0.0.1:4840\nnodes: []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="nodes"):
        load_config(path)


async def _start_server(port: int) -> tuple[Server, dict[str, object]]:
    logging.getLogger("asyncua").setLevel(logging.WARNING)
    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/carbonlink-test/")
    idx = await server.register_namespace("urn:carbonlink:test")
    meters = await server.nodes.objects.add_object(idx, "Meters")
    nodes = {
        "energy": await meters.add_variable(ua.NodeId("EM07.Energy", idx), "Energy", 0.0),
        "gas": await meters.add_variable(ua.NodeId("GM02.Volume", idx), "Gas", 0.0),
    }
    await server.start()
    return server, nodes


def test_subscription_stores_values_with_source_time_and_quarantines_bad_ones(
    loopback_port: int, store: Store
) -> None:
    port = loopback_port

    async def scenario() -> OpcUaCollector:
        server, nodes = await _start_server(port)
        config = OpcUaConfig(
            endpoint=f"opc.tcp://127.0.0.1:{port}/carbonlink-test/",
            publishing_interval=50,
            queue_size=100,
            nodes=[
                MonitoredMeter(
                    node_id="ns=2;s=EM07.Energy", meter="EM07", unit="kWh", sampling_interval=0
                ),
                MonitoredMeter(
                    node_id="ns=2;s=GM02.Volume", meter="GM02", unit="Nm3", sampling_interval=0
                ),
            ],
        )
        collector = OpcUaCollector(config, store)
        stop = asyncio.Event()
        task = asyncio.create_task(collector.run(stop))
        try:
            await asyncio.wait_for(collector.subscribed.wait(), 10)
            for i in range(1, 6):
                stamp = T0 + timedelta(minutes=15 * i)
                await nodes["energy"].write_value(  # type: ignore[attr-defined]
                    ua.DataValue(
                        ua.Variant(100.0 * i, ua.VariantType.Double), SourceTimestamp=stamp
                    )
                )
                await asyncio.sleep(0.02)
            await nodes["gas"].write_value(  # type: ignore[attr-defined]
                ua.DataValue(
                    ua.Variant(0.0, ua.VariantType.Double),
                    StatusCode=ua.StatusCode(ua.StatusCodes.BadCommunicationError),
                    SourceTimestamp=T0,
                )
            )
            for _ in range(200):
                if store.reading_count("EM07") >= 6 and collector.stats.quarantined:
                    break
                await asyncio.sleep(0.05)
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
            await server.stop()
        return collector

    collector = asyncio.run(scenario())
    series = store.series("EM07")
    energy = dict(zip(series.ts_us.tolist(), series.value.tolist(), strict=True))
    for i in range(1, 6):
        stamp = T0 + timedelta(minutes=15 * i)
        assert energy[int(stamp.timestamp()) * 1_000_000] == 100.0 * i
    (kept,) = store.quarantined()
    assert (kept.reason, kept.meter_id) == ("bad status BadCommunicationError", "GM02")
    assert kept.source_ref == "opcua:ns=2;s=GM02.Volume"
    assert collector.stats.notifications >= 7  # initial values + 5 writes + the bad one


def test_unknown_node_is_refused_at_start(loopback_port: int) -> None:
    port = loopback_port

    async def scenario() -> None:
        server, _ = await _start_server(port)
        config = OpcUaConfig(
            endpoint=f"opc.tcp://127.0.0.1:{port}/carbonlink-test/",
            nodes=[MonitoredMeter(node_id="ns=2;s=Nope", meter="x", unit="kWh")],
        )
        try:
            with pytest.raises(IngestError, match="refused to monitor ns=2;s=Nope"):
                await OpcUaCollector(config, MemorySink()).run(asyncio.Event())
        finally:
            await server.stop()

    asyncio.run(scenario())
