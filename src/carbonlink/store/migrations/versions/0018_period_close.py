"""Period close: reporting periods, their inventory runs with review states, and comments.

Revision ID: 0018_period_close
Revises: 0017_data_entry
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_period_close"
down_revision: str | None = "0017_data_entry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "periods",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("period_start", sa.String(10), nullable=False, comment="first day, YYYY-MM-DD"),
        sa.Column("period_end", sa.String(10), nullable=False, comment="last day, inclusive"),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False, comment="inventory document as JSON"),
        sa.Column("state", sa.String(16), nullable=False, server_default="draft"),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "state IN ('draft','in_review','approved','locked')", name="ck_periods_state"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_periods"),
        sa.UniqueConstraint(
            "organization_id", "period_start", "period_end", name="uq_periods_range"
        ),
    )
    op.create_index("ix_periods_organization_id", "periods", ["organization_id"], unique=False)
    op.create_table(
        "period_runs",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("period_id", sa.String(32), nullable=False),
        sa.Column(
            "number", sa.Integer(), nullable=False, comment="1 for the first run of the period"
        ),
        sa.Column("inventory_id", sa.String(32), nullable=False, comment="the saved computation"),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), comment="why the period was reopened (restatement runs)"),
        sa.Column("computed_by", sa.Text(), nullable=False),
        sa.Column("computed_at", sa.BigInteger(), nullable=False),
        sa.Column("submitted_by", sa.Text()),
        sa.Column(
            "submitted_by_id", sa.Text(), comment="the submitter's subject, who may not approve"
        ),
        sa.Column("submitted_at", sa.BigInteger()),
        sa.Column("approved_by", sa.Text()),
        sa.Column("approved_at", sa.BigInteger()),
        sa.Column("locked_by", sa.Text()),
        sa.Column("locked_at", sa.BigInteger()),
        sa.Column("ledger_index", sa.BigInteger(), comment="the approved run's ledger entry"),
        sa.Column("receipt_sha256", sa.String(64), comment="the kept JSON of the approved run"),
        sa.CheckConstraint(
            "state IN ('draft','in_review','approved','locked','superseded','restated')",
            name="ck_period_runs_state",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_period_runs"),
        sa.UniqueConstraint("period_id", "number", name="uq_period_runs_number"),
    )
    op.create_index("ix_period_runs_period_id", "period_runs", ["period_id"], unique=False)
    op.create_table(
        "period_comments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("period_id", sa.String(32), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_period_comments"),
    )
    op.create_index("ix_period_comments_period_id", "period_comments", ["period_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_period_comments_period_id", table_name="period_comments")
    op.drop_table("period_comments")
    op.drop_index("ix_period_runs_period_id", table_name="period_runs")
    op.drop_table("period_runs")
    op.drop_index("ix_periods_organization_id", table_name="periods")
    op.drop_table("periods")
