"""The revision 0018_period_close builds exactly the declared tables of period close."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from carbonlink.store.periods_schema import periods_metadata


def test_the_revision_matches_the_declared_tables(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, periods_metadata)
    names = set(periods_metadata.tables)
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
    assert names == {"periods", "period_runs", "period_comments"}
