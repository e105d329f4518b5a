"""A report job's last sign of life, so that a job the service stopped running is not shown as
running for ever.

Revision ID: 0020_report_job_heartbeat
Revises: 0019_supplier_requests
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_report_job_heartbeat"
down_revision: str | None = "0019_supplier_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("report_jobs") as batch:
        batch.add_column(
            sa.Column("updated_at", sa.BigInteger(), comment="the job's last progress record")
        )


def downgrade() -> None:
    with op.batch_alter_table("report_jobs") as batch:
        batch.drop_column("updated_at")
