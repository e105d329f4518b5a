"""Tables of data entered through the service: received files and activity values typed in.

They live on their own ``data_entry_metadata``; the Alembic revision ``0017_data_entry`` creates
them. A received file is kept whole in ``documents`` (under its SHA-256) before anything is read
from it; ``file_imports`` follows its import from the mapping to the counts. An activity value is
never changed in place: a correction is a new row that points at the one it replaces, with who
made it, when and why, so the page can show the trail from the first value to the current one.
"""

from __future__ import annotations

import sqlalchemy as sa

from carbonlink.store.schema import NAMING_CONVENTION, UtcTimestamp

data_entry_metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

IMPORT_STATUS_CHECK = "status IN ('received','running','finished','failed')"

file_imports = sa.Table(
    "file_imports",
    data_entry_metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("organization_id", sa.String(64), nullable=False, index=True),
    sa.Column("name", sa.Text, nullable=False, comment="file name as uploaded"),
    sa.Column("kind", sa.String(8), nullable=False, comment="csv or xlsx"),
    sa.Column("document_sha256", sa.String(64), nullable=False, comment="the kept file"),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("uploaded_by", sa.Text, nullable=False),
    sa.Column("uploaded_at", UtcTimestamp, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="received"),
    sa.Column("mapping", sa.Text, comment="JSON of the mapping the import ran with"),
    sa.Column("rows_total", sa.BigInteger, comment="rows in the file (estimated for CSV)"),
    sa.Column("rows_done", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("stored", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("duplicates", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("quarantined", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("batch_id", sa.String(36), comment="the import batch of the readings"),
    sa.Column("error", sa.Text, comment="why the import failed as a whole"),
    sa.Column("finished_at", UtcTimestamp),
    sa.CheckConstraint(IMPORT_STATUS_CHECK, name="status"),
)

activity_entries = sa.Table(
    "activity_entries",
    data_entry_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("organization_id", sa.String(64), nullable=False, index=True),
    sa.Column("source_id", sa.String(64), nullable=False),
    sa.Column("period", sa.String(7), nullable=False, comment="local calendar month, YYYY-MM"),
    sa.Column("quantity", sa.Float, nullable=False),
    sa.Column("unit", sa.String(32), nullable=False),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("evidence_sha256", sa.String(64), comment="the kept evidence document"),
    sa.Column("evidence_name", sa.Text),
    sa.Column("evidence_ledger_index", sa.BigInteger, comment="the evidence's ledger entry"),
    sa.Column("supersedes", sa.Integer, comment="the entry this one corrects"),
    sa.Column("reason", sa.Text, comment="why the correction was made"),
    sa.Column("entered_by", sa.Text, nullable=False),
    sa.Column("entered_at", UtcTimestamp, nullable=False),
    sa.UniqueConstraint("supersedes"),
)
"""Activity values typed in per source and month; a correction supersedes exactly one entry."""

__all__ = ["activity_entries", "data_entry_metadata", "file_imports"]
