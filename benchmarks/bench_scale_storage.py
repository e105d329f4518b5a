"""Storage at scale: a year of 15-minute readings for N meters in partitioned PostgreSQL.

``load`` stores a year (2025, Asia/Shanghai plants) of quarter hours for ``--meters`` meters
(2 000 meters = 70 080 000 rows) through the production write path (`Store.add_reading_columns`:
binary COPY into the monthly partitions), one month of 200 meters per batch, with the rollup
triggers on, then brings the day and month rollups up to date (`rollups.refresh`). Floor in the
same run: bare binary COPY of the same rows into an unpartitioned, unindexed table, for the first
month.

``measure`` times, on the loaded database, the server time of the overview page and a meter's
page (whole app in process: FastAPI, API key, queries, template) and of the year's series by day
and by month answered from rollups beside the same answer computed from raw readings, and
``recompute`` throughput: the monthly activity of the meters, single process beside Dask
(LocalCluster, ``--workers``).

    python benchmarks/bench_scale_storage.py \
        --url postgresql+psycopg://postgres@127.0.0.1/carbonlink_bench \
        --meters 50 [--phase load|measure|all]

Use a database of its own: ``load`` empties it first. Run niced; the full load takes the best
part of an hour on two cores.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from carbonlink.store import Store
from carbonlink.store import rollups as rollup_store
from carbonlink.store.migrate import upgrade
from carbonlink.store.repository import ReadingColumns
from carbonlink.store.schema import to_epoch_us

ORG = "org-bench"
ZONE = "Asia/Shanghai"
YEAR = 2025
PER_FACILITY = 100
STEP_US = 900 * 1_000_000
BATCH_METERS = 200


def meter_ids(n: int) -> list[str]:
    return [f"m-{i:05d}" for i in range(n)]


def facility_of(i: int) -> str:
    return f"fac-{i // PER_FACILITY:03d}"


def month_values(meter: int, ts_us: np.ndarray) -> np.ndarray:
    """A plant-like kWh profile: a base load per meter, a working-hours shift, some noise, kept
    to three decimals as a meter would send it."""
    hour = ((ts_us // 3_600_000_000) + 8) % 24  # Shanghai is UTC+8
    rng = np.random.default_rng(meter * 1_000_003 + int(ts_us[0] // STEP_US))
    base = 5.0 + (meter % 17)
    shift = np.where((hour >= 8) & (hour < 18), 40.0, 0.0)
    return np.round(base + shift + rng.normal(0.0, 1.0, len(ts_us)), 3)


def reset(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        connection.exec_driver_sql("DROP SCHEMA IF EXISTS reading_partitions CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    upgrade(engine)


def catalogue(engine: sa.Engine, n: int) -> None:
    from carbonlink.store.tenant_data import StoreTenantData
    from carbonlink.store.tenants import EmissionFactorRef, Facility, Meter, Source

    data = StoreTenantData(Store(engine))
    data.add_organization("Bench Steel Group", ORG)
    for f in sorted({facility_of(i) for i in range(n)}):
        data.add_facility(Facility(f, ORG, f"Plant {f[-3:]}", ZONE))
        factor = EmissionFactorRef(0.0005703, "kWh", "MEE 2024 national grid", "grid electricity")
        data.add_source(Source(f"{f}-grid", ORG, f, "Grid electricity", 2, factor=factor))
    for i, meter in enumerate(meter_ids(n)):
        data.add_meter(
            Meter(
                meter,
                ORG,
                facility_of(i),
                f"Feeder {i}",
                "kWh",
                f"{facility_of(i)}-grid",
                interval_s=900,
            )
        )


def months() -> list[tuple[int, int]]:
    start = datetime(YEAR, 1, 1, tzinfo=UTC)
    out = []
    for m in range(12):
        lo = datetime(YEAR, m + 1, 1, tzinfo=UTC)
        hi = datetime(YEAR + (m + 1) // 12, (m + 1) % 12 + 1, 1, tzinfo=UTC)
        out.append((to_epoch_us(lo), to_epoch_us(hi)))
    assert out[0][0] == to_epoch_us(start)
    return out


def batch(ids: list[str], first: int, lo: int, hi: int, batch_id: str) -> ReadingColumns:
    ts = np.arange(lo, hi, STEP_US, dtype=np.int64)
    per = len(ts)
    meters: list[str] = []
    values = []
    for k, meter in enumerate(ids):
        meters += [meter] * per
        values.append(month_values(first + k, ts))
    return ReadingColumns(
        meters,
        np.tile(ts, len(ids)),
        np.concatenate(values),
        ["kWh"] * (per * len(ids)),
        batch_id=batch_id,
    )


def floor_copy(engine: sa.Engine, columns: ReadingColumns) -> float:
    """Seconds of a bare binary COPY of the rows into an unindexed, unpartitioned table."""
    from carbonlink.store.pg_copy import binary_copy_blocks

    raw = engine.raw_connection()
    try:
        cursor: Any = raw.cursor()
        cursor.execute(
            "CREATE TEMP TABLE floor_readings (meter_id text, ts bigint, value float8, unit text,"
            " quality text, batch_id text, source_ref text)"
        )
        t0 = time.perf_counter()
        with cursor.copy("COPY floor_readings FROM STDIN (FORMAT BINARY)") as copy:
            for block in binary_copy_blocks(columns):
                copy.write(block)
        seconds = time.perf_counter() - t0
        raw.rollback()
    finally:
        raw.close()
    return seconds


def load(engine: sa.Engine, n: int) -> None:
    t_all = time.perf_counter()
    reset(engine)
    catalogue(engine, n)
    store = Store(engine, refresh_rollups=False)
    ids = meter_ids(n)
    total = 0
    copy_s = 0.0
    floor_rows = 0
    floor_s = 0.0
    for m, (lo, hi) in enumerate(months()):
        for start in range(0, n, BATCH_METERS):
            chunk = ids[start : start + BATCH_METERS]
            columns = batch(chunk, start, lo, hi, f"bench-{YEAR}-{m + 1:02d}-{start:05d}")
            if m == 0 and start == 0:
                floor_s = floor_copy(engine, columns)
                floor_rows = len(columns)
            t0 = time.perf_counter()
            new = store.add_reading_columns(columns)
            copy_s += time.perf_counter() - t0
            assert new == len(columns), (new, len(columns))
            total += new
        print(
            f"  {YEAR}-{m + 1:02d}: {total:,} rows, {total / copy_s:,.0f} rows/s "
            f"({store.last_path}), {time.perf_counter() - t_all:.0f} s in all",
            flush=True,
        )
    print(
        f"readings: {total:,} rows in {copy_s:.0f} s = {total / copy_s:,.0f} rows/s "
        f"through Store.add_reading_columns"
    )
    print(
        f"floor: bare binary COPY of {floor_rows:,} rows: {floor_rows / floor_s:,.0f} rows/s "
        f"(write path / floor = {floor_rows / floor_s / (total / copy_s):.2f}x slower)"
    )
    t0 = time.perf_counter()
    pending = rollup_store.pending_count(engine)
    meters = rollup_store.refresh(engine)
    refresh_s = time.perf_counter() - t0
    print(
        f"rollups: {pending:,} changed meter-days of {meters:,} meters in {refresh_s:.0f} s "
        f"= {total / refresh_s:,.0f} readings/s"
    )
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
        sizes = connection.exec_driver_sql(
            "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))), "
            "sum(pg_total_relation_size(c.oid)) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'readings'::regclass"
        ).one()
        rollup_size = connection.exec_driver_sql(
            "SELECT pg_size_pretty(pg_total_relation_size('reading_rollups'))"
        ).scalar()
    print(
        f"disk: readings {sizes[0]} ({int(sizes[1]) / total:.0f} bytes a reading with its "
        f"index), rollups {rollup_size}"
    )
    print(f"load done in {time.perf_counter() - t_all:.0f} s", flush=True)


def timed(call: Any, repeat: int) -> tuple[float, float]:
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        call()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs), max(runs)


def report(name: str, med: float, worst: float, target: float | None = 0.3) -> None:
    flag = "" if target is None or med < target else f"  over the {target * 1000:.0f} ms target"
    print(f"  {name:60s} {med * 1000:9.1f} {worst * 1000:9.1f}{flag}", flush=True)


def inventory(facilities: int, meters_each: int) -> str:
    lines = [
        "organization: Bench Steel Group",
        f"period: {{start: {YEAR}-01-01, end: {YEAR}-12-31}}",
        "gwp: AR5",
        "jurisdiction: CN",
        "facilities:",
    ]
    for f in range(facilities):
        lines += [
            f"  - id: fac-{f:03d}",
            "    grid: CN-North",
            f"    timezone: {ZONE}",
            "    sources:",
        ]
        for k in range(meters_each):
            meter = f"m-{f * PER_FACILITY + k:05d}"
            lines.append(
                f"      - {{id: feeder-{k}, method: electricity, "
                f"activity: {{meter: {meter}, unit: MWh}}}}"
            )
    return "\n".join(lines) + "\n"


def measure(engine: sa.Engine, n: int, repeat: int, raw_overview: bool) -> None:
    from fastapi.testclient import TestClient

    from carbonlink.api import create_app
    from carbonlink.monitor.series import bucket
    from carbonlink.settings import Settings
    from carbonlink.store.tenant_data import StoreTenantData

    with engine.connect() as connection:
        # the planner's count (a count(*) of 70 M rows would take a minute)
        rows = connection.exec_driver_sql(
            "SELECT sum(c.reltuples)::bigint FROM pg_inherits i JOIN pg_class c "
            "ON c.oid = i.inhrelid WHERE i.inhparent = 'readings'::regclass"
        ).scalar()
        parts = connection.exec_driver_sql(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'readings'::regclass"
        ).scalar()
    print(
        f"\n{rows:,} readings of {n:,} meters in {parts} partitions; median / worst of "
        f"{repeat} (ms), server time in process"
    )
    tmp = tempfile.TemporaryDirectory()
    app = create_app(Settings(workspace=Path(tmp.name)), engine=engine)
    ctx = app.state.ctx
    key = ctx.accounts.create_api_key(ORG, "bench", "viewer")
    client = TestClient(app)
    client.headers["Authorization"] = f"Bearer {key}"
    meter = "m-00001"

    def get(path: str, params: dict[str, str] | None = None) -> None:
        response = client.get(path, params=params)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])

    def cold(path: str) -> None:
        ctx.overviews._entries.clear()
        ctx.runs._entries.clear()
        get(path)

    get("/")  # warm: imports, templates, zone data
    report(
        "overview page /, cold (month rollups, caches emptied)", *timed(lambda: cold("/"), repeat)
    )
    report("overview page /, as cached for the data version", *timed(lambda: get("/"), repeat))
    report(
        f"meter page /meters/{meter}, cold (last readings + a year's anomalies)",
        *timed(lambda: cold(f"/meters/{meter}"), repeat),
    )
    report(f"meter page /meters/{meter}, cached", *timed(lambda: get(f"/meters/{meter}"), repeat))
    year = {"meter": meter, "start": f"{YEAR}-01-01", "end": f"{YEAR}-12-31"}
    report(
        "series API, a year by day (day rollups)",
        *timed(lambda: get("/api/v1/series", year), repeat),
    )
    report(
        "series API, a year by month (day rollups)",
        *timed(lambda: get("/api/v1/series", year | {"step": "month"}), repeat),
    )
    report(
        "series API, a month by the hour (raw readings)",
        *timed(
            lambda: get("/api/v1/series", year | {"end": f"{YEAR}-01-31", "step": "hour"}), repeat
        ),
    )
    store = Store(engine, refresh_rollups=False)
    lo = to_epoch_us(datetime(YEAR - 1, 12, 31, 16, tzinfo=UTC))
    hi = to_epoch_us(datetime(YEAR, 12, 31, 16, tzinfo=UTC))

    def raw_year() -> None:
        ts, values = store.series_values(
            meter, datetime.fromtimestamp(lo / 1e6, UTC), datetime.fromtimestamp(hi / 1e6, UTC)
        )
        bucket(ts, values, ZONE, "day")

    report(
        "floor: the same year by day from raw readings (read + group)",
        *timed(raw_year, repeat),
        None,
    )
    data = StoreTenantData(store)
    report(
        "overview's month sums from rollups (all meters)",
        *timed(lambda: data._monthly_now(ORG), repeat),
    )
    if raw_overview:
        report(
            "overview's month sums from raw readings (all meters)",
            *timed(lambda: data._monthly_raw(ORG), max(1, repeat // 3)),
            None,
        )
    tmp.cleanup()


def recompute_bench(engine: sa.Engine, n: int, workers: int) -> None:
    from dask.distributed import Client, LocalCluster

    from carbonlink.ledger import Ledger, generate_ledger_key
    from carbonlink.provenance import recompute as rc

    facilities = min(4, max(1, n // PER_FACILITY))
    each = min(10, n)
    text = inventory(facilities, each)
    url = engine.url.render_as_string(hide_password=False)
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp)
        generate_ledger_key(workspace, "bench.example/group")
        store, ledger = Store(engine, refresh_rollups=False), Ledger(engine)
        common: dict[str, Any] = {
            "file_name": "bench.yaml",
            "period": str(YEAR),
            "url": url,
            "record": False,
        }
        single = rc.recompute(store, ledger, workspace, text, **common)
        meters = facilities * each
        print(
            f"\nrecompute {YEAR}: {facilities} facilities × {each} metered sources × 12 months = "
            f"{single.partitions} partitions, {meters * 35_040:,} readings"
        )
        print(
            f"  single process: {single.seconds:.1f} s = {single.partitions / single.seconds:.2f} "
            f"partitions/s"
        )
        for count in sorted({1, workers}):
            with (
                LocalCluster(
                    n_workers=count, threads_per_worker=1, dashboard_address=":0", processes=True
                ) as cluster,
                Client(cluster) as client,
            ):
                spread = rc.recompute(
                    store,
                    ledger,
                    workspace,
                    text,
                    runner=rc.dask_runner(client),
                    scheduler="dask",
                    workers=count,
                    **common,
                )
            same = "identical bytes" if spread.canonical == single.canonical else "DIFFERENT BYTES"
            print(
                f"  Dask LocalCluster, {count} worker(s): {spread.seconds:.1f} s = "
                f"{spread.partitions / spread.seconds / count:.2f} partitions/s per worker "
                f"({single.seconds / spread.seconds:.2f}x the single process; {same})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="PostgreSQL URL of a database of its own")
    parser.add_argument("--meters", type=int, default=50)
    parser.add_argument("--phase", choices=("load", "measure", "all"), default="all")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2, help="Dask workers for recompute")
    parser.add_argument("--skip-recompute", action="store_true", help="pages and series only")
    parser.add_argument(
        "--raw-overview",
        action="store_true",
        help="also build the overview from raw readings (reads every reading into memory: "
        "only for small --meters)",
    )
    args = parser.parse_args()
    from carbonlink.store.engine import create_store_engine

    engine = create_store_engine(args.url)
    if engine.dialect.name != "postgresql":
        sys.exit("the benchmark needs PostgreSQL (--url postgresql+psycopg://…)")
    if args.phase in ("load", "all"):
        print(f"loading {args.meters:,} meters × a year of quarter hours", flush=True)
        load(engine, args.meters)
    if args.phase in ("measure", "all"):
        measure(engine, args.meters, args.repeat, args.raw_overview)
        if not args.skip_recompute:
            recompute_bench(engine, args.meters, args.workers)


if __name__ == "__main__":
    main()
