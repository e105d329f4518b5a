"""The revision 0017_data_entry builds exactly the declared tables of received files and
activity values entered by hand."""

from __future__ import annotations

from sqlalchemy import Engine

from carbonlink.store.data_entry_schema import data_entry_metadata
from schema_differences import schema_differences


def test_the_revision_matches_the_declared_tables(engine: Engine) -> None:
    names = set(data_entry_metadata.tables)
    concerning = schema_differences(engine, data_entry_metadata)
    assert concerning == []
    assert names == {"file_imports", "activity_entries"}
