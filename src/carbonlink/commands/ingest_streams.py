"""`carbonlink ingest mqtt|sparkplug|opcua`: live collectors that run until stopped."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from carbonlink.ingest.base import ReadingSink
from carbonlink.settings import Settings

console = Console(stderr=True)

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="Database URL (default: the workspace's SQLite file; CARBONLINK_DATABASE_URL).",
        show_default=False,
    ),
]
HostOption = Annotated[
    str | None, typer.Option("--host", help="MQTT broker host (default 127.0.0.1).")
]
PortOption = Annotated[int | None, typer.Option("--port", help="MQTT broker port (default 1883).")]


@contextmanager
def open_sink(settings: Settings, database: str | None) -> Iterator[ReadingSink]:
    """The store the collectors write to (migrated to the newest schema)."""
    from carbonlink.store.workspace import open_store

    if database is not None:
        settings = settings.model_copy(update={"database_url": database})
    store = open_store(settings)
    try:
        yield store
    finally:
        store.engine.dispose()


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def mqtt(
    ctx: typer.Context,
    mapping: Annotated[
        Path,
        typer.Argument(
            help=(
                "YAML file mapping topics to meters. Example:\n\n"
                "topics:\n\n"
                "  - topic: plant/+/energy/+    # '+' one level, '#' the rest\n\n"
                "    meter: '{1}.{3}'           # {N} = topic level N (from 0)\n\n"
                "    unit: kWh                  # when the message has no 'unit'\n\n"
                'Messages are JSON objects {"ts": ISO 8601 or epoch ms, "value": number}.'
            ),
            exists=True,
            dir_okay=False,
        ),
    ],
    host: HostOption = None,
    port: PortOption = None,
    client_id: Annotated[
        str | None,
        typer.Option(
            help=(
                "Fixed client id of this collector (default from the file or "
                "'carbonlink-collector'). Keep it the same across restarts: the broker keeps "
                "the readings that arrive while the collector is down under this id."
            )
        ),
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="Messages stored per transaction (default 1000).")
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Collect meter readings from an MQTT broker (JSON payloads, QoS 1) until Ctrl-C.

    Each message is acknowledged to the broker only after it is stored, and the session is
    persistent, so stopping or crashing the collector loses nothing; resent duplicates are
    ignored. Unreadable messages are quarantined with the reason.
    """
    from carbonlink.ingest.mqtt import MqttCollector, load_config

    settings: Settings = ctx.obj
    config = load_config(
        mapping,
        defaults={"host": settings.mqtt_host, "port": settings.mqtt_port},
        host=host,
        port=port,
        client_id=client_id,
        batch_size=batch_size,
    )
    stop = _stop_on_signals()
    with open_sink(settings, database) as sink:
        collector = MqttCollector(config, sink)
        console.print(
            f"collecting from mqtt://{config.host}:{config.port} as '{config.client_id}' "
            f"({len(config.topics)} topic filters); Ctrl-C to stop"
        )
        stats = collector.run(stop)
    console.print(
        f"received {stats.received}, stored {stats.stored} new readings, "
        f"{stats.duplicates} duplicates ignored, {stats.quarantined} quarantined"
    )


