"""Terms, reminders and review of supplier portal requests.

Revision ID: 0019_supplier_requests
Revises: 0018_period_close
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_supplier_requests"
down_revision: str | None = "0018_period_close"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "supplier_requests",
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("request_event_id", sa.String(64), nullable=False),
        sa.Column("partner_id", sa.String(128), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False, comment="reference period asked for"),
        sa.Column("period_end", sa.Date(), nullable=False, comment="exclusive"),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "answer_fields", sa.Text(), nullable=True, comment="JSON of the last answer's form"
        ),
        sa.Column("review", sa.String(16), nullable=True, comment="accepted or returned"),
        sa.Column("review_reason", sa.Text(), nullable=True),
        sa.Column("reviewed_by", sa.String(64), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "review IS NULL OR review IN ('accepted','returned')",
            name="ck_supplier_requests_review_state",
        ),
        sa.PrimaryKeyConstraint("organization_id", "request_event_id", name="pk_supplier_requests"),
    )


def downgrade() -> None:
    op.drop_table("supplier_requests")
