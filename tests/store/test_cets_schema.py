"""The revision 0020_cets_operations builds exactly the declared tables of China ETS operations."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from carbonlink.store.cets_schema import cets_metadata


def test_the_revision_matches_the_declared_tables(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, cets_metadata)
    names = set(cets_metadata.tables)
    concerning = [
        d
        for d in differences
        if any(
            getattr(part, "name", None) in names
            or getattr(getattr(part, "table", None), "name", None) in names
            for part in (d[0] if isinstance(d, list) else d)[1:]
        )
    ]
    assert concerning == []
    assert names == {"cets_control_plans", "cets_parameters", "cets_quarantine", "cets_deposits"}
