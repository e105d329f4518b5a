"""`carbonlink ingest mqtt|sparkplug|opcua`: live collectors that run until stopped."""

from __future__ import annotations

import inspect
import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from carbonlink.commands.console import err_console as console

if TYPE_CHECKING:
    from carbonlink.ingest.base import ReadingSink
    from carbonlink.ingest.jetstream import JetStreamSink
    from carbonlink.provenance import LedgerSink
    from carbonlink.settings import Settings

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
FailFastOption = Annotated[
    bool,
    typer.Option(
        "--fail-fast",
        help=(
            "Stop with an error when the server cannot be reached at start, instead of "
            "waiting for it (retrying with back-off)."
        ),
    ),
]


@contextmanager
def open_sink(settings: Settings, database: str | None) -> Iterator[LedgerSink]:
    """The store the collectors write to (migrated to the newest schema); flushes handed over
    whole become import batches recorded in the ledger."""
    from carbonlink.ledger import Ledger
    from carbonlink.provenance import LedgerSink
    from carbonlink.store.workspace import open_store

    if database is not None:
        settings = settings.model_copy(update={"database_url": database})
    store = open_store(settings)
    try:
        yield LedgerSink(store, Ledger(store.engine))
    finally:
        store.engine.dispose()


@contextmanager
def open_stream_or_store(
    settings: Settings, database: str | None, kind: str
) -> Iterator[LedgerSink | JetStreamSink]:
    """With CARBONLINK_NATS_URL set (and no --database): the JetStream ingest stream, which
    `carbonlink worker ingest` processes store from; otherwise the store itself."""
    if settings.nats_url and database is None:
        from carbonlink.ingest.jetstream import JetStreamSink, StreamSpec

        spec = StreamSpec.from_settings(settings)
        console.print(f"publishing readings to JetStream stream {spec.stream} at {spec.address}")
        sink = JetStreamSink(spec, kind)
        try:
            yield sink
        finally:
            sink.close()
        return
    with open_sink(settings, database) as store:
        yield store


