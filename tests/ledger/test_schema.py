"""Alembic revision 0002_ledger builds exactly the tables `carbonlink.ledger.schema` declares."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from carbonlink.ledger.schema import metadata
from carbonlink.store import create_store_engine, upgrade
from carbonlink.store.migrate import alembic_config, downgrade


def test_0002_ledger_follows_0001_initial() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_revision("0002_ledger").down_revision == "0001_initial"


def test_migration_matches_the_declared_ledger_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    ours = [d for d in differences if any(name in str(d) for name in metadata.tables)]
    assert ours == []


def test_ledger_tables_use_the_rowid_on_sqlite_and_downgrade_cleanly(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'c.db'}")
    upgrade(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO ledger_hash (leaf, hashes) VALUES (41, x'00')")
        rowid = connection.exec_driver_sql("SELECT rowid FROM ledger_hash").scalar_one()
        connection.exec_driver_sql("DELETE FROM ledger_hash")
    assert rowid == 41  # the log index is the rowid: one B-tree, appended at its end
    downgrade(engine, "0001_initial")
    assert not {"ledger_entry", "ledger_hash"} & set(inspect(engine).get_table_names())
    upgrade(engine)
    assert "ledger_hash" in inspect(engine).get_table_names()
    engine.dispose()
