"""Verifiable ledger: entries, stored Merkle hashes, tree size, checkpoints, cosignatures, anchors.

Revision ID: 0002_ledger
Revises: 0001_initial
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_ledger"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _log_index() -> sa.types.TypeEngine[int]:
    # INTEGER PRIMARY KEY makes SQLite use the key as the rowid (appends go to one B-tree end).
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ledger_tree",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("origin", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "ledger_entry",
        sa.Column("idx", _log_index(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(255), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("idx"),
    )
    op.create_index("ix_ledger_entry_subject", "ledger_entry", ["subject"])
    op.create_table(
        "ledger_hash",
        sa.Column("leaf", _log_index(), autoincrement=False, nullable=False),
        sa.Column("hashes", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("leaf"),
    )
    op.create_table(
        "ledger_checkpoint",
        sa.Column("size", _log_index(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(), nullable=False),
        sa.Column("note", sa.LargeBinary(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("size"),
    )
    op.create_table(
        "ledger_cosignature",
        sa.Column("checkpoint_size", _log_index(), autoincrement=False, nullable=False),
        sa.Column("witness", sa.String(255), nullable=False),
        sa.Column("key_id", sa.LargeBinary(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["checkpoint_size"], ["ledger_checkpoint.size"]),
        sa.PrimaryKeyConstraint("checkpoint_size", "witness", "key_id"),
    )
    op.create_table(
        "ledger_anchor",
        sa.Column("checkpoint_size", _log_index(), autoincrement=False, nullable=False),
        sa.Column("anchor", sa.String(255), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("anchored_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["checkpoint_size"], ["ledger_checkpoint.size"]),
        sa.PrimaryKeyConstraint("checkpoint_size", "anchor"),
    )


def downgrade() -> None:
    op.drop_table("ledger_anchor")
    op.drop_table("ledger_cosignature")
    op.drop_table("ledger_checkpoint")
    op.drop_table("ledger_hash")
    op.drop_index("ix_ledger_entry_subject", table_name="ledger_entry")
    op.drop_table("ledger_entry")
    op.drop_table("ledger_tree")
