"""Files received through the service and activity values entered by hand.

Revision ID: 0017_data_entry
Revises: 0016_app_operations
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_data_entry"
down_revision: str | None = "0016_app_operations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "file_imports",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False, comment="file name as uploaded"),
        sa.Column("kind", sa.String(8), nullable=False, comment="csv or xlsx"),
        sa.Column("document_sha256", sa.String(64), nullable=False, comment="the kept file"),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("uploaded_by", sa.Text(), nullable=False),
        sa.Column("uploaded_at", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="received"),
        sa.Column("mapping", sa.Text(), comment="JSON of the mapping the import ran with"),
        sa.Column("rows_total", sa.BigInteger(), comment="rows in the file (estimated for CSV)"),
        sa.Column("rows_done", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("stored", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("duplicates", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("quarantined", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("batch_id", sa.String(36), comment="the import batch of the readings"),
        sa.Column("error", sa.Text(), comment="why the import failed as a whole"),
        sa.Column("finished_at", sa.BigInteger()),
        sa.CheckConstraint(
            "status IN ('received','running','finished','failed')", name="ck_file_imports_status"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_file_imports"),
    )
    op.create_index(
        "ix_file_imports_organization_id", "file_imports", ["organization_id"], unique=False
    )
    op.create_table(
        "activity_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(7), nullable=False, comment="local calendar month, YYYY-MM"),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("evidence_sha256", sa.String(64), comment="the kept evidence document"),
        sa.Column("evidence_name", sa.Text()),
        sa.Column("evidence_ledger_index", sa.BigInteger(), comment="the evidence's ledger entry"),
        sa.Column("supersedes", sa.Integer(), comment="the entry this one corrects"),
        sa.Column("reason", sa.Text(), comment="why the correction was made"),
        sa.Column("entered_by", sa.Text(), nullable=False),
        sa.Column("entered_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_activity_entries"),
        sa.UniqueConstraint("supersedes", name="uq_activity_entries_supersedes"),
    )
    op.create_index(
        "ix_activity_entries_organization_id",
        "activity_entries",
        ["organization_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_activity_entries_organization_id", table_name="activity_entries")
    op.drop_table("activity_entries")
    op.drop_index("ix_file_imports_organization_id", table_name="file_imports")
    op.drop_table("file_imports")
