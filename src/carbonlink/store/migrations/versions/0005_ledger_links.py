"""Ledger links: each import batch's ledger entry and readings digest; stored input documents.

Revision ID: 0005_ledger_links
Revises: 0004_exchange
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_ledger_links"
down_revision: str | None = "0004_exchange"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "import_batches",
        sa.Column(
            "readings_sha256",
            sa.String(64),
            nullable=True,
            comment="canonical digest of the readings the batch stored",
        ),
    )
    op.add_column(
        "import_batches",
        sa.Column(
            "ledger_index",
            sa.BigInteger(),
            nullable=True,
            comment="index of the batch's import-batch entry in the ledger",
        ),
    )
    op.create_index("ix_readings_batch", "readings", ["batch_id"])
    op.create_table(
        "documents",
        sa.Column("sha256", sa.String(64), nullable=False, comment="SHA-256 of the body"),
        sa.Column("name", sa.Text(), nullable=False, comment="file name it was read from"),
        sa.Column("media_type", sa.String(64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_documents"),
    )


def downgrade() -> None:
    op.drop_table("documents")
    op.drop_index("ix_readings_batch", table_name="readings")
    op.drop_column("import_batches", "ledger_index")
    op.drop_column("import_batches", "readings_sha256")
