"""Service configuration: each source's scope and factor, alert rules, and each alert's detail.

Revision ID: 0011_source_accounting
Revises: 0010_supplier_portal
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_source_accounting"
down_revision: str | None = "0010_supplier_portal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "source_accounting",
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("scope", sa.Integer(), nullable=False),
        sa.Column("factor_co2e_t_per_unit", sa.Float()),
        sa.Column("factor_activity_unit", sa.String(32)),
        sa.Column("factor_source", sa.Text()),
        sa.Column("factor_name", sa.Text()),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("scope IN (1, 2, 3)", name="ck_source_accounting_scope"),
        sa.PrimaryKeyConstraint("source_id", name="pk_source_accounting"),
    )
    op.create_index(
        "ix_source_accounting_organization_id", "source_accounting", ["organization_id"]
    )
    op.create_table(
        "alert_rules",
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "rule_id", name="pk_alert_rules"),
    )
    op.add_column("alerts", sa.Column("detail", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("detail")
    op.drop_table("alert_rules")
    op.drop_index("ix_source_accounting_organization_id", table_name="source_accounting")
    op.drop_table("source_accounting")
