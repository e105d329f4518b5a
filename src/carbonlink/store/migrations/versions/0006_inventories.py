"""Computed results: inventory runs and their lineage lines, monitoring alerts and reports.

Revision ID: 0006_inventories
Revises: 0005_ledger_links
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_inventories"
down_revision: str | None = "0005_ledger_links"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inventories",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("period_start", sa.String(10), nullable=False),
        sa.Column("period_end", sa.String(10), nullable=False),
        sa.Column("gwp_set", sa.String(8), nullable=False),
        sa.Column("settings_hash", sa.String(64), nullable=False),
        sa.Column("totals", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_inventories"),
    )
    op.create_index("ix_inventories_organization_id", "inventories", ["organization_id"])
    op.create_table(
        "inventory_lines",
        sa.Column("inventory_id", sa.String(32), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("facility", sa.String(64), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("gas", sa.String(32), nullable=False),
        sa.Column("method", sa.String(32)),
        sa.Column("tco2e", sa.Float(), nullable=False),
        sa.Column("activity_id", sa.Text()),
        sa.Column("activity_quantity", sa.Float()),
        sa.Column("activity_unit", sa.String(32)),
        sa.Column("factor_id", sa.Text()),
        sa.Column("factor_version", sa.String(32)),
        sa.Column("factor_value", sa.Float()),
        sa.Column("factor_unit", sa.String(32)),
        sa.Column("factor_source", sa.Text()),
        sa.Column("lineage", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inventory_id"],
            ["inventories.id"],
            name="fk_inventory_lines_inventory_id_inventories",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("inventory_id", "line_no", name="pk_inventory_lines"),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("meter_id", sa.String(64), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), server_default="open", nullable=False),
        sa.Column("value", sa.Float()),
        sa.Column("opened_at", sa.BigInteger(), nullable=False),
        sa.Column("acknowledged_at", sa.BigInteger()),
        sa.Column("acknowledged_by", sa.String(254)),
        sa.Column("closed_at", sa.BigInteger()),
        sa.CheckConstraint("status IN ('open','acknowledged','closed')", name="ck_alerts_status"),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
    )
    op.create_index("ix_alerts_organization_id_status", "alerts", ["organization_id", "status"])
    op.create_table(
        "monitoring_reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("outputs", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_monitoring_reports"),
    )
    op.create_index(
        "ix_monitoring_reports_organization_id", "monitoring_reports", ["organization_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_monitoring_reports_organization_id", table_name="monitoring_reports")
    op.drop_table("monitoring_reports")
    op.drop_index("ix_alerts_organization_id_status", table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("inventory_lines")
    op.drop_index("ix_inventories_organization_id", table_name="inventories")
    op.drop_table("inventories")
