"""Plausible windows of reading times per meter; quarantined records can be resolved.

Revision ID: 0013_reading_limits
Revises: 0012_accounts_hardening
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_reading_limits"
down_revision: str | None = "0012_accounts_hardening"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reading_windows",
        sa.Column("meter_id", sa.String(64), nullable=False),
        sa.Column("valid_from", sa.BigInteger(), comment="earliest plausible time of a reading"),
        sa.Column(
            "max_future_skew_s",
            sa.BigInteger(),
            comment="seconds a reading may lie ahead of now",
        ),
        sa.PrimaryKeyConstraint("meter_id", name="pk_reading_windows"),
    )
    with op.batch_alter_table("quarantine") as batch:
        batch.add_column(
            sa.Column(
                "resolved_at",
                sa.BigInteger(),
                comment="when a person decided what to do with it",
            )
        )
        batch.add_column(sa.Column("resolution", sa.Text(), comment="what was decided, in words"))


def downgrade() -> None:
    with op.batch_alter_table("quarantine") as batch:
        batch.drop_column("resolution")
        batch.drop_column("resolved_at")
    op.drop_table("reading_windows")
