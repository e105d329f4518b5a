"""Initial store: organizations, facilities, sources, meters, readings, quarantine, batches,
activity.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("country", sa.String(2)),
        sa.PrimaryKeyConstraint("id", name="pk_organizations"),
    )
    op.create_table(
        "facilities",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "time_zone", sa.String(64), nullable=False, comment="IANA time zone, e.g. Asia/Seoul"
        ),
        sa.Column("grid_region", sa.String(64), comment="electricity grid the site draws from"),
        sa.Column("address", sa.Text()),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name="fk_facilities_organization_id_organizations",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_facilities"),
    )
    op.create_table(
        "sources",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("facility_id", sa.String(64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "kind", sa.String(32), nullable=False, comment="e.g. electricity, combustion, process"
        ),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["facilities.id"], name="fk_sources_facility_id_facilities"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_sources"),
    )
    op.create_table(
        "meters",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("facility_id", sa.String(64)),
        sa.Column("source_id", sa.String(64)),
        sa.Column("name", sa.Text()),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("multiplier", sa.Float(), server_default="1", nullable=False),
        sa.Column(
            "rollover_max",
            sa.Float(),
            comment="largest value a register shows before it wraps to 0",
        ),
        sa.Column("time_zone", sa.String(64), server_default="UTC", nullable=False),
        sa.Column("labelling", sa.String(8), server_default="end", nullable=False),
        sa.Column("interval_s", sa.Integer(), comment="nominal interval length, seconds"),
        sa.Column("min_value", sa.Float(), comment="plausibility: smallest credible reading"),
        sa.Column("max_value", sa.Float(), comment="plausibility: largest credible reading"),
        sa.Column(
            "max_interval_quantity",
            sa.Float(),
            comment="plausibility: largest credible consumption",
        ),
        sa.CheckConstraint("kind IN ('register', 'interval')", name="ck_meters_kind"),
        sa.CheckConstraint("labelling IN ('start', 'end')", name="ck_meters_labelling"),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["facilities.id"], name="fk_meters_facility_id_facilities"
        ),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name="fk_meters_source_id_sources"),
        sa.PrimaryKeyConstraint("id", name="pk_meters"),
    )
    op.create_table(
        "import_batches",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column(
            "kind", sa.String(16), nullable=False, comment="csv, xlsx, mqtt, sparkplug, opcua, http"
        ),
        sa.Column("source_ref", sa.Text(), nullable=False, comment="file name or stream address"),
        sa.Column("file_sha256", sa.String(64)),
        sa.Column("mapping_sha256", sa.String(64)),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("finished_at", sa.BigInteger()),
        sa.Column("records", sa.Integer(), server_default="0", nullable=False),
        sa.Column("readings_new", sa.Integer(), server_default="0", nullable=False),
        sa.Column("readings_duplicate", sa.Integer(), server_default="0", nullable=False),
        sa.Column("quarantined", sa.Integer(), server_default="0", nullable=False),
        sa.Column("status", sa.String(16), server_default="running", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_import_batches"),
    )
    op.create_table(
        "readings",
        sa.Column("meter_id", sa.String(64), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("quality", sa.String(16), server_default="good", nullable=False),
        sa.Column("batch_id", sa.String(36)),
        sa.Column("source_ref", sa.Text()),
        sa.PrimaryKeyConstraint("meter_id", "ts", name="pk_readings"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column(
            "fingerprint", sa.String(64), nullable=False, comment="sha256 of source, line and bytes"
        ),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.Column("batch_id", sa.String(36)),
        sa.Column("source_ref", sa.Text(), nullable=False),
        sa.Column("line", sa.Integer()),
        sa.Column("meter_id", sa.String(64)),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_quarantine"),
        sa.UniqueConstraint("fingerprint", name="uq_quarantine_fingerprint"),
    )
    op.create_index("ix_quarantine_batch", "quarantine", ["batch_id"])
    op.create_table(
        "activity",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("meter_id", sa.String(64), nullable=False),
        sa.Column("source_id", sa.String(64)),
        sa.Column("period_start", sa.BigInteger(), nullable=False),
        sa.Column("period_end", sa.BigInteger(), nullable=False),
        sa.Column(
            "period_label", sa.String(32), nullable=False, comment="local label, e.g. 2018-03"
        ),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("estimated_quantity", sa.Float(), server_default="0", nullable=False),
        sa.Column("intervals", sa.Integer(), nullable=False),
        sa.Column("intervals_estimated", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "rules", sa.Text(), server_default="", nullable=False, comment="estimation rules used"
        ),
        sa.Column(
            "input_digest", sa.String(64), nullable=False, comment="sha256 of readings and rules"
        ),
        sa.Column("supersedes", sa.Integer()),
        sa.Column("derived_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["supersedes"], ["activity.id"], name="fk_activity_supersedes_activity"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_activity"),
        sa.UniqueConstraint(
            "meter_id", "period_start", "period_end", "input_digest", name="uq_activity_natural"
        ),
    )


def downgrade() -> None:
    op.drop_table("activity")
    op.drop_index("ix_quarantine_batch", table_name="quarantine")
    op.drop_table("quarantine")
    op.drop_table("readings")
    op.drop_table("import_batches")
    op.drop_table("meters")
    op.drop_table("sources")
    op.drop_table("facilities")
    op.drop_table("organizations")
