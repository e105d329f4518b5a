"""Migrations: the packaged Alembic history builds exactly the declared schema."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, Table, inspect, text
from typer.testing import CliRunner

import carbonlink.exchange.schema  # noqa: F401  (the PACT tables join the comparison)
from carbonlink.cli import app
from carbonlink.store import create_store_engine, upgrade
from carbonlink.store.migrate import alembic_config, current_revision, downgrade, head_revision
from carbonlink.store.schema import metadata
from schema_differences import schema_differences


def test_the_history_starts_at_0001_initial_and_the_database_is_at_head(engine: Engine) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_revision("0001_initial").down_revision is None
    assert [rev.revision for rev in script.walk_revisions()][-1] == "0001_initial"
    assert current_revision(engine) == head_revision()


def test_migrations_match_the_declared_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert [d for d in differences if _concerns_the_store(d)] == []


def _concerns_the_store(difference: Any) -> bool:
    """Whether an autogenerate difference touches a store table (other packages add their own)."""
    item = difference[0] if isinstance(difference, list) else difference
    for part in item[1:]:
        table = part if isinstance(part, Table) else getattr(part, "table", None)
        if isinstance(table, Table):
            return table.name in metadata.tables
        if isinstance(part, str) and part in metadata.tables:
            return True
    return False


def test_readings_are_without_rowid_on_sqlite(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'c.db'}")
    upgrade(engine)
    with engine.connect() as connection:
        sql = connection.execute(
            text("SELECT sql FROM sqlite_master WHERE name = 'readings'")
        ).scalar_one()
        mode = connection.execute(text("PRAGMA journal_mode")).scalar_one()
    assert "WITHOUT ROWID" in sql.upper()
    assert mode == "wal"
    assert inspect(engine).get_pk_constraint("readings")["constrained_columns"] == [
        "meter_id",
        "ts",
    ]
    engine.dispose()


def test_downgrade_to_base_and_up_again(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'c.db'}")
    upgrade(engine)
    downgrade(engine, "base")
    assert "readings" not in inspect(engine).get_table_names()
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_init_creates_a_workspace_that_can_be_initialised_again(tmp_path: Path) -> None:
    runner = CliRunner()
    workspace = tmp_path / "plant"
    result = runner.invoke(app, ["init", str(workspace)], env={"CARBONLINK_DATABASE_URL": ""})
    assert result.exit_code == 0, result.output
    assert (workspace / "carbonlink.yaml").is_file()
    assert (workspace / "carbonlink.db").is_file()
    assert f"schema {head_revision()}" in result.output
    again = runner.invoke(app, ["init", str(workspace)], env={"CARBONLINK_DATABASE_URL": ""})
    assert again.exit_code == 0, again.output
    engine = create_store_engine(f"sqlite:///{workspace / 'carbonlink.db'}")
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_accounts_revision_matches_the_accounts_schema(engine: Engine) -> None:
    from carbonlink.store.accounts_schema import accounts_metadata

    assert ScriptDirectory.from_config(alembic_config()).get_revision("0003_accounts")
    concerning = schema_differences(engine, accounts_metadata)
    assert concerning == []


def test_results_revision_matches_the_results_schema(engine: Engine) -> None:
    from carbonlink.store.results_schema import results_metadata

    assert ScriptDirectory.from_config(alembic_config()).get_revision("0007_monitoring_plans")
    concerning = schema_differences(engine, results_metadata)
    assert concerning == []


def test_migrations_run_without_the_web_service(tmp_path: Path) -> None:
    """The store owns its tables: migrating a database imports nothing of ``carbonlink.api``."""
    script = f"""
import sys
from importlib.abc import MetaPathFinder


class NoApi(MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "carbonlink.api" or name.startswith("carbonlink.api."):
            raise ImportError(f"the store imported {{name}}")
        return None


sys.meta_path.insert(0, NoApi())
from carbonlink.store import create_store_engine, upgrade
upgrade(create_store_engine({"sqlite:///" + str(tmp_path / "w.db")!r}))
print("migrated")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "migrated"
