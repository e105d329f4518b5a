"""Monitoring plans: every version of a facility's plan, never updated in place.

Revision ID: 0007_monitoring_plans
Revises: 0006_inventories
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_monitoring_plans"
down_revision: str | None = "0006_inventories"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "monitoring_plans",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("facility_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("replaces", sa.String(64)),
        sa.Column("template_id", sa.String(64), nullable=False),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(254), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_monitoring_plans"),
        sa.UniqueConstraint(
            "organization_id",
            "facility_id",
            "version",
            name="uq_monitoring_plans_facility_version",
        ),
        sa.UniqueConstraint(
            "organization_id",
            "content_hash",
            name="uq_monitoring_plans_organization_content_hash",
        ),
    )


def downgrade() -> None:
    op.drop_table("monitoring_plans")
