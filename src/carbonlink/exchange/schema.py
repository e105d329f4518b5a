"""Tables of the PACT exchange: partners, their grants and tokens, footprints and events.

They live on the store's ``metadata`` so that one Alembic history (revision ``0004_exchange``)
creates them; ``0008_exchange_owner`` gives each row the organization that owns it, since one
service hosts the exchange of many organizations. JSON documents are kept as the exact text
published or received; list-valued properties used for filtering (product ids, company ids,
classifications) are kept as JSON arrays and, lower-cased (PACT matches them
case-insensitively), as rows of ``pact_footprint_keys`` so that access and filters are one SQL
query.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from carbonlink.store.schema import UtcTimestamp, metadata


def _owner() -> Column[str]:
    """The organization whose exchange a row belongs to (``default``: a stand-alone host's)."""
    return Column(
        "organization_id",
        String(64),
        nullable=False,
        server_default="default",
        comment="the organization whose exchange this row belongs to",
    )


pact_partners = Table(
    "pact_partners",
    metadata,
    _owner(),
    Column("client_id", String(128), primary_key=True),
    Column("secret_hash", Text, nullable=False, comment="argon2id hash of the client secret"),
    Column("name", Text, nullable=False),
    Column("organization", Text, nullable=False, comment="the partner's company"),
    Column("company_ids", Text, nullable=False, comment="JSON array of the partner's URNs"),
    Column("events_url", Text, comment="base URL of the partner's PACT host, for answers"),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UtcTimestamp, nullable=False),
)

pact_grants = Table(
    "pact_grants",
    metadata,
    Column(
        "client_id",
        String(128),
        ForeignKey("pact_partners.client_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("kind", String(16), nullable=False, comment="footprint (a pf id) or company (a URN)"),
    Column("value", String(512), nullable=False),
    UniqueConstraint("client_id", "kind", "value", name="uq_pact_grants_client_id_kind_value"),
    CheckConstraint("kind IN ('footprint', 'company')", name="kind"),
)

pact_tokens = Table(
    "pact_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True, comment="SHA-256 of the bearer token"),
    Column(
        "client_id",
        String(128),
        ForeignKey("pact_partners.client_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("expires_at", UtcTimestamp, nullable=False),
)

pact_footprints = Table(
    "pact_footprints",
    metadata,
    _owner(),
    Column("pf_id", String(36), primary_key=True),
    Column("document", Text, nullable=False, comment="the footprint's JSON exactly as published"),
    Column("product_ids", Text, nullable=False, comment="JSON array, lower case"),
    Column("company_ids", Text, nullable=False, comment="JSON array, lower case"),
    Column("classifications", Text, nullable=False, comment="JSON array, lower case"),
    Column("geography", Text, comment="JSON array of the footprint's geography values"),
    Column("valid_from", UtcTimestamp, nullable=False),
    Column("valid_to", UtcTimestamp, nullable=False),
    Column("status", String(16), nullable=False),
    Column("published_at", UtcTimestamp, nullable=False),
    CheckConstraint("status IN ('Active', 'Deprecated')", name="status"),
)
Index("ix_pact_footprints_published_at", pact_footprints.c.published_at)

pact_footprint_keys = Table(
    "pact_footprint_keys",
    metadata,
    Column(
        "pf_id",
        String(36),
        ForeignKey("pact_footprints.pf_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("kind", String(16), nullable=False, comment="product, company, classification, geo"),
    Column("value", String(512), nullable=False, comment="lower case"),
    PrimaryKeyConstraint("pf_id", "kind", "value", name="pk_pact_footprint_keys"),
)
Index("ix_pact_footprint_keys_kind_value", pact_footprint_keys.c.kind, pact_footprint_keys.c.value)

pact_received_footprints = Table(
    "pact_received_footprints",
    metadata,
    _owner(),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pf_id", String(36), nullable=False),
    Column("source", Text, nullable=False, comment="host pulled from, or partner that sent it"),
    Column("received_at", UtcTimestamp, nullable=False),
    Column("sha256", String(64), nullable=False, comment="of the raw JSON received"),
    Column("document", Text, nullable=False),
    Column("via", String(16), nullable=False, comment="pull or event"),
    UniqueConstraint(
        "organization_id",
        "pf_id",
        "sha256",
        name="uq_pact_received_footprints_organization_id_pf_id_sha256",
    ),
)

pact_events = Table(
    "pact_events",
    metadata,
    _owner(),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(255), nullable=False),
    Column("direction", String(8), nullable=False, comment="received or sent"),
    Column("partner", String(128), nullable=False, comment="client id or remote host"),
    Column("type", String(80), nullable=False),
    Column("request_event_id", String(255), comment="the request a fulfil/reject answers"),
    Column("target_url", Text, comment="where a sent event is delivered (…/3/events)"),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcTimestamp),
    Column("last_error", Text),
    Column("document", Text, nullable=False),
    Column("created_at", UtcTimestamp, nullable=False),
    Column("updated_at", UtcTimestamp, nullable=False),
    UniqueConstraint(
        "direction", "partner", "event_id", name="uq_pact_events_direction_partner_event_id"
    ),
    CheckConstraint("direction IN ('received', 'sent')", name="direction"),
)
Index("ix_pact_events_status", pact_events.c.status, pact_events.c.next_attempt_at)
Index("ix_pact_partners_organization_id", pact_partners.c.organization_id)
Index("ix_pact_footprints_organization_id", pact_footprints.c.organization_id)
Index("ix_pact_received_footprints_organization_id", pact_received_footprints.c.organization_id)
Index("ix_pact_events_organization_id", pact_events.c.organization_id)

# Revision 0021_cbam_verification: CBAM communications an installation operator publishes for
# its customers, served on the PACT host (``/cbam/communications``) as Catena-X CBAM JSON.
cbam_communications = Table(
    "cbam_communications",
    metadata,
    _owner(),
    Column("id", String(128), nullable=False, comment="the operator's name for it"),
    Column("installation", Text, nullable=False),
    Column("period_start", String(10), nullable=False, comment="ISO date"),
    Column("period_end", String(10), nullable=False, comment="ISO date"),
    Column("status", String(16), nullable=False, comment="verified or not verified"),
    Column("communication", Text, nullable=False, comment="carbonlink communication JSON"),
    Column("catenax", Text, nullable=False, comment="the Catena-X CBAM JSON exactly as served"),
    Column("catenax_sha256", String(64), nullable=False),
    Column("published_at", UtcTimestamp, nullable=False),
    PrimaryKeyConstraint("organization_id", "id", name="pk_cbam_communications"),
    CheckConstraint("status IN ('verified', 'not verified')", name="status"),
)
