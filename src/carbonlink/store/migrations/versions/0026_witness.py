"""Witnesses the ledger asks, anchor targets, the logs this workspace witnesses, evidence.

Revision ID: 0026_witness
Revises: 0020_report_job_heartbeat
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_witness"
down_revision: str | None = "0020_report_job_heartbeat"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_witness",
        sa.Column("name", sa.String(255), nullable=False, comment="the witness key's name"),
        sa.Column("vkey", sa.Text(), nullable=False, comment="its cosignature/v1 verifier key"),
        sa.Column(
            "url", sa.Text(), nullable=False, comment="submission prefix of its add-checkpoint"
        ),
        sa.Column(
            "size", sa.BigInteger(), nullable=False, comment="size it last cosigned (0: none known)"
        ),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cosigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "ledger_anchor_target",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("url", sa.Text(), nullable=False, comment="base URL of the chain adapter"),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "witnessed_log",
        sa.Column(
            "origin", sa.String(255), nullable=False, comment="the log's checkpoint origin line"
        ),
        sa.Column(
            "vkeys", sa.Text(), nullable=False, comment="the log's verifier keys, one a line"
        ),
        sa.Column(
            "size", sa.BigInteger(), nullable=False, comment="size last cosigned (0: none yet)"
        ),
        sa.Column("root_hash", sa.LargeBinary(), nullable=True),
        sa.Column(
            "note", sa.LargeBinary(), nullable=True, comment="that checkpoint with our cosignature"
        ),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cosigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("origin"),
    )
    op.create_table(
        "witness_evidence",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("origin", sa.String(255), nullable=False),
        sa.Column("old_size", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column(
            "request",
            sa.LargeBinary(),
            nullable=False,
            comment="the add-checkpoint body, as received",
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_witness_evidence_origin", "witness_evidence", ["origin"])


def downgrade() -> None:
    op.drop_index("ix_witness_evidence_origin", table_name="witness_evidence")
    op.drop_table("witness_evidence")
    op.drop_table("witnessed_log")
    op.drop_table("ledger_anchor_target")
    op.drop_table("ledger_witness")
