"""Supplier portal: e-mail invitations, purchases that weigh coverage, users bound to a partner.

A supplier without a PACT host is invited by a one-time link (only its SHA-256 is stored); the
account it sets up has the supplier role and answers for exactly one partner of the inviting
organization (``users.partner_id``).

Revision ID: 0010_supplier_portal
Revises: 0009_products
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_supplier_portal"
down_revision: str | None = "0009_products"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column(
                "partner_id",
                sa.String(128),
                nullable=True,
                comment="for the supplier role: the PACT partner (client id) the user answers for",
            )
        )
    op.create_table(
        "supplier_invitations",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("partner_id", sa.String(128), nullable=False, comment="the supplier's client id"),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "invited_by", sa.String(64), nullable=True, comment="subject of the inviting user"
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_supplier_invitations"),
        sa.UniqueConstraint("token_hash", name="uq_supplier_invitations_token_hash"),
    )
    op.create_index(
        "ix_supplier_invitations_organization_id", "supplier_invitations", ["organization_id"]
    )
    op.create_table(
        "portal_purchases",
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("request_event_id", sa.String(64), nullable=False),
        sa.Column("partner_id", sa.String(128), nullable=False),
        sa.Column("product_id", sa.String(512), nullable=False, comment="the URN asked for"),
        sa.Column("mass_kg", sa.Float(), nullable=False, comment="purchased per year, kg"),
        sa.Column("spend", sa.Float(), nullable=False, comment="spent per year, CNY"),
        sa.PrimaryKeyConstraint("organization_id", "request_event_id", name="pk_portal_purchases"),
    )


def downgrade() -> None:
    op.drop_table("portal_purchases")
    op.drop_index("ix_supplier_invitations_organization_id", table_name="supplier_invitations")
    op.drop_table("supplier_invitations")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("partner_id")
