"""What the web app sets and runs: alert channels and notes, targets, report jobs, session language.

``alert_channels`` holds where alerts are sent (signed webhooks, e-mail over SMTP);
``alert_notes`` an alert's acknowledgements with their comment and assignee; ``emission_targets``
the targets declared in the app; ``report_jobs`` the reports generated on demand with their
progress, file and receipt. ``web_sessions.locale`` keeps the language chosen in one session.

Revision ID: 0016_app_operations
Revises: 0015_relative_paths
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_app_operations"
down_revision: str | None = "0015_relative_paths"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_channels",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text()),
        sa.Column("min_severity", sa.String(16), nullable=False, server_default="warning"),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(254), nullable=False),
        sa.CheckConstraint("kind IN ('email','webhook')", name="ck_alert_channels_kind"),
        sa.PrimaryKeyConstraint("id", name="pk_alert_channels"),
    )
    op.create_index("ix_alert_channels_organization_id", "alert_channels", ["organization_id"])
    op.create_table(
        "alert_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("assignee", sa.String(32)),
        sa.Column("author", sa.String(254), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert_notes"),
    )
    op.create_index("ix_alert_notes_alert_id", "alert_notes", ["alert_id"])
    op.create_table(
        "emission_targets",
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("base_year", sa.Integer(), nullable=False),
        sa.Column("base_tco2e", sa.Float(), nullable=False),
        sa.Column("target_year", sa.Integer(), nullable=False),
        sa.Column("reduction_pct", sa.Float(), nullable=False),
        sa.Column("pathway", sa.String(16), nullable=False),
        sa.Column("scopes", sa.String(64), nullable=False),
        sa.Column("boundary", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(254), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "target_id", name="pk_emission_targets"),
    )
    op.create_table(
        "report_jobs",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("report", sa.String(32), nullable=False),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("step", sa.Text()),
        sa.Column("error", sa.Text()),
        sa.Column("file", sa.Text()),
        sa.Column("receipt", sa.Text()),
        sa.Column("ledger_index", sa.Integer()),
        sa.Column("created_by", sa.String(254), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("finished_at", sa.BigInteger()),
        sa.CheckConstraint(
            "status IN ('queued','running','done','failed')", name="ck_report_jobs_status"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_report_jobs"),
    )
    op.create_index("ix_report_jobs_organization_id", "report_jobs", ["organization_id"])
    op.add_column("web_sessions", sa.Column("locale", sa.String(8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_column("locale")
    op.drop_index("ix_report_jobs_organization_id", table_name="report_jobs")
    op.drop_table("report_jobs")
    op.drop_table("emission_targets")
    op.drop_index("ix_alert_notes_alert_id", table_name="alert_notes")
    op.drop_table("alert_notes")
    op.drop_index("ix_alert_channels_organization_id", table_name="alert_channels")
    op.drop_table("alert_channels")
