"""What alembic finds between a migrated database and the declared tables of one metadata."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, MetaData


def schema_differences(engine: Engine, metadata: MetaData) -> list[Any]:
    """The differences that concern the tables of ``metadata`` (others are not its business)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    names = set(metadata.tables)
    return [
        d
        for d in differences
        if any(
            getattr(part, "name", None) in names
            or getattr(getattr(part, "table", None), "name", None) in names
            for part in (d[0] if isinstance(d, list) else d)[1:]
        )
    ]
