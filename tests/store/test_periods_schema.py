"""The revision 0018_period_close builds exactly the declared tables of period close."""

from __future__ import annotations

from sqlalchemy import Engine

from carbonlink.store.periods_schema import periods_metadata
from schema_differences import schema_differences


def test_the_revision_matches_the_declared_tables(engine: Engine) -> None:
    names = set(periods_metadata.tables)
    concerning = schema_differences(engine, periods_metadata)
    assert concerning == []
    assert names == {"periods", "period_runs", "period_comments"}
