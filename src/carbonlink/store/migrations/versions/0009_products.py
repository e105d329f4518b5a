"""Products, bills of materials and computed product footprints, per organization.

Revision ID: 0009_products
Revises: 0008_exchange_owner
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_products"
down_revision: str | None = "0008_exchange_owner"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("declared_unit", sa.String(32), nullable=False, comment="PACT declared unit"),
        sa.Column("declared_unit_amount", sa.Float(), nullable=False),
        sa.Column(
            "mass_per_declared_unit", sa.Float(), nullable=False, comment="kg per declared unit"
        ),
        sa.Column(
            "identifiers",
            sa.Text(),
            nullable=False,
            comment="JSON array of URNs: GS1 GTIN, Handle 88.xxx/…, company product ids",
        ),
        sa.Column(
            "classifications",
            sa.Text(),
            nullable=False,
            comment="JSON array of URNs: CN / HS codes",
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "key", name="pk_products"),
    )
    op.create_table(
        "bom_lines",
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("product_key", sa.String(128), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False, comment="own, purchased or secondary"),
        sa.Column(
            "quantity", sa.Float(), nullable=False, comment="per declared unit of the product"
        ),
        sa.Column("unit", sa.String(32), nullable=False, comment="unit of the quantity"),
        sa.Column("input_product", sa.String(128), comment="own: the input product's key"),
        sa.Column("supplier_pf_id", sa.String(36), comment="purchased: received PACT footprint id"),
        sa.Column("supplier_client_id", sa.String(128), comment="purchased: the supplier partner"),
        sa.Column(
            "supplier_product_id", sa.Text(), comment="purchased: the supplier's product URN"
        ),
        sa.Column("factor_name", sa.Text(), comment="secondary: what the factor values"),
        sa.Column("factor_value", sa.Float(), comment="secondary: kg CO2e per unit"),
        sa.Column("citation", sa.Text(), comment="secondary: source and version of the factor"),
        sa.Column("unit_price", sa.Float(), comment="purchase price per unit, for spend coverage"),
        sa.PrimaryKeyConstraint("organization_id", "product_key", "line_no", name="pk_bom_lines"),
        sa.ForeignKeyConstraint(
            ["organization_id", "product_key"],
            ["products.organization_id", "products.key"],
            name="fk_bom_lines_product_products",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("kind IN ('own', 'purchased', 'secondary')", name="ck_bom_lines_kind"),
        sa.CheckConstraint(
            "(kind <> 'own' OR input_product IS NOT NULL) "
            "AND (kind <> 'purchased' OR supplier_pf_id IS NOT NULL) "
            "AND (kind <> 'secondary' OR (factor_value IS NOT NULL AND citation IS NOT NULL))",
            name="ck_bom_lines_reference",
        ),
    )
    op.create_table(
        "product_footprints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("product_key", sa.String(128), nullable=False),
        sa.Column("period_start", sa.String(10), nullable=False),
        sa.Column("period_end", sa.String(10), nullable=False),
        sa.Column(
            "pcf_excluding_biogenic_uptake", sa.Float(), nullable=False, comment="kg CO2e/unit"
        ),
        sa.Column(
            "pcf_including_biogenic_uptake", sa.Float(), nullable=False, comment="kg CO2e/unit"
        ),
        sa.Column("fossil", sa.Float(), nullable=False, comment="kg CO2e per declared unit"),
        sa.Column("primary_data_share", sa.Float(), comment="percent of the PCF excl. uptake"),
        sa.Column("dqr_technological", sa.Float()),
        sa.Column("dqr_geographical", sa.Float()),
        sa.Column("dqr_temporal", sa.Float()),
        sa.Column("allocation_rule", sa.Text(), nullable=False),
        sa.Column("contributions", sa.Text(), nullable=False, comment="JSON contribution tree"),
        sa.Column("pf_id", sa.String(36), comment="the PACT footprint it was published as"),
        sa.Column("computed_at", sa.BigInteger(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False, comment="sha256 of inputs"),
        sa.PrimaryKeyConstraint("id", name="pk_product_footprints"),
        sa.UniqueConstraint(
            "organization_id",
            "run_id",
            "product_key",
            name="uq_product_footprints_organization_id_run_id_product_key",
        ),
    )
    op.create_index(
        "ix_product_footprints_organization_id_product_key",
        "product_footprints",
        ["organization_id", "product_key"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_product_footprints_organization_id_product_key", table_name="product_footprints"
    )
    op.drop_table("product_footprints")
    op.drop_table("bom_lines")
    op.drop_table("products")