def sparkplug(
    ctx: typer.Context,
    host: HostOption = None,
    port: PortOption = None,
    host_id: Annotated[
        str, typer.Option(help="Host application id, published on spBv1.0/STATE/<id>.")
    ] = "carbonlink",
    group: Annotated[str, typer.Option(help="Sparkplug group id to follow ('+' = all).")] = "+",
    reorder_timeout: Annotated[
        float,
        typer.Option(help="Seconds to wait for a missing message before asking for a rebirth."),
    ] = 2.0,
    default_unit: Annotated[
        str | None,
        typer.Option(help="Unit for metrics whose birth certificate has no 'engUnit' property."),
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Run a Sparkplug B host application: store every numeric metric of the edge nodes.

    Meters are named <group>/<edge node>[/<device>]/<metric>. Units come from the births'
    'engUnit' property. A lost message (seq gap) triggers a rebirth request to the node.
    """
    from carbonlink.ingest.sparkplug.host import SparkplugHost, SparkplugHostConfig

    settings: Settings = ctx.obj
    config = SparkplugHostConfig(
        host=host or settings.mqtt_host,
        port=port or settings.mqtt_port,
        host_id=host_id,
        group=group,
        reorder_timeout=reorder_timeout,
        default_unit=default_unit,
    )
    stop = _stop_on_signals()
    with open_sink(settings, database) as sink:
        app_ = SparkplugHost(
            config, sink, on_event=lambda event, topic: console.print(f"{event} {topic or ''}")
        )
        stats = app_.run(stop)
    console.print(
        f"{stats.messages} messages, {stats.readings} new readings, "
        f"{stats.quarantined} quarantined, {stats.rebirths_requested} rebirths requested"
    )


def sparkplug_simulator(
    host: HostOption = None,
    port: PortOption = None,
    group: Annotated[str, typer.Option(help="Sparkplug group id.")] = "demo-plant",
    edge_node: Annotated[str, typer.Option(help="Edge node id.")] = "mill1-gateway",
    interval: Annotated[float, typer.Option(help="Seconds between data messages.")] = 1.0,
    count: Annotated[int, typer.Option(help="Data messages to send (0 = until Ctrl-C).")] = 0,
) -> None:
    """Simulate a Sparkplug B edge node (an electricity and a gas meter) for demos."""
    from carbonlink.ingest.sparkplug.simulator import EdgeNodeSimulator, SimulatedMetric

    settings = Settings()
    simulator = EdgeNodeSimulator(
        group,
        edge_node,
        {
            "EM-01": [SimulatedMetric("Active Energy", 1, "kWh", 125_000.0)],
            "GM-01": [SimulatedMetric("Gas Volume", 2, "Nm3", 48_000.0)],
        },
        host=host or settings.mqtt_host,
        port=port or settings.mqtt_port,
    )
    stop = _stop_on_signals()
    simulator.start()
    console.print(f"edge node {group}/{edge_node} online; Ctrl-C to stop")
    sent = 0
    energy, gas = 125_000.0, 48_000.0
    while not stop.is_set() and (count == 0 or sent < count):
        energy += 12.5
        gas += 3.2
        simulator.publish_data("EM-01", {"Active Energy": energy})
        simulator.publish_data("GM-01", {"Gas Volume": gas})
        sent += 1
        stop.wait(interval)
    simulator.stop()
    console.print(f"sent {sent} data rounds, answered {simulator.rebirths_answered} rebirths")


def opcua(
    ctx: typer.Context,
    nodes: Annotated[
        Path,
        typer.Argument(
            help=(
                "YAML file with the server and the nodes to monitor. Example:\n\n"
                "endpoint: opc.tcp://10.0.0.5:4840\n\n"
                "nodes:\n\n"
                "  - node_id: 'ns=2;s=Mill1.EM07.ActiveEnergy'\n\n"
                "    meter: mill1.EM07\n\n"
                "    unit: kWh"
            ),
            exists=True,
            dir_okay=False,
        ),
    ],
    endpoint: Annotated[
        str | None, typer.Option(help="Server endpoint URL, overrides the file.")
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Collect meter values from an OPC UA server by subscription until Ctrl-C.

    Values keep the device's SourceTimestamp and status code; values with a Bad status are
    quarantined with the status name.
    """
    from carbonlink.ingest.opcua import OpcUaCollector, load_config

    settings: Settings = ctx.obj
    config = load_config(nodes, endpoint=endpoint)

    async def _run(sink: ReadingSink) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        stats = await OpcUaCollector(config, sink).run(stop)
        console.print(
            f"{stats.notifications} notifications, {stats.stored} new readings, "
            f"{stats.quarantined} quarantined"
        )

    with open_sink(settings, database) as sink:
        console.print(f"subscribing to {len(config.nodes)} nodes at {config.endpoint}")
        asyncio.run(_run(sink))


def register(app: typer.Typer) -> None:
    """Add the stream collectors to the `ingest` command group."""
    app.command("mqtt")(mqtt)
    app.command("sparkplug")(sparkplug)
    app.command("sparkplug-simulator")(sparkplug_simulator)
    app.command("opcua")(opcua)
