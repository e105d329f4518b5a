"""Exchange rows belong to an organization: partners, footprints, received footprints, events.

One service hosts the PACT exchange of many organizations; each row names the organization that
owns it, and every query of the exchange is scoped to one. Rows made before this revision belong
to ``default``, the owner a stand-alone PACT host serves.

Revision ID: 0008_exchange_owner
Revises: 0007_monitoring_plans
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_exchange_owner"
down_revision: str | None = "0007_monitoring_plans"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("pact_partners", "pact_footprints", "pact_received_footprints", "pact_events")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column(
                    "organization_id",
                    sa.String(64),
                    nullable=False,
                    server_default="default",
                    comment="the organization whose exchange this row belongs to",
                )
            )
        op.create_index(f"ix_{table}_organization_id", table, ["organization_id"])
    with op.batch_alter_table("pact_received_footprints") as batch:
        batch.drop_constraint("uq_pact_received_footprints_pf_id_sha256", type_="unique")
        batch.create_unique_constraint(
            "uq_pact_received_footprints_organization_id_pf_id_sha256",
            ["organization_id", "pf_id", "sha256"],
        )


def downgrade() -> None:
    with op.batch_alter_table("pact_received_footprints") as batch:
        batch.drop_constraint(
            "uq_pact_received_footprints_organization_id_pf_id_sha256", type_="unique"
        )
        batch.create_unique_constraint(
            "uq_pact_received_footprints_pf_id_sha256", ["pf_id", "sha256"]
        )
    for table in TABLES:
        op.drop_index(f"ix_{table}_organization_id", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("organization_id")
