"""Provenance benchmark: what recording and re-checking an import batch costs on SQLite.

Imports one batch of readings (15-minute values of several meters), then times
`record_import_batch` (read the batch's readings back, canonical digest, append the entry)
and `recompute_import_batch` (what ``ledger verify --full`` does per batch). The floor,
measured in the same run, is reading the same rows back from the store with no hashing.

    .venv/bin/python benchmarks/bench_provenance.py [--readings 1000000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import BigInteger, select, type_coerce

from carbonlink.domain.metering import Meter
from carbonlink.ledger import Ledger
from carbonlink.provenance import recompute_import_batch, record_import_batch
from carbonlink.store import ReadingColumns, Store, create_store_engine, upgrade
from carbonlink.store.schema import readings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=1_000_000)
    parser.add_argument("--meters", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = create_store_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        upgrade(engine)
        store, ledger = Store(engine), Ledger(engine)
        per_meter = args.readings // args.meters
        batch_id = store.begin_batch("csv", "bench.csv", file_sha256="0" * 64)
        rng = np.random.default_rng(7)
        for m in range(args.meters):
            meter_id = f"meter-{m:03d}"
            store.save_meter(Meter(id=meter_id, kind="interval", unit="kWh"))
            ts = 1_514_764_800_000_000 + np.arange(per_meter, dtype=np.int64) * 900_000_000
            store.add_reading_columns(
                ReadingColumns(
                    [meter_id] * per_meter,
                    ts,
                    np.round(rng.gamma(2.0, 20.0, per_meter), 2),
                    ["kWh"] * per_meter,
                    batch_id=batch_id,
                )
            )
        total = per_meter * args.meters
        store.finish_batch(
            batch_id, records=total, readings_new=total, readings_duplicate=0, quarantined=0
        )

        start = time.perf_counter()
        query = select(
            readings.c.meter_id,
            type_coerce(readings.c.ts, BigInteger),
            readings.c.value,
            readings.c.unit,
        ).where(readings.c.batch_id == batch_id)
        with engine.connect() as connection:
            floor_rows = len(connection.execute(query).all())
        floor = time.perf_counter() - start

        start = time.perf_counter()
        index = record_import_batch(store, ledger, batch_id)
        record = time.perf_counter() - start

        start = time.perf_counter()
        recompute_import_batch(ledger.entry(index), ledger)
        recompute = time.perf_counter() - start
        engine.dispose()

    print(f"readings in the batch            {total:,} ({args.meters} meters)")
    print(f"floor: read the rows back        {floor:.3f} s ({floor_rows / floor:,.0f} rows/s)")
    print(f"record_import_batch              {record:.3f} s ({total / record:,.0f} readings/s)")
    print(
        f"recompute_import_batch           {recompute:.3f} s ({total / recompute:,.0f} readings/s)"
    )
    print(f"ratio record / floor             {record / floor:.2f}")


if __name__ == "__main__":
    main()
