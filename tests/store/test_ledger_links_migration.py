"""Alembic revision 0005_ledger_links: batch ↔ ledger columns, readings index, documents."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from carbonlink.store import create_store_engine, upgrade
from carbonlink.store.migrate import alembic_config, downgrade


def test_0005_follows_0004_exchange() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_revision("0005_ledger_links").down_revision == "0004_exchange"


def test_0005_adds_and_removes_its_columns_cleanly(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'c.db'}")
    upgrade(engine)
    columns = {c["name"] for c in inspect(engine).get_columns("import_batches")}
    assert {"readings_sha256", "ledger_index"} <= columns
    assert "ix_readings_batch" in {i["name"] for i in inspect(engine).get_indexes("readings")}
    assert "documents" in inspect(engine).get_table_names()
    downgrade(engine, "0004_exchange")
    inspector = inspect(engine)
    assert "ledger_index" not in {c["name"] for c in inspector.get_columns("import_batches")}
    assert "documents" not in inspector.get_table_names()
    upgrade(engine)
    engine.dispose()
