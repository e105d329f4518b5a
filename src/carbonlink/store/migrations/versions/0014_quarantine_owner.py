"""The organization that owns each record quarantined through the service, as an exact key.

Records quarantined before this revision are given the organization their ``source_ref`` names
(``org:<id>:…``), compared as a literal prefix against the stored organizations (the longest id
wins), never as a LIKE pattern.

Revision ID: 0014_quarantine_owner
Revises: 0011_source_accounting
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_quarantine_owner"
down_revision: str | None = "0012_accounts_hardening"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = """
INSERT INTO quarantine_owners (quarantine_id, organization_id)
SELECT q.id, (
    SELECT o.id FROM organizations o
    WHERE substr(q.source_ref, 1, length(o.id) + 5) = 'org:' || o.id || ':'
    ORDER BY length(o.id) DESC
    LIMIT 1
)
FROM quarantine q
WHERE EXISTS (
    SELECT 1 FROM organizations o
    WHERE substr(q.source_ref, 1, length(o.id) + 5) = 'org:' || o.id || ':'
)
"""


def upgrade() -> None:
    op.create_table(
        "quarantine_owners",
        sa.Column(
            "quarantine_id",
            sa.Integer(),
            autoincrement=False,
            nullable=False,
            comment="id of the quarantined record",
        ),
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("quarantine_id", name="pk_quarantine_owners"),
    )
    op.create_index(
        "ix_quarantine_owners_organization_id", "quarantine_owners", ["organization_id"]
    )
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_index("ix_quarantine_owners_organization_id", table_name="quarantine_owners")
    op.drop_table("quarantine_owners")
