"""File import throughput against the floors of each database, measured in the same run.

SQLite: carbonlink's CSV import (parse, check, quarantine, INSERT OR IGNORE on the (meter, ts)
key) against a bare ``executemany`` of the very same rows into the same keyed table.
PostgreSQL: the same import through COPY → staging → INSERT … ON CONFLICT DO NOTHING against a
bare binary COPY of the same rows into the same keyed table.

    .venv/bin/python benchmarks/bench_ingest.py [--rows 100000] [--meters 10]

PostgreSQL runs when CARBONLINK_TEST_POSTGRES_URL (or CARBONLINK_DATABASE_URL) names a server,
or the default local one answers; each run works in a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from carbonlink.ingest.file_import import import_file
from carbonlink.ingest.mapping import FileMapping, load_mapping, shipped_mapping
from carbonlink.store import Store, create_store_engine, upgrade
from carbonlink.store.repository import READING_COLUMNS

PLANT_FILE = Path("data") / "steel-industry-energy" / "Steel_industry_data.csv"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/carbonlink_test"


def write_plant_csv(path: Path, rows: int, meters: int) -> FileMapping:
    """A wide CSV like a plant export: day-first local end stamps, one kWh column per meter."""
    rng = np.random.default_rng(1)
    values = np.round(rng.gamma(2.0, 20.0, size=(rows, meters)), 2)
    start = datetime(2016, 1, 1)
    stamps = [
        (start + timedelta(minutes=15 * (i + 1))).strftime("%d/%m/%Y %H:%M") for i in range(rows)
    ]
    header = "date," + ",".join(f"feeder_{m:02d}_kWh" for m in range(meters))
    body = "\n".join(
        stamp + "," + ",".join(f"{v:.2f}" for v in row)
        for stamp, row in zip(stamps, values.tolist(), strict=True)
    )
    path.write_text(header + "\n" + body + "\n", encoding="utf-8-sig")
    return FileMapping.model_validate(
        {
            "timestamp": {
                "column": "date",
                "format": "%d/%m/%Y %H:%M",
                "time_zone": "Asia/Seoul",
                "labelling": "end",
            },
            "values": [
                {"column": f"feeder_{m:02d}_kWh", "meter": f"feeder-{m:02d}", "unit": "kWh"}
                for m in range(meters)
            ],
            "meters": [
                {"id": f"feeder-{m:02d}", "kind": "interval", "unit": "kWh", "min_value": 0}
                for m in range(meters)
            ],
        }
    )


def stored_rows(engine: Engine) -> list[tuple[Any, ...]]:
    """The readings as stored, in key order: the floor loads exactly these rows."""
    with engine.connect() as connection:
        query = f"SELECT {', '.join(READING_COLUMNS)} FROM readings ORDER BY meter_id, ts"
        return [tuple(row) for row in connection.exec_driver_sql(query)]


def timed_import(store: Store, path: Path, mapping: FileMapping) -> tuple[float, int]:
    started = time.perf_counter()
    report = import_file(path, mapping, store)
    return time.perf_counter() - started, report.readings_new


def sqlite_floor(engine: Engine, rows: list[tuple[Any, ...]]) -> float:
    """Seconds for one bare executemany of ``rows`` into the keyed readings table."""
    placeholders = ", ".join("?" * len(READING_COLUMNS))
    sql = f"INSERT INTO readings ({', '.join(READING_COLUMNS)}) VALUES ({placeholders})"
    with engine.begin() as connection:
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        started = time.perf_counter()
        cursor.executemany(sql, rows)
    return time.perf_counter() - started


def postgres_floor(engine: Engine, rows: list[tuple[Any, ...]]) -> float:
    """Seconds for one bare binary COPY of ``rows`` into the keyed readings table."""
    sql = f"COPY readings ({', '.join(READING_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
    with engine.begin() as connection:
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        started = time.perf_counter()
        with cursor.copy(sql) as copy:
            copy.set_types(["text", "int8", "float8", "text", "text", "text", "text"])
            for row in rows:
                copy.write_row(row)
    return time.perf_counter() - started


@contextmanager
def postgres_schema(url: str) -> Iterator[Engine]:
    """An engine on a fresh, migrated schema that is dropped afterwards."""
    name = f"carbonlink_bench_{uuid.uuid4().hex[:10]}"
    admin = create_store_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{name}"'))
    engine = create_store_engine(url, connect_args={"options": f"-csearch_path={name}"})
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


def line(label: str, n: int, seconds: float) -> float:
    rate = n / seconds
    print(f"  {label:<52} {n:>9,} rows  {seconds:7.3f} s  {rate:>11,.0f} rows/s")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="CSV rows (time stamps)")
    parser.add_argument("--meters", type=int, default=10, help="meter columns per row")
    args = parser.parse_args()
    n = args.rows * args.meters
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv_path = folder / "plant.csv"
        mapping = write_plant_csv(csv_path, args.rows, args.meters)
        size = csv_path.stat().st_size / 1e6
        print(f"file: {args.rows:,} rows × {args.meters} meters = {n:,} readings, {size:.1f} MB")

        # warm-up: the first import of a process builds the unit registry and loads pandas
        warm_path = folder / "warm.csv"
        warm_mapping = write_plant_csv(warm_path, 100, args.meters)
        warm_engine = create_store_engine(f"sqlite:///{folder / 'warm.db'}")
        upgrade(warm_engine)
        import_file(warm_path, warm_mapping, Store(warm_engine))
        warm_engine.dispose()

        print("SQLite (WAL, keyed WITHOUT ROWID table)")
        engine = create_store_engine(f"sqlite:///{folder / 'import.db'}")
        upgrade(engine)
        seconds, new = timed_import(Store(engine), csv_path, mapping)
        assert new == n, f"expected {n} new readings, got {new}"
        ours = line("carbonlink import (parse + check + INSERT OR IGNORE)", n, seconds)
        seconds, new = timed_import(Store(engine), csv_path, mapping)
        assert new == 0
        line("re-import of the same file (all duplicates)", n, seconds)
        rows = stored_rows(engine)
        engine.dispose()
        floor_engine = create_store_engine(f"sqlite:///{folder / 'floor.db'}")
        upgrade(floor_engine)
        floor = line(
            "floor: bare executemany of the same rows", n, sqlite_floor(floor_engine, rows)
        )
        floor_engine.dispose()
        print(f"  ratio import / floor: {ours / floor:.2f}")
        plant = Path(__file__).resolve().parents[1].parent / "shared" / PLANT_FILE
        if plant.is_file():
            plant_engine = create_store_engine(f"sqlite:///{folder / 'plant.db'}")
            upgrade(plant_engine)
            plant_mapping = load_mapping(shipped_mapping("steel_industry"))
            seconds, new = timed_import(Store(plant_engine), plant, plant_mapping)
            line("the real steel plant file (UCI), shipped mapping", new, seconds)
            plant_engine.dispose()

        url = os.environ.get("CARBONLINK_TEST_POSTGRES_URL") or DEFAULT_POSTGRES
        print(f"PostgreSQL ({url.rsplit('@', 1)[-1]}, keyed table)")
        try:
            with postgres_schema(url) as pg:
                store = Store(pg)
                seconds, new = timed_import(store, csv_path, mapping)
                assert new == n, f"expected {n} new readings, got {new}"
                ours = line(f"carbonlink import, new data ({store.last_path})", n, seconds)
                seconds, new = timed_import(store, csv_path, mapping)
                assert new == 0
                line(f"re-import, all duplicates ({store.last_path} → ON CONFLICT)", n, seconds)
            with postgres_schema(url) as pg:
                floor = line(
                    "floor: bare binary COPY of the same rows", n, postgres_floor(pg, rows)
                )
            print(f"  ratio import / floor: {ours / floor:.2f}")
        except OperationalError as exc:
            print(f"  skipped: PostgreSQL unreachable ({exc.orig})")


if __name__ == "__main__":
    main()
