"""Tables of verifiable credentials: what each organization issued, and its revocation bits.

They live on their own ``credentials_metadata``; the Alembic revision ``0025_credentials``
creates them (and admits the ``lender`` role on ``users``). Each issued credential keeps its
signed JSON exactly as handed out, and its position in the organization's Bitstring Status
List: revoking sets ``revoked_at``, and the served list is rebuilt from these rows.
"""

from __future__ import annotations

import sqlalchemy as sa

from carbonlink.store.schema import NAMING_CONVENTION

credentials_metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

CREDENTIAL_KINDS = ("pcf", "cbam", "kpi")

issued_credentials = sa.Table(
    "issued_credentials",
    credentials_metadata,
    sa.Column("organization_id", sa.String(64), nullable=False),
    sa.Column("id", sa.String(200), nullable=False, comment="the credential's id (urn:uuid:…)"),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("title", sa.Text, nullable=False, comment="what it is about, for lists"),
    sa.Column("holder", sa.String(254), nullable=True, comment="lender user id it is shared with"),
    sa.Column("status_index", sa.Integer, nullable=False, comment="bit in the status list"),
    sa.Column("document", sa.Text, nullable=False, comment="the signed credential, JSON"),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("issued_by", sa.String(64), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revoked_by", sa.String(64), nullable=True),
    sa.CheckConstraint("kind IN ('pcf','cbam','kpi')", name="kind"),
    sa.PrimaryKeyConstraint("organization_id", "id"),
    sa.UniqueConstraint(
        "organization_id", "status_index", name="uq_issued_credentials_status_index"
    ),
)
