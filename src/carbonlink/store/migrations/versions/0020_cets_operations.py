"""China ETS operations: control plans, monthly parameters, quarantine and deposit packs.

Revision ID: 0020_cets_operations
Revises: 0021_cbam_verification
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_cets_operations"
down_revision: str | None = "0021_cbam_verification"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cets_control_plans",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("replaces", sa.String(64), comment="content hash of the previous version"),
        sa.Column("plan", sa.Text(), nullable=False, comment="JSON: ControlPlan.model_dump(json)"),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(254), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cets_control_plans"),
        sa.UniqueConstraint(
            "organization_id", "entity_id", "version", name="uq_cets_control_plans_entity_version"
        ),
        sa.UniqueConstraint(
            "organization_id",
            "content_hash",
            name="uq_cets_control_plans_organization_content_hash",
        ),
    )
    op.create_table(
        "cets_parameters",
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("month", sa.String(7), nullable=False, comment="YYYY-MM"),
        sa.Column("source", sa.String(64), nullable=False, comment="source stream or process"),
        sa.Column("parameter", sa.String(32), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False, server_default=""),
        sa.Column("report_id", sa.String(64), nullable=False, server_default=""),
        sa.Column(
            "accreditation", sa.String(64), nullable=False, server_default="", comment="CMA/CNAS"
        ),
        sa.Column("sample_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("sample_date", sa.String(10), nullable=False, server_default=""),
        sa.Column("standard", sa.Text(), nullable=False, server_default=""),
        sa.Column("sample_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("evidence_kind", sa.String(16), nullable=False, server_default=""),
        sa.Column("evidence_name", sa.Text(), nullable=False, server_default=""),
        sa.Column("evidence_sha256", sa.String(64), nullable=False, server_default=""),
        sa.Column("origin", sa.String(16), nullable=False, comment="ledger, form or meter"),
        sa.Column("entered_by", sa.Text(), nullable=False),
        sa.Column("entered_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "organization_id",
            "entity_id",
            "month",
            "source",
            "parameter",
            name="pk_cets_parameters",
        ),
    )
    op.create_table(
        "cets_quarantine",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("record", sa.Text(), nullable=False, comment="JSON of the row as read"),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cets_quarantine"),
    )
    op.create_index("ix_cets_quarantine_organization_id", "cets_quarantine", ["organization_id"])
    op.create_table(
        "cets_deposits",
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("pack_id", sa.String(128), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column(
            "folder", sa.String(255), nullable=False, comment="pack folder, workspace-relative"
        ),
        sa.Column("ledger_index", sa.BigInteger(), nullable=False),
        sa.Column("files", sa.Text(), nullable=False, comment="JSON: file name → SHA-256"),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("deposited_on", sa.String(10), nullable=False, comment="upload date, YYYY-MM-DD"),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "folder", name="pk_cets_deposits"),
    )


def downgrade() -> None:
    op.drop_table("cets_deposits")
    op.drop_index("ix_cets_quarantine_organization_id", table_name="cets_quarantine")
    op.drop_table("cets_quarantine")
    op.drop_table("cets_parameters")
    op.drop_table("cets_control_plans")
