"""The revision 0017_data_entry builds exactly the declared tables of received files and
activity values entered by hand."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from carbonlink.store.data_entry_schema import data_entry_metadata


def test_the_revision_matches_the_declared_tables(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, data_entry_metadata)
    names = set(data_entry_metadata.tables)
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
    assert names == {"file_imports", "activity_entries"}
