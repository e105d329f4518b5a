"""Energy analytics benchmark: server time of the series, heat map and page on a plant year.

A facility in Shanghai with one meter and its 35 040 quarter hours of 2018 (the size of the
real plant file) is stored in a fresh SQLite workspace (and PostgreSQL with ``--postgres URL``).
Each request goes through the whole app in process (FastAPI, authentication by API key, the
store query, the grouping, the JSON or HTML) and is timed on the server side of the call;
the median and worst of ``--repeat`` runs are printed per range. Target: < 300 ms for any range.

Floor, measured in the same run: reading the same rows from the store (``Store.series``),
which every answer pays before it groups anything.

    python benchmarks/bench_analytics.py [--repeat N] [--postgres URL]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi.testclient import TestClient

from carbonlink.api import create_app
from carbonlink.ingest.base import Reading
from carbonlink.settings import Settings
from carbonlink.store import Store
from carbonlink.store.migrate import upgrade
from carbonlink.store.tenant_data import StoreTenantData
from carbonlink.store.tenants import Facility, Meter
from carbonlink.store.workspace import open_store

ORG = "org-bench"
METER = "plant-kwh"
CASES = [
    (
        "series, the whole year (auto: day)",
        "/api/v1/series",
        {"start": "2018-01-01", "end": "2018-12-31"},
    ),
    (
        "series, the whole year by the hour",
        "/api/v1/series",
        {"start": "2018-01-01", "end": "2018-12-31", "step": "hour"},
    ),
    (
        "series, one month (auto: hour)",
        "/api/v1/series",
        {"start": "2018-03-01", "end": "2018-03-31"},
    ),
    (
        "series, one week (auto: 15 min)",
        "/api/v1/series",
        {"start": "2018-03-05", "end": "2018-03-11"},
    ),
    (
        "series, year as XLSX",
        "/api/v1/series",
        {"start": "2018-01-01", "end": "2018-12-31", "format": "xlsx"},
    ),
    (
        "heat map, the whole year",
        f"/api/v1/meters/{METER}/heatmap",
        {"start": "2018-01-01", "end": "2018-12-31"},
    ),
    (
        "page, the whole year (series + heat map + tables)",
        "/analytics",
        {"start": "2018-01-01", "end": "2018-12-31"},
    ),
    ("page, one month", "/analytics", {"start": "2018-03-01", "end": "2018-03-31"}),
]


def seed(engine: sa.Engine, workspace: Path) -> tuple[TestClient, Store]:
    data = StoreTenantData(Store(engine))
    data.add_organization("Bench Steel", ORG)
    data.add_facility(Facility("fac-bench", ORG, "Bench plant", "Asia/Shanghai"))
    data.add_meter(Meter(METER, ORG, "fac-bench", "Plant electricity", "kWh", None, interval_s=900))
    first = datetime(2018, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    rows = []
    for i in range(365 * 96):
        local = first + timedelta(minutes=15 * i)
        working = 8 <= local.hour < 18 and local.weekday() < 5
        rows.append(Reading(METER, local.astimezone(UTC), 50.0 if working else 5.0, "kWh"))
    data.add_readings(rows)
    app = create_app(Settings(workspace=workspace), engine=engine, data=data)
    key = app.state.ctx.accounts.create_api_key(ORG, "bench", "viewer")
    client = TestClient(app)
    client.headers["Authorization"] = f"Bearer {key}"
    return client, Store(engine)


def timed(call, repeat: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    call()  # warm: imports, caches of the registry and zone data
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        call()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs), max(runs)


def run(engine: sa.Engine, workspace: Path, label: str, repeat: int) -> None:
    client, store = seed(engine, workspace)
    print(f"\n{label}: 35 040 readings, median / worst of {repeat} (ms)")
    med, worst = timed(lambda: store.series(METER), repeat)
    print(f"  {'floor: Store.series, the whole year':52s} {med * 1000:7.1f} {worst * 1000:7.1f}")
    for name, path, params in CASES:
        query = {"meter": METER} | params if path != f"/api/v1/meters/{METER}/heatmap" else params

        def call(path: str = path, query: dict[str, str] = query) -> None:
            response = client.get(path, params=query)
            assert response.status_code == 200, response.text

        med, worst = timed(call, repeat)
        flag = "" if med < 0.3 else "  over the 300 ms target"
        print(f"  {name:52s} {med * 1000:7.1f} {worst * 1000:7.1f}{flag}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--postgres", help="a PostgreSQL URL to measure too (an empty database)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp)
        store = open_store(Settings(workspace=workspace))
        run(store.engine, workspace, "SQLite", args.repeat)
    if args.postgres:
        with tempfile.TemporaryDirectory() as tmp:
            engine = sa.create_engine(args.postgres)
            upgrade(engine)
            run(engine, Path(tmp), "PostgreSQL", args.repeat)


if __name__ == "__main__":
    main()
