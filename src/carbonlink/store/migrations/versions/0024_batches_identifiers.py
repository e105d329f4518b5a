"""Production batches (heat → slab → coil), their inputs, rejected records and passports.

Revision ID: 0024_batches_identifiers
Revises: 0025_credentials
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024_batches_identifiers"
down_revision: str | None = "0025_credentials"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "production_batches",
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("batch_id", sa.String(20), nullable=False, comment="heat, slab or coil number"),
        sa.Column("stage", sa.String(8), nullable=False, comment="heat, slab or coil"),
        sa.Column("product_key", sa.String(128), comment="the stored product it is a unit of"),
        sa.Column("facility_id", sa.String(64)),
        sa.Column("produced_on", sa.String(10), nullable=False, comment="ISO date"),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("gtin", sa.String(14), comment="GTIN-14 of the product, for GS1 Digital Link"),
        sa.Column("serial", sa.String(20), comment="GS1 AI (21) serial, if any"),
        sa.Column("handle", sa.String(255), comment="<prefix>/<suffix>"),
        sa.Column("source_ref", sa.Text(), nullable=False, comment="file the record came from"),
        sa.Column("line", sa.Integer(), comment="its line (CSV) or row (XLSX)"),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("imported_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "batch_id", name="pk_production_batches"),
        sa.UniqueConstraint("handle", name="uq_production_batches_handle"),
        sa.CheckConstraint("stage IN ('heat', 'slab', 'coil')", name="ck_production_batches_stage"),
    )
    op.create_index("ix_production_batches_gtin", "production_batches", ["gtin", "batch_id"])
    op.create_table(
        "batch_inputs",
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("batch_id", sa.String(20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("input_batch_id", sa.String(20), comment="a predecessor batch"),
        sa.Column("supplier_pf_id", sa.String(36), comment="a received PACT footprint id"),
        sa.PrimaryKeyConstraint("organization_id", "batch_id", "position", name="pk_batch_inputs"),
        sa.ForeignKeyConstraint(
            ["organization_id", "batch_id"],
            ["production_batches.organization_id", "production_batches.batch_id"],
            name="fk_batch_inputs_batch_production_batches",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "(input_batch_id IS NULL) <> (supplier_pf_id IS NULL)",
            name="ck_batch_inputs_one_reference",
        ),
    )
    op.create_table(
        "batch_rejects",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("source_ref", sa.Text(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False, comment="the record as it was read"),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_batch_rejects"),
        sa.UniqueConstraint(
            "organization_id",
            "file_sha256",
            "line",
            name="uq_batch_rejects_organization_id_file_sha256_line",
        ),
    )
    op.create_table(
        "batch_passports",
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("batch_id", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.BigInteger(), nullable=False),
        sa.Column("public", sa.Text(), nullable=False, comment="RFC 8785 JSON of the public part"),
        sa.Column("restricted", sa.Text(), nullable=False, comment="RFC 8785 JSON for the owner"),
        sa.Column("ledger_index", sa.BigInteger(), nullable=False),
        sa.Column("receipt", sa.LargeBinary(), nullable=False, comment="c2sp.org/tlog-proof@v1"),
        sa.PrimaryKeyConstraint(
            "organization_id", "batch_id", "version", name="pk_batch_passports"
        ),
    )


def downgrade() -> None:
    op.drop_table("batch_passports")
    op.drop_table("batch_rejects")
    op.drop_table("batch_inputs")
    op.drop_index("ix_production_batches_gtin", table_name="production_batches")
    op.drop_table("production_batches")
