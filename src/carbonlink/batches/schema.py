"""Tables of production batches, their inputs, rejected production records and passports.

They live on their own ``batch_metadata``; the Alembic revision ``0024_batches_identifiers``
creates them. Every row belongs to an organization. A batch is written once from a production
record and never updated (a record that disagrees with the stored batch is rejected). A
passport is kept per version with the ledger entry that vouches for it.
"""

from __future__ import annotations

import sqlalchemy as sa

from carbonlink.store.schema import NAMING_CONVENTION, UtcTimestamp

batch_metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

STAGES = ("heat", "slab", "coil")
"""Production stages in order: a batch is made from batches of earlier stages only."""

production_batches = sa.Table(
    "production_batches",
    batch_metadata,
    sa.Column("organization_id", sa.String(64), nullable=False),
    sa.Column("batch_id", sa.String(20), nullable=False, comment="heat, slab or coil number"),
    sa.Column("stage", sa.String(8), nullable=False, comment="heat, slab or coil"),
    sa.Column("product_key", sa.String(128), comment="the stored product it is a unit of"),
    sa.Column("facility_id", sa.String(64)),
    sa.Column("produced_on", sa.String(10), nullable=False, comment="ISO date"),
    sa.Column("quantity", sa.Float, nullable=False),
    sa.Column("unit", sa.String(16), nullable=False),
    sa.Column("gtin", sa.String(14), comment="GTIN-14 of the product, for GS1 Digital Link"),
    sa.Column("serial", sa.String(20), comment="GS1 AI (21) serial, if any"),
    sa.Column("handle", sa.String(255), comment="<prefix>/<suffix>"),
    sa.Column("source_ref", sa.Text, nullable=False, comment="file the record came from"),
    sa.Column("line", sa.Integer, comment="its line (CSV) or row (XLSX)"),
    sa.Column("file_sha256", sa.String(64), nullable=False),
    sa.Column("imported_at", UtcTimestamp, nullable=False),
    sa.PrimaryKeyConstraint("organization_id", "batch_id", name="pk_production_batches"),
    sa.UniqueConstraint("handle", name="uq_production_batches_handle"),
    sa.CheckConstraint("stage IN ('heat', 'slab', 'coil')", name="stage"),
)
sa.Index("ix_production_batches_gtin", production_batches.c.gtin, production_batches.c.batch_id)

batch_inputs = sa.Table(
    "batch_inputs",
    batch_metadata,
    sa.Column("organization_id", sa.String(64), nullable=False),
    sa.Column("batch_id", sa.String(20), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
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
        "(input_batch_id IS NULL) <> (supplier_pf_id IS NULL)", name="one_reference"
    ),
)

batch_rejects = sa.Table(
    "batch_rejects",
    batch_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("organization_id", sa.String(64), nullable=False),
    sa.Column("file_sha256", sa.String(64), nullable=False),
    sa.Column("source_ref", sa.Text, nullable=False),
    sa.Column("line", sa.Integer, nullable=False),
    sa.Column("raw", sa.Text, nullable=False, comment="the record as it was read"),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("received_at", UtcTimestamp, nullable=False),
    sa.UniqueConstraint(
        "organization_id",
        "file_sha256",
        "line",
        name="uq_batch_rejects_organization_id_file_sha256_line",
    ),
)

batch_passports = sa.Table(
    "batch_passports",
    batch_metadata,
    sa.Column("organization_id", sa.String(64), nullable=False),
    sa.Column("batch_id", sa.String(20), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("issued_at", UtcTimestamp, nullable=False),
    sa.Column("public", sa.Text, nullable=False, comment="RFC 8785 JSON of the public part"),
    sa.Column("restricted", sa.Text, nullable=False, comment="RFC 8785 JSON for the owner"),
    sa.Column("ledger_index", sa.BigInteger, nullable=False),
    sa.Column("receipt", sa.LargeBinary, nullable=False, comment="c2sp.org/tlog-proof@v1"),
    sa.PrimaryKeyConstraint("organization_id", "batch_id", "version", name="pk_batch_passports"),
)
