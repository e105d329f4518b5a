"""CBAM importer: customs lines, quarantined rows, supplier communications, certificate prices.

Revision ID: 0022_cbam_imports
Revises: 0026_witness
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_cbam_imports"
down_revision: str | None = "0026_witness"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cbam_import_lines",
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("declaration", sa.String(64), nullable=False),
        sa.Column("item", sa.Integer(), nullable=False),
        sa.Column("released", sa.String(10), nullable=False, comment="YYYY-MM-DD"),
        sa.Column("cn_code", sa.String(8), nullable=False),
        sa.Column("net_mass_t", sa.Float(), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("installation_id", sa.String(128), nullable=False),
        sa.Column("supplier", sa.Text(), nullable=False),
        sa.Column("route", sa.String(32), nullable=False, server_default=""),
        sa.Column("procedure", sa.String(2), nullable=False, server_default="40"),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("imported_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "organization_id", "declaration", "item", name="pk_cbam_import_lines"
        ),
    )
    op.create_table(
        "cbam_import_quarantine",
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("source_file", sa.String(255), nullable=False),
        sa.Column("file_row", sa.Integer(), nullable=False, comment="row number in the file"),
        sa.Column("line_key", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False, comment="JSON of the row as read"),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("imported_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "organization_id", "source_file", "file_row", name="pk_cbam_import_quarantine"
        ),
    )
    op.create_table(
        "cbam_import_communications",
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("installation_id", sa.String(128), nullable=False),
        sa.Column("document", sa.Text(), nullable=False, comment="the communication JSON"),
        sa.Column("carbon_price_paid", sa.Text(), nullable=True, comment="JSON list per good"),
        sa.Column("saved_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "organization_id", "installation_id", name="pk_cbam_import_communications"
        ),
    )
    op.create_table(
        "cbam_import_prices",
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.Integer(), nullable=False),
        sa.Column("price_eur", sa.Float(), nullable=False),
        sa.Column(
            "published", sa.String(10), nullable=True, comment="publication date, YYYY-MM-DD"
        ),
        sa.Column("source", sa.Text(), nullable=False, server_default=""),
        sa.CheckConstraint("quarter BETWEEN 1 AND 4", name="ck_cbam_import_prices_quarter"),
        sa.PrimaryKeyConstraint("organization_id", "year", "quarter", name="pk_cbam_import_prices"),
    )


def downgrade() -> None:
    op.drop_table("cbam_import_prices")
    op.drop_table("cbam_import_communications")
    op.drop_table("cbam_import_quarantine")
    op.drop_table("cbam_import_lines")
