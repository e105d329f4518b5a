"""Tables of China ETS operations: control plans, monthly parameters, quarantine, deposits.

They live on their own ``cets_metadata``; the Alembic revision ``0020_cets_operations`` creates
them. A control plan is saved like a monitoring plan: one row per version, never updated, the
content hash unique within the organization. A monthly parameter is one row per (entity, month,
source stream, parameter); importing the same ledger again writes the same rows (idempotent),
and a corrected value replaces the row while the deposit pack already receipted keeps the old
one. Evidence files are kept whole in the store's ``documents`` table under their SHA-256.
"""

from __future__ import annotations

import sqlalchemy as sa

from carbonlink.store.schema import NAMING_CONVENTION, UtcTimestamp

cets_metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

cets_control_plans = sa.Table(
    "cets_control_plans",
    cets_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("organization_id", sa.String(64), nullable=False),
    sa.Column("entity_id", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("replaces", sa.String(64), comment="content hash of the previous version"),
    sa.Column("plan", sa.Text, nullable=False, comment="JSON: ControlPlan.model_dump(json)"),
    sa.Column("created_at", UtcTimestamp, nullable=False),
    sa.Column("created_by", sa.String(254), nullable=False),
    sa.UniqueConstraint(
        "organization_id", "entity_id", "version", name="uq_cets_control_plans_entity_version"
    ),
    sa.UniqueConstraint(
        "organization_id", "content_hash", name="uq_cets_control_plans_organization_content_hash"
    ),
)

cets_parameters = sa.Table(
    "cets_parameters",
    cets_metadata,
    sa.Column("organization_id", sa.String(64), nullable=False),
    sa.Column("entity_id", sa.String(64), nullable=False),
    sa.Column("month", sa.String(7), nullable=False, comment="YYYY-MM"),
    sa.Column("source", sa.String(64), nullable=False, comment="source stream or process"),
    sa.Column("parameter", sa.String(32), nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("unit", sa.String(32), nullable=False, server_default=""),
    sa.Column("report_id", sa.String(64), nullable=False, server_default=""),
    sa.Column(
        "accreditation", sa.String(64), nullable=False, server_default="", comment="CMA/CNAS"
    ),
    sa.Column("sample_id", sa.String(64), nullable=False, server_default=""),
    sa.Column("sample_date", sa.String(10), nullable=False, server_default=""),
    sa.Column("standard", sa.Text, nullable=False, server_default=""),
    sa.Column("sample_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("evidence_kind", sa.String(16), nullable=False, server_default=""),
    sa.Column("evidence_name", sa.Text, nullable=False, server_default=""),
    sa.Column("evidence_sha256", sa.String(64), nullable=False, server_default=""),
    sa.Column("origin", sa.String(16), nullable=False, comment="ledger, form or meter"),
    sa.Column("entered_by", sa.Text, nullable=False),
    sa.Column("entered_at", UtcTimestamp, nullable=False),
    sa.PrimaryKeyConstraint(
        "organization_id", "entity_id", "month", "source", "parameter", name="pk_cets_parameters"
    ),
)

cets_quarantine = sa.Table(
    "cets_quarantine",
    cets_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("organization_id", sa.String(64), nullable=False, index=True),
    sa.Column("entity_id", sa.String(64), nullable=False, server_default=""),
    sa.Column("file_name", sa.Text, nullable=False),
    sa.Column("row_number", sa.Integer, nullable=False),
    sa.Column("record", sa.Text, nullable=False, comment="JSON of the row as read"),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("created_at", UtcTimestamp, nullable=False),
)

cets_deposits = sa.Table(
    "cets_deposits",
    cets_metadata,
    sa.Column("organization_id", sa.String(64), nullable=False),
    sa.Column("pack_id", sa.String(128), nullable=False),
    sa.Column("entity_id", sa.String(64), nullable=False),
    sa.Column("month", sa.String(7), nullable=False),
    sa.Column("folder", sa.String(255), nullable=False, comment="pack folder, workspace-relative"),
    sa.Column("ledger_index", sa.BigInteger, nullable=False),
    sa.Column("files", sa.Text, nullable=False, comment="JSON: file name → SHA-256"),
    sa.Column("findings", sa.Integer, nullable=False),
    sa.Column("deposited_on", sa.String(10), nullable=False, comment="upload date, YYYY-MM-DD"),
    sa.Column("created_at", UtcTimestamp, nullable=False),
    sa.PrimaryKeyConstraint("organization_id", "folder", name="pk_cets_deposits"),
)
