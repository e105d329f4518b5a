"""The revision 0025_credentials builds exactly the declared table of issued credentials, and
admits the lender role (and no unknown one)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from carbonlink.store.accounts_schema import users
from carbonlink.store.credentials_schema import credentials_metadata


def test_the_revision_matches_the_declared_table(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, credentials_metadata)
    names = set(credentials_metadata.tables)
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
    assert names == {"issued_credentials"}


def _user(role: str) -> dict[str, object]:
    return {
        "id": uuid.uuid4().hex,
        "organization_id": "org-a",
        "email": f"{uuid.uuid4().hex}@bank.test",
        "display_name": "x",
        "password_hash": "x",
        "role": role,
        "locale": "zh",
        "disabled": False,
        "created_at": datetime.now(UTC),
    }


def test_the_users_table_admits_the_lender_role_only(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(users.insert().values(**_user("lender")))
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(users.insert().values(**_user("banker")))
