"""PACT exchange: partners, grants, tokens, published and received footprints, events.

Revision ID: 0004_exchange
Revises: 0003_accounts
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_exchange"
down_revision: str | None = "0003_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pact_partners",
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column(
            "secret_hash", sa.Text(), nullable=False, comment="argon2id hash of the client secret"
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("organization", sa.Text(), nullable=False, comment="the partner's company"),
        sa.Column(
            "company_ids", sa.Text(), nullable=False, comment="JSON array of the partner's URNs"
        ),
        sa.Column(
            "events_url", sa.Text(), comment="base URL of the partner's PACT host, for answers"
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name="pk_pact_partners"),
    )
    op.create_table(
        "pact_grants",
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column(
            "kind",
            sa.String(16),
            nullable=False,
            comment="footprint (a pf id) or company (a URN)",
        ),
        sa.Column("value", sa.String(512), nullable=False),
        sa.CheckConstraint("kind IN ('footprint', 'company')", name="ck_pact_grants_kind"),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["pact_partners.client_id"],
            name="fk_pact_grants_client_id_pact_partners",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "client_id", "kind", "value", name="uq_pact_grants_client_id_kind_value"
        ),
    )
    op.create_table(
        "pact_tokens",
        sa.Column(
            "token_hash", sa.String(64), nullable=False, comment="SHA-256 of the bearer token"
        ),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["pact_partners.client_id"],
            name="fk_pact_tokens_client_id_pact_partners",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name="pk_pact_tokens"),
    )
    op.create_table(
        "pact_footprints",
        sa.Column("pf_id", sa.String(36), nullable=False),
        sa.Column(
            "document",
            sa.Text(),
            nullable=False,
            comment="the footprint's JSON exactly as published",
        ),
        sa.Column("product_ids", sa.Text(), nullable=False, comment="JSON array, lower case"),
        sa.Column("company_ids", sa.Text(), nullable=False, comment="JSON array, lower case"),
        sa.Column("classifications", sa.Text(), nullable=False, comment="JSON array, lower case"),
        sa.Column("geography", sa.Text(), comment="JSON array of the footprint's geography values"),
        sa.Column("valid_from", sa.BigInteger(), nullable=False),
        sa.Column("valid_to", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("published_at", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("status IN ('Active', 'Deprecated')", name="ck_pact_footprints_status"),
        sa.PrimaryKeyConstraint("pf_id", name="pk_pact_footprints"),
    )
    op.create_index("ix_pact_footprints_published_at", "pact_footprints", ["published_at"])
    op.create_table(
        "pact_footprint_keys",
        sa.Column("pf_id", sa.String(36), nullable=False),
        sa.Column(
            "kind",
            sa.String(16),
            nullable=False,
            comment="product, company, classification, geo",
        ),
        sa.Column("value", sa.String(512), nullable=False, comment="lower case"),
        sa.ForeignKeyConstraint(
            ["pf_id"],
            ["pact_footprints.pf_id"],
            name="fk_pact_footprint_keys_pf_id_pact_footprints",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pf_id", "kind", "value", name="pk_pact_footprint_keys"),
    )
    op.create_index("ix_pact_footprint_keys_kind_value", "pact_footprint_keys", ["kind", "value"])
    op.create_table(
        "pact_received_footprints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pf_id", sa.String(36), nullable=False),
        sa.Column(
            "source", sa.Text(), nullable=False, comment="host pulled from, or partner that sent it"
        ),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False, comment="of the raw JSON received"),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("via", sa.String(16), nullable=False, comment="pull or event"),
        sa.PrimaryKeyConstraint("id", name="pk_pact_received_footprints"),
        sa.UniqueConstraint("pf_id", "sha256", name="uq_pact_received_footprints_pf_id_sha256"),
    )
    op.create_table(
        "pact_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False, comment="received or sent"),
        sa.Column("partner", sa.String(128), nullable=False, comment="client id or remote host"),
        sa.Column("type", sa.String(80), nullable=False),
        sa.Column(
            "request_event_id",
            sa.String(255),
            comment="the request a fulfil/reject answers",
        ),
        sa.Column("target_url", sa.Text(), comment="where a sent event is delivered (…/3/events)"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger()),
        sa.Column("last_error", sa.Text()),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("direction IN ('received', 'sent')", name="ck_pact_events_direction"),
        sa.PrimaryKeyConstraint("id", name="pk_pact_events"),
        sa.UniqueConstraint(
            "direction", "partner", "event_id", name="uq_pact_events_direction_partner_event_id"
        ),
    )
    op.create_index("ix_pact_events_status", "pact_events", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_pact_events_status", table_name="pact_events")
    op.drop_table("pact_events")
    op.drop_table("pact_received_footprints")
    op.drop_index("ix_pact_footprint_keys_kind_value", table_name="pact_footprint_keys")
    op.drop_table("pact_footprint_keys")
    op.drop_index("ix_pact_footprints_published_at", table_name="pact_footprints")
    op.drop_table("pact_footprints")
    op.drop_table("pact_tokens")
    op.drop_table("pact_grants")
    op.drop_table("pact_partners")
