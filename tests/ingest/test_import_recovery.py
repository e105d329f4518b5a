"""An import killed half-way: the next writing command records its batch in the ledger first,
so that a reading it stored cannot be changed without ``ledger verify --full`` noticing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from carbonlink.cli import app
from carbonlink.ingest.base import Reading
from carbonlink.ledger import Ledger, TamperError, generate_ledger_key
from carbonlink.provenance import record_unledgered_batches
from carbonlink.store import Store, create_store_engine

runner = CliRunner()
MAPPING = """\
timestamp:
  column: time
  format: "%Y-%m-%d %H:%M"
values:
  - column: power
    meter: m-power
    unit: kWh
meters:
  - id: m-power
    kind: interval
    unit: kWh
"""
ROWS = 1_000_000


def _big_csv(path: Path) -> None:
    """A million hourly readings from 2000 on (about 25 MB): ten chunks of the importer."""
    start = 946_684_800  # 2000-01-01 00:00 UTC
    with path.open("w") as out:
        out.write("time,power\n")
        for block in range(0, ROWS, 50_000):
            out.writelines(
                f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime(start + 3600 * i))},{i % 97}\n"
                for i in range(block, block + 50_000)
            )


def _stored(database: Path) -> int:
    try:
        with sqlite3.connect(database, timeout=5) as connection:
            return int(connection.execute("SELECT count(*) FROM readings").fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # not migrated yet


@pytest.mark.slow
def test_a_killed_import_is_ledgered_before_the_next_write_and_tampering_is_found(
    tmp_path: Path,
) -> None:
    workspace = tmp_path / "ws"
    generate_ledger_key(workspace, "example.com/plant-1")
    env = {**os.environ, "CARBONLINK_WORKSPACE": str(workspace)}
    mapping = tmp_path / "power.yaml"
    mapping.write_text(MAPPING, "utf-8")
    data = tmp_path / "power.csv"
    _big_csv(data)
    database = workspace / "carbonlink.db"
    command = [str(Path(sys.executable).parent / "carbonlink"), "ingest", "csv", str(data)]
    importing = subprocess.Popen(
        [*command, "-m", str(mapping)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while _stored(database) == 0:
            assert importing.poll() is None, "the import ended before it could be killed"
            assert time.monotonic() < deadline, "the import stored nothing in two minutes"
            time.sleep(0.02)
        os.kill(importing.pid, signal.SIGKILL)
    finally:
        importing.wait(timeout=30)
    assert importing.returncode == -signal.SIGKILL

    engine = create_store_engine(f"sqlite:///{database}")
    try:
        store = Store(engine)
        [killed] = store.unledgered_batches()
        assert store.batch(killed).status == "running"
        stored = store.reading_count()
        assert 0 < stored < ROWS

        # the next writing command records the orphaned batch before it does anything else
        small = tmp_path / "small.csv"
        small.write_text("time,power\n2024-01-01 00:00,1\n", "utf-8")
        result = runner.invoke(app, ["ingest", "csv", str(small), "-m", str(mapping)], env=env)
        assert result.exit_code == 0, result.output
        assert "recorded 1 earlier import batch" in " ".join(result.output.split())
        batch = store.batch(killed)
        assert batch.status == "interrupted" and batch.ledger_index is not None
        assert batch.readings_new == stored
        assert store.unledgered_batches() == []

        verified = runner.invoke(app, ["ledger", "verify", "--full"], env=env)
        assert verified.exit_code == 0, verified.output
        with engine.begin() as connection:
            changed = connection.execute(
                text(
                    "UPDATE readings SET value = value + 1 WHERE batch_id = :b AND ts = "
                    "(SELECT min(ts) FROM readings WHERE batch_id = :b)"
                ),
                {"b": killed},
            ).rowcount
        assert changed == 1
        tampered = runner.invoke(app, ["ledger", "verify", "--full"], env=env)
        assert tampered.exit_code != 0
        assert isinstance(tampered.exception, TamperError)
        assert f"import-batch {killed}" in str(tampered.exception)
    finally:
        engine.dispose()


def test_readings_outside_any_batch_are_put_in_one_and_ledgered(store: Store) -> None:
    """Readings stored without a batch (or under a label no batch has) are covered too."""
    ts = datetime(2024, 1, 1, tzinfo=UTC)
    store.add_readings(
        [
            Reading("m-1", ts, 1.0, "kWh"),
            Reading("m-1", ts.replace(hour=1), 2.0, "kWh", batch_id="erp-label"),
        ]
    )
    ledger = Ledger(store.engine)
    indices = record_unledgered_batches(store, ledger)
    assert len(indices) == 2
    batches = store.meter_batches(["m-1"])
    assert len(batches) == 2 and "erp-label" in batches
    assert all(store.batch(b).ledger_index is not None for b in batches)
    assert record_unledgered_batches(store, ledger) == []
