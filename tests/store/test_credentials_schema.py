"""The revision 0025_credentials builds exactly the declared table of issued credentials, and
admits the lender role (and no unknown one)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from carbonlink.store.accounts_schema import users
from carbonlink.store.credentials_schema import credentials_metadata
from schema_differences import schema_differences


def test_the_revision_matches_the_declared_table(engine: Engine) -> None:
    names = set(credentials_metadata.tables)
    concerning = schema_differences(engine, credentials_metadata)
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
