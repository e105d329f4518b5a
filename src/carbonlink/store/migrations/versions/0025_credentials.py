"""Verifiable credentials: the credentials each organization issued, and the lender role.

Revision ID: 0025_credentials
Revises: 0029_document_media_type
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025_credentials"
down_revision: str | None = "0029_document_media_type"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = "role IN ('admin','editor','viewer','auditor','supplier')"
NEW_ROLES = "role IN ('admin','editor','viewer','auditor','supplier','lender')"


def _roles(check: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("ck_users_role", "users", type_="check")
        op.create_check_constraint("ck_users_role", "users", sa.text(check))
        return
    # SQLite cannot alter a constraint: the table is copied with the new one.
    with op.batch_alter_table("users", recreate="always") as batch:
        batch.drop_constraint("ck_users_role", type_="check")
        batch.create_check_constraint("ck_users_role", sa.text(check))


def upgrade() -> None:
    op.create_table(
        "issued_credentials",
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("id", sa.String(200), nullable=False, comment="the credential's id (urn:uuid:…)"),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("title", sa.Text(), nullable=False, comment="what it is about, for lists"),
        sa.Column(
            "holder", sa.String(254), nullable=True, comment="lender user id it is shared with"
        ),
        sa.Column("status_index", sa.Integer(), nullable=False, comment="bit in the status list"),
        sa.Column("document", sa.Text(), nullable=False, comment="the signed credential, JSON"),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(64), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(64), nullable=True),
        sa.CheckConstraint("kind IN ('pcf','cbam','kpi')", name="ck_issued_credentials_kind"),
        sa.PrimaryKeyConstraint("organization_id", "id", name="pk_issued_credentials"),
        sa.UniqueConstraint(
            "organization_id", "status_index", name="uq_issued_credentials_status_index"
        ),
    )
    _roles(NEW_ROLES)


def downgrade() -> None:
    op.execute(sa.text("UPDATE users SET role = 'viewer' WHERE role = 'lender'"))
    _roles(OLD_ROLES)
    op.drop_table("issued_credentials")
