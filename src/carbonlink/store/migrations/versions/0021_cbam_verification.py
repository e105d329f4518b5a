"""CBAM communications published for customers (verified status, Catena-X JSON).

Revision ID: 0021_cbam_verification
Revises: 0022_cbam_imports
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_cbam_verification"
down_revision: str | None = "0022_cbam_imports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cbam_communications",
        sa.Column(
            "organization_id",
            sa.String(64),
            nullable=False,
            server_default="default",
            comment="the organization whose exchange this row belongs to",
        ),
        sa.Column("id", sa.String(128), nullable=False, comment="the operator's name for it"),
        sa.Column("installation", sa.Text(), nullable=False),
        sa.Column("period_start", sa.String(10), nullable=False, comment="ISO date"),
        sa.Column("period_end", sa.String(10), nullable=False, comment="ISO date"),
        sa.Column("status", sa.String(16), nullable=False, comment="verified or not verified"),
        sa.Column(
            "communication",
            sa.Text(),
            nullable=False,
            comment="carbonlink communication JSON",
        ),
        sa.Column(
            "catenax",
            sa.Text(),
            nullable=False,
            comment="the Catena-X CBAM JSON exactly as served",
        ),
        sa.Column("catenax_sha256", sa.String(64), nullable=False),
        sa.Column("published_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "id", name="pk_cbam_communications"),
        sa.CheckConstraint(
            "status IN ('verified', 'not verified')", name="ck_cbam_communications_status"
        ),
    )


def downgrade() -> None:
    op.drop_table("cbam_communications")
