"""`carbonlink store …` (partitions and rollups) and `carbonlink recompute` (many facilities)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from carbonlink.commands.console import console, err_console

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from carbonlink.settings import Settings

app = typer.Typer(
    name="store",
    help=(
        "Keep the readings store in shape at scale: monthly partitions of the readings table on "
        "PostgreSQL (created ahead, old ones detached to files) and the day and month rollups "
        "that dashboards and series read instead of raw readings."
    ),
    no_args_is_help=True,
)


def _engine(settings: Settings) -> Engine:
    from carbonlink.store.workspace import open_store

    return open_store(settings).engine


@app.command()
def partitions(
    ctx: typer.Context,
    ahead: Annotated[
        int, typer.Option("--ahead", min=0, help="Months after this one to create now.")
    ] = 3,
) -> None:
    """Create the monthly partitions of this month and the next ones; list them all.

    Writers create a missing month themselves; running this from a daily timer keeps that off
    the write path. On SQLite there is nothing to do (one plain table).
    """
    from carbonlink.store import partitions as parts

    engine = _engine(ctx.obj)
    if engine.dialect.name != "postgresql":
        console.print("SQLite keeps the readings in one table: no partitions to create.")
        return
    created = parts.create_ahead(engine, ahead)
    for month in created:
        console.print(f"created {parts.table_name(month)}")
    with engine.connect() as connection:
        for part in parts.partitions(connection):
            console.print(f"{part.name}\t{part.month:%Y-%m}\t~{part.rows:,} readings")


@app.command()
def detach(
    ctx: typer.Context,
    before: Annotated[
        str, typer.Option("--before", help="Detach every month before this one (YYYY-MM).")
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the compressed copies and their manifests.")
    ] = Path("detached-readings"),
    drop: Annotated[
        bool, typer.Option("--drop", help="Drop each detached table once its copy is written.")
    ] = False,
    tablespace: Annotated[
        str | None,
        typer.Option("--tablespace", help="Move each detached table to this (cheaper) tablespace."),
    ] = None,
) -> None:
    """Write each monthly partition before a month to a gzip file, then detach it.

    The day and month rollups stay, so dashboards keep those months; raw readings of them are
    no longer read by series, accounting or exports until the file is loaded again.
    """
    from carbonlink.store import partitions as parts

    month = parts.parse_month(before)
    engine = _engine(ctx.obj)
    if engine.dialect.name != "postgresql":
        console.print("SQLite keeps the readings in one table: no partitions to detach.")
        return
    done = parts.detach_before(engine, month, out, drop=drop, tablespace=tablespace)
    for manifest in done:
        console.print(
            f"detached {manifest['partition']}: {manifest['rows']:,} readings in "
            f"{out / manifest['file']} (sha256 {manifest['sha256'][:16]}…)"
        )
    if not done:
        console.print(f"no partition before {before}")


@app.command()
def rollups(
    ctx: typer.Context,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild",
            help="Drop every rollup and compute them again from all raw readings (after a "
            "facility's time zone was changed).",
        ),
    ] = False,
) -> None:
    """Bring the day and month rollups up to date with the readings written since."""
    import time

    from carbonlink.store import rollups as rollup_store

    engine = _engine(ctx.obj)
    began = time.perf_counter()
    meters = rollup_store.rebuild(engine) if rebuild else rollup_store.refresh(engine)
    console.print(
        f"rollups of {meters:,} meter(s) brought up to date in {time.perf_counter() - began:.1f} s"
    )


def recompute_command(
    ctx: typer.Context,
    inventory: Annotated[Path, typer.Argument(help="Inventory YAML file (facilities, sources).")],
    period: Annotated[
        str, typer.Option("--period", help="A year (YYYY) or a month (YYYY-MM) to recompute.")
    ],
    dask: Annotated[
        str | None,
        typer.Option(
            "--dask",
            help="Run the (facility, month) tasks on Dask: 'local' starts a LocalCluster, an "
            "address (tcp://host:8786) uses that scheduler's workers.",
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Workers of the LocalCluster.")
    ] = 2,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the canonical JSON of the results to this file."),
    ] = None,
) -> None:
    """Recompute activity and accounting for every facility and month of a period.

    Each (facility, month) is accounted as `carbonlink account` does; the results are one
    canonical JSON document whose SHA-256 is the same whichever way the tasks ran, recorded
    with a calculation-run entry in the ledger. Without --dask the tasks run in this process.
    """
    from carbonlink.ledger import Ledger
    from carbonlink.provenance import recompute as rc
    from carbonlink.store.workspace import open_store

    settings = ctx.obj
    store = open_store(settings)
    text = inventory.read_text("utf-8")
    url = store.engine.url.render_as_string(hide_password=False)

    def run_with(runner: rc.Runner, where: str, count: int) -> rc.RecomputeRun:
        return rc.recompute(
            store,
            Ledger(store.engine),
            settings.workspace,
            text,
            file_name=str(inventory),
            period=period,
            url=url,
            runner=runner,
            scheduler=where,
            workers=count,
        )

    if dask is None:
        run = run_with(rc.run_in_process, "a single process", 1)
    else:
        from dask.distributed import Client, LocalCluster

        cluster = None
        if dask == "local":
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, dashboard_address=":0", processes=True
            )
            client = Client(cluster)
            where = f"Dask LocalCluster, {workers} worker(s)"
        else:
            client = Client(dask)
            workers = len(client.scheduler_info()["workers"])
            where = f"Dask scheduler {dask}, {workers} worker(s)"
        try:
            run = run_with(rc.dask_runner(client), where, workers)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    if out is not None:
        out.write_bytes(run.canonical)
    failed = [p for p in run.document["partitions"] if "error" in p]
    for part in failed:
        err_console.print(
            f"facility {part['facility']}, {part['month']}: {part['error']['message']}",
            highlight=False,
        )
    console.print(
        f"{run.partitions} partition(s) (facility × month) on {run.scheduler} in "
        f"{run.seconds:.2f} s; {len(failed)} without a result",
        highlight=False,
    )
    console.print(
        f"ledger entry {run.index}: calculation run {run.run_id}, results sha256 "
        f"{run.results_sha256}",
        highlight=False,
    )