def _log_to_console() -> None:
    """Show the collectors' connection changes (lost, retrying, reconnected) on stderr, one
    unwrapped line each, so that a log file or a script reads them whole."""
    import sys

    logger = logging.getLogger("carbonlink.ingest")
    logger.setLevel(logging.INFO)
    if not any(getattr(h, "_carbonlink_console", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        handler._carbonlink_console = True  # type: ignore[attr-defined]
        logger.addHandler(handler)


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
                "YAML file listing the topics to subscribe to and the meter each feeds; "
                "it may also set host, port and client_id."
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
    rules: Annotated[
        Path | None,
        typer.Option(
            help=(
                "YAML file of alert rules checked on every stored batch: "
                "{meters: [ids…], rules: [{id, kind: threshold|rate_of_change|meter_offline, "
                "meter_id, above/below/max_change_per_hour/offline_after}]}. Alerts are printed "
                "and, with --webhook, posted signed (secret from CARBONLINK_WEBHOOK_SECRET)."
            ),
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    webhook: Annotated[
        str | None, typer.Option(help="URL that receives each alert as signed JSON.")
    ] = None,
    fail_fast: FailFastOption = False,
) -> None:
    """Collect meter readings from an MQTT broker (JSON payloads, QoS 1) until Ctrl-C.

    Each message is acknowledged to the broker only after it is stored, and the broker keeps
    a persistent session for the client id, so stopping or crashing the collector loses
    nothing; messages sent again are recognised by meter and time and ignored. Messages that
    cannot be read are kept in quarantine with the reason.

    Mapping example: topics: [{topic: 'plant/+/energy/+', meter: '{1}.{3}', unit: kWh}] —
    '+' matches one topic level, '#' all remaining ones; '{N}' in the meter id is topic level
    N counted from 0, so plant/mill1/energy/EM-07 feeds meter mill1.EM-07.

    Messages are JSON objects such as {"ts": "2025-03-01T08:15:00+08:00", "value": 812.5,
    "unit": "kWh"}; ts may also be Unix epoch milliseconds (a number that only makes sense as
    seconds is quarantined, not guessed), and a JSON list carries several readings. Local
    times without an offset need 'timezone' in the mapping entry.

    Readings are checked against the meter registry as file imports are: unknown meters, a
    unit of another kind than the meter's, values outside the meter's min_value/max_value and
    times before 2000 or more than a day ahead go to quarantine with the reason. The mapping
    may register meters first: meters: [{id: mill1.EM-07, kind: register, unit: kWh}].

    The collector waits for the broker at start and reconnects with back-off after an outage,
    forever, saying so on the console; --fail-fast stops at once when the broker is away.

    Broker: give Mosquitto 'persistence true' and a 'max_queued_messages' large enough for
    the longest outage of the collector (the default 1000 drops messages beyond it).
    """
    from carbonlink.ingest.mqtt import MqttCollector, load_config
    from carbonlink.provenance import LedgerSink

    settings: Settings = ctx.obj
    config = load_config(
        mapping,
        defaults={"host": settings.mqtt_host, "port": settings.mqtt_port},
        host=host,
        port=port,
        client_id=client_id,
        batch_size=batch_size,
        fail_fast=fail_fast or None,
    )
    stop = _stop_on_signals()
    _log_to_console()
    with open_stream_or_store(settings, database, "mqtt") as store:
        if not isinstance(store, LedgerSink):
            # The workers check readings against the registry and evaluate the saved rules.
            if rules is not None or config.meters:
                from carbonlink.errors import InputError

                raise InputError(
                    "with the JetStream ingest stream, register meters and alert rules in the "
                    "database the workers write to, not in the collector",
                    hint="drop --rules and 'meters:', or unset CARBONLINK_NATS_URL",
                )
            collector = MqttCollector(config, store, meters=None)
        else:
            for meter in config.meters:
                store.store.save_meter(meter.to_meter())
            sink = store if rules is None else _alerting(store, rules, webhook)
            collector = MqttCollector(config, sink, meters=store.store.meters)
        console.print(
            f"collecting from mqtt://{config.host}:{config.port} as '{config.client_id}' "
            f"({len(config.topics)} topic filters); Ctrl-C to stop"
        )
        stats = collector.run(stop)
        streamed = not isinstance(store, LedgerSink)
    if streamed:
        console.print(
            f"received {stats.received}, handed {stats.stored} readings and "
            f"{stats.quarantined} unreadable records to the ingest stream for the workers"
        )
        return
    console.print(
        f"received {stats.received}, stored {stats.stored} new readings, "
        f"{stats.duplicates} duplicates ignored, {stats.quarantined} quarantined"
    )


def _alerting(store: ReadingSink, rules_file: Path, webhook: str | None) -> ReadingSink:
    """Wrap the store so that alert rules run on each batch as it is stored."""
    import os

    import yaml

    from carbonlink.errors import InputError
    from carbonlink.monitor.live import AlertingSink
    from carbonlink.monitor.notify import NotificationError, Webhook
    from carbonlink.monitor.rules import AlertEvent, RuleEngine, validate_rules
    from carbonlink.store import Store

    document = yaml.safe_load(rules_file.read_text(encoding="utf-8")) or {}
    if not isinstance(document, dict) or not document.get("meters"):
        raise InputError(
            "a rules file needs 'meters' (the meter ids watched) and 'rules'",
            file=str(rules_file),
        )
    meters = [str(m) for m in document["meters"]]
    try:
        checked = validate_rules(document.get("rules") or [], known_meters=meters)
    except InputError as exc:
        exc.file = str(rules_file)
        raise
    channel = None
    if webhook:
        secret = os.environ.get("CARBONLINK_WEBHOOK_SECRET", "")
        if not secret:
            raise InputError(
                "--webhook needs a signing secret", hint="set CARBONLINK_WEBHOOK_SECRET"
            )
        channel = Webhook(webhook, secret.encode())

    def notify(events: list[AlertEvent]) -> None:
        if isinstance(store, Store):  # the dashboard's alerts page lists them
            from carbonlink.api.results import record_meter_alert_events

            record_meter_alert_events(store.engine, events, {r.id: r for r in checked})
        for event in events:
            console.print(f"[bold]{event.action}[/] {event.severity} {event.ts}: {event.message}")
            if channel is not None:
                try:
                    channel.send(event)
                except NotificationError as exc:
                    # The reading is stored and the alert stays open; say so and go on.
                    console.print(f"[yellow]warning:[/] {exc}")

    return AlertingSink(store, RuleEngine(checked, meters), notify)


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
    fail_fast: FailFastOption = False,
    reconnect_max: Annotated[
        float,
        typer.Option(help="Longest wait (s) between two attempts to reach the broker."),
    ] = 30.0,
) -> None:
    """Run a Sparkplug B host application: store every numeric metric of the edge nodes.

    Meters are named <group>/<edge node>/<metric> for node metrics and
    <group>/<edge node>/<device>/<metric> for device metrics, e.g.
    demo-plant/mill1-gateway/EM-01/Active Energy. Units come from the 'engUnit' property in
    the birth certificates (or --default-unit). The host publishes its STATE on
    spBv1.0/STATE/<host id> and watches it (declared offline while running, it says online
    again); when a message of an edge node is missing (a seq gap) it waits --reorder-timeout
    seconds, stores the messages it held (quality good+seq_gap), then asks the node to resend
    its births (rebirth).

    The host waits for the broker at start and, after an outage, reconnects with back-off
    (doubling up to --reconnect-max seconds, with jitter) forever, saying so on the console,
    and asks the edge nodes it knows for a rebirth; --fail-fast stops at once when the broker
    is away at start.
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
        fail_fast=fail_fast,
        reconnect_max=reconnect_max,
    )
    stop = _stop_on_signals()
    _log_to_console()
    with open_stream_or_store(settings, database, "sparkplug") as sink:
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
    from carbonlink.settings import Settings

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
                "YAML file with the server endpoint and the nodes to monitor, each with the "
                "meter it feeds and its unit."
            ),
            exists=True,
            dir_okay=False,
        ),
    ],
    endpoint: Annotated[
        str | None, typer.Option(help="Server endpoint URL, overrides the file.")
    ] = None,
    database: DatabaseOption = None,
    fail_fast: FailFastOption = False,
) -> None:
    """Collect meter values from an OPC UA server by subscription until Ctrl-C.

    Values keep the device's SourceTimestamp and status code; values with a Bad status are
    quarantined with the status name, Uncertain ones are stored marked 'uncertain'.

    Node list example: endpoint: opc.tcp://10.0.0.5:4840, nodes: [{node_id:
    'ns=2;s=Mill1.EM07.ActiveEnergy', meter: mill1.EM07, unit: kWh}]. Optional:
    publishing_interval and sampling_interval (ms), queue_size (samples the server keeps per
    node between two notifications; the newest always survives), reconnect_max (s).

    The collector waits for the server at start and, when the server goes away or restarts,
    connects again with back-off (doubling up to reconnect_max, 30 s, with jitter) forever and
    subscribes anew, saying so on the console; --fail-fast stops at once when the server is
    away at start.
    """
    import asyncio

    from carbonlink.ingest.opcua import OpcUaCollector, load_config

    settings: Settings = ctx.obj
    config = load_config(nodes, endpoint=endpoint, fail_fast=fail_fast or None)
    _log_to_console()
    # The collector reports connection changes itself; asyncua's own notes repeat them (its
    # publish loop logs a traceback for each lost connection).
    logging.getLogger("asyncua").setLevel(logging.ERROR)
    logging.getLogger("asyncua.client.ua_session").setLevel(logging.CRITICAL)

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

    with open_stream_or_store(settings, database, "opcua") as sink:
        console.print(f"subscribing to {len(config.nodes)} nodes at {config.endpoint}")
        asyncio.run(_run(sink))


def _help(command: object) -> str:
    """A docstring as help text: lines of a paragraph joined, paragraphs kept apart."""
    from rich.markup import escape

    paragraphs = inspect.cleandoc(getattr(command, "__doc__", "") or "").split("\n\n")
    # Typer renders help as Rich markup: a bracket in prose ("[/<device>]") must stay text.
    return "\n\n".join(escape(" ".join(p.split())) for p in paragraphs)


def register(app: typer.Typer) -> None:
    """Add the stream collectors to the `ingest` command group."""
    for name, command in (
        ("mqtt", mqtt),
        ("sparkplug", sparkplug),
        ("sparkplug-simulator", sparkplug_simulator),
        ("opcua", opcua),
    ):
        app.command(name, help=_help(command))(command)
