"""The revision 0020_cets_operations builds exactly the declared tables of China ETS operations."""

from __future__ import annotations

from sqlalchemy import Engine

from carbonlink.store.cets_schema import cets_metadata
from schema_differences import schema_differences


def test_the_revision_matches_the_declared_tables(engine: Engine) -> None:
    names = set(cets_metadata.tables)
    concerning = schema_differences(engine, cets_metadata)
    assert concerning == []
    assert names == {"cets_control_plans", "cets_parameters", "cets_quarantine", "cets_deposits"}
