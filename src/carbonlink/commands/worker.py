"""`carbonlink worker …`: stateless workers that consume carbonlink's durable logs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from carbonlink.commands.console import err_console as console

if TYPE_CHECKING:
    from carbonlink.settings import Settings

app = typer.Typer(
    name="worker",
    help=(
        "Stateless worker processes for running carbonlink on several machines: start as many "
        "as the load needs, stop or lose any of them without losing data."
    ),
    no_args_is_help=True,
)


@app.command("ingest")
def ingest(
    ctx: typer.Context,
    nats_url: Annotated[
        str | None,
        typer.Option(
            "--nats",
            help="NATS server(s), comma-separated (default CARBONLINK_NATS_URL, else "
            "nats://127.0.0.1:4222).",
        ),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            help="Database URL (default: CARBONLINK_DATABASE_URL, else the workspace's SQLite).",
            show_default=False,
        ),
    ] = None,
    batch: Annotated[
        int,
        typer.Option(
            min=1,
            max=10_000,
            help="Messages fetched and stored per transaction (a collector's flush each).",
        ),
    ] = 50,
    ack_wait: Annotated[
        float,
        typer.Option(
            min=1.0,
            help="Seconds JetStream waits for a worker's acknowledgement before handing the "
            "message to another worker (a killed worker's batch is taken over after this).",
        ),
    ] = 30.0,
    replicas: Annotated[
        int | None,
        typer.Option(min=1, max=5, help="Copies of the stream (default CARBONLINK_NATS_REPLICAS)."),
    ] = None,
    alerts: Annotated[
        bool, typer.Option(help="Evaluate the organizations' threshold and rate-of-change rules.")
    ] = True,
) -> None:
    """Store the readings the collectors publish to the JetStream ingest stream.

    Any number of workers share the stream's durable consumer; each message goes to one of
    them. A worker fetches a batch, checks each reading against the meter registry (refused
    ones are quarantined with the reason, naming the stream message), writes the batch in one
    transaction (PostgreSQL: COPY into a temporary table, then an insert that skips readings
    already stored; SQLite: batched inserts), evaluates the alert rules on the new readings in
    the same transaction, and only then acknowledges the batch. A worker killed at any point
    loses nothing: its batch is handed to another worker after --ack-wait seconds, and no
    reading is stored twice, no alert opened twice.

    While the database is unavailable the worker keeps retrying the write and stops taking
    new batches; the stream buffers what the collectors publish. SIGTERM or Ctrl-C finishes
    the batch in hand, acknowledges it and stops.
    """
    import asyncio
    import logging
    import signal
    import sys

    from carbonlink.ingest.jetstream import StreamSpec
    from carbonlink.store.workspace import open_store
    from carbonlink.workers.ingest import IngestWorker, tune_garbage_collector

    # A stop asked for while the worker is still starting is kept, and honoured at once.
    early_stop: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, _frame: early_stop.append(signum))
    settings: Settings = ctx.obj
    if database is not None:
        settings = settings.model_copy(update={"database_url": database})
    if nats_url is not None:
        settings = settings.model_copy(update={"nats_url": nats_url})
    logger = logging.getLogger("carbonlink")
    logger.setLevel(logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    spec = StreamSpec.from_settings(settings, ack_wait=ack_wait, replicas=replicas)
    store = open_store(settings)
    worker = IngestWorker(
        spec, store.engine, batch=batch, alerts=alerts, notify_key=settings.key_bytes
    )

    async def _run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if early_stop:
            stop.set()
        await worker.run(stop)

    console.print(f"ingest worker: {spec.stream} at {spec.address} → {store.backend}")
    tune_garbage_collector()
    try:
        asyncio.run(_run())
    finally:
        store.engine.dispose()
    console.print(worker.stats.line())
