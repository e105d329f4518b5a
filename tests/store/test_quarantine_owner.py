"""Quarantined records belong to the organization whose caller sent them, by an exact key."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from carbonlink.ingest.base import Rejected
from carbonlink.store import Store
from carbonlink.store import schema as t
from carbonlink.store.migrate import alembic_config, downgrade, upgrade
from carbonlink.store.results_schema import quarantine_owners
from carbonlink.store.tenant_data import StoreTenantData

# '_' and '%' are the wildcards of SQL LIKE: as a pattern, 'org_b' matches 'org-b'.
ORGANIZATIONS = ("org-b", "org_b", "%", "org")


def _rejected(label: str) -> Rejected:
    return Rejected(label.encode(), f"bad row of {label}", f"api:tester:{label}:0", None)


def test_each_organization_sees_exactly_its_own_quarantined_records(engine: Engine) -> None:
    data = StoreTenantData(Store(engine))
    for org in ORGANIZATIONS:
        data.add_organization(f"name of {org}", org)
    data.quarantine_for("org-b", [_rejected("b1"), _rejected("b2")])
    data.quarantine_for("org", [_rejected("o1")])

    def seen(org: str) -> list[bytes]:
        return sorted(r.raw for r in data.quarantined(org))

    assert seen("org-b") == [b"b1", b"b2"]
    assert seen("org_b") == []
    assert seen("%") == []
    assert seen("org") == [b"o1"]
    # the same record sent again is kept once, and owned once
    data.quarantine_for("org-b", [_rejected("b1")])
    assert seen("org-b") == [b"b1", b"b2"]


def test_the_migration_gives_earlier_records_their_owner(engine: Engine) -> None:
    """Records quarantined before the owner table: the organization their prefix names."""
    before = ScriptDirectory.from_config(alembic_config()).get_revision("0014_quarantine_owner")
    downgrade(engine, before.down_revision)
    with engine.begin() as conn:
        conn.execute(
            t.organizations.insert(),
            [{"id": org, "name": org} for org in ("org-b", "org_b", "org", "org:x")],
        )
        conn.execute(
            t.quarantine.insert(),
            [
                {
                    "fingerprint": ref,
                    "received_at": datetime(2026, 12, 1, tzinfo=UTC),
                    "source_ref": ref,
                    "reason": "bad",
                    "raw": b"x",
                }
                for ref in (
                    "org:org-b:api:a:-:0",
                    "org:org:x:api:a:-:0",
                    "org:org:api:a:-:0",
                    "file.csv",
                )
            ],
        )
    upgrade(engine)
    with engine.connect() as conn:
        owners = dict(
            conn.execute(
                sa.select(t.quarantine.c.source_ref, quarantine_owners.c.organization_id).join(
                    quarantine_owners, quarantine_owners.c.quarantine_id == t.quarantine.c.id
                )
            ).all()
        )
    assert owners == {
        "org:org-b:api:a:-:0": "org-b",
        "org:org:x:api:a:-:0": "org:x",
        "org:org:api:a:-:0": "org",
    }
