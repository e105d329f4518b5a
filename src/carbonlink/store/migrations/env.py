"""Alembic environment: migrates the connection handed in by `carbonlink.store.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import MetaData

import carbonlink.exchange.schema  # noqa: F401  (registers the PACT tables on the metadata)
from carbonlink.ledger.schema import metadata as ledger_metadata
from carbonlink.store.accounts_schema import accounts_metadata
from carbonlink.store.cets_schema import cets_metadata
from carbonlink.store.credentials_schema import credentials_metadata
from carbonlink.store.data_entry_schema import data_entry_metadata
from carbonlink.store.periods_schema import periods_metadata
from carbonlink.store.results_schema import results_metadata
from carbonlink.store.schema import metadata as store_metadata

# A list, so that other packages' tables (the ledger's, for instance) join the comparison.
target_metadata: list[MetaData] = [
    store_metadata,
    ledger_metadata,
    accounts_metadata,
    results_metadata,
    data_entry_metadata,
    periods_metadata,
    cets_metadata,
    credentials_metadata,
]

config = context.config


def run_migrations_offline() -> None:
    """Emit SQL for the configured URL without connecting."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate the open connection `carbonlink.store.migrate` put in the config attributes."""
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
