"""Tables of products, their bills of materials and their computed footprints.

They live on their own ``footprint_metadata``; the Alembic revision ``0009_products`` creates
them. Every row belongs to an organization. A purchased BOM line names the supplier footprint
it rests on (the received PACT footprint id, the supplier's client id and product id) rather
than copying its numbers, so the footprint's provenance (source, time, SHA-256) stays in the
exchange's ``pact_received_footprints``. A computed footprint is kept per product and run,
never updated: a new run adds rows.
"""

from __future__ import annotations

import sqlalchemy as sa

from carbonlink.store.schema import NAMING_CONVENTION, UtcTimestamp

footprint_metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

BOM_KINDS = ("own", "purchased", "secondary")

products = sa.Table(
    "products",
    footprint_metadata,
    sa.Column("organization_id", sa.String(64), nullable=False),
    sa.Column("key", sa.String(128), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("declared_unit", sa.String(32), nullable=False, comment="PACT declared unit"),
    sa.Column("declared_unit_amount", sa.Float, nullable=False),
    sa.Column("mass_per_declared_unit", sa.Float, nullable=False, comment="kg per declared unit"),
    sa.Column(
        "identifiers",
        sa.Text,
        nullable=False,
        comment="JSON array of URNs: GS1 GTIN, Handle 88.xxx/…, company product ids",
    ),
    sa.Column(
        "classifications", sa.Text, nullable=False, comment="JSON array of URNs: CN / HS codes"
    ),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("updated_at", UtcTimestamp, nullable=False),
    sa.PrimaryKeyConstraint("organization_id", "key", name="pk_products"),
)

bom_lines = sa.Table(
    "bom_lines",
    footprint_metadata,
    sa.Column("organization_id", sa.String(64), nullable=False),
    sa.Column("product_key", sa.String(128), nullable=False),
    sa.Column("line_no", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False, comment="own, purchased or secondary"),
    sa.Column("quantity", sa.Float, nullable=False, comment="per declared unit of the product"),
    sa.Column("unit", sa.String(32), nullable=False, comment="unit of the quantity"),
    sa.Column("input_product", sa.String(128), comment="own: the input product's key"),
    sa.Column("supplier_pf_id", sa.String(36), comment="purchased: received PACT footprint id"),
    sa.Column("supplier_client_id", sa.String(128), comment="purchased: the supplier partner"),
    sa.Column("supplier_product_id", sa.Text, comment="purchased: the supplier's product URN"),
    sa.Column("factor_name", sa.Text, comment="secondary: what the factor values"),
    sa.Column("factor_value", sa.Float, comment="secondary: kg CO2e per unit"),
    sa.Column("citation", sa.Text, comment="secondary: source and version of the factor"),
    sa.Column("unit_price", sa.Float, comment="purchase price per unit, for spend coverage"),
    sa.PrimaryKeyConstraint("organization_id", "product_key", "line_no", name="pk_bom_lines"),
    sa.ForeignKeyConstraint(
        ["organization_id", "product_key"],
        ["products.organization_id", "products.key"],
        name="fk_bom_lines_product_products",
        ondelete="CASCADE",
    ),
    sa.CheckConstraint("kind IN ('own', 'purchased', 'secondary')", name="kind"),
    sa.CheckConstraint(
        "(kind <> 'own' OR input_product IS NOT NULL) "
        "AND (kind <> 'purchased' OR supplier_pf_id IS NOT NULL) "
        "AND (kind <> 'secondary' OR (factor_value IS NOT NULL AND citation IS NOT NULL))",
        name="reference",
    ),
)

product_footprints = sa.Table(
    "product_footprints",
    footprint_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("organization_id", sa.String(64), nullable=False),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("product_key", sa.String(128), nullable=False),
    sa.Column("period_start", sa.String(10), nullable=False),
    sa.Column("period_end", sa.String(10), nullable=False),
    sa.Column("pcf_excluding_biogenic_uptake", sa.Float, nullable=False, comment="kg CO2e/unit"),
    sa.Column("pcf_including_biogenic_uptake", sa.Float, nullable=False, comment="kg CO2e/unit"),
    sa.Column("fossil", sa.Float, nullable=False, comment="kg CO2e per declared unit"),
    sa.Column("primary_data_share", sa.Float, comment="percent of the PCF excl. uptake"),
    sa.Column("dqr_technological", sa.Float),
    sa.Column("dqr_geographical", sa.Float),
    sa.Column("dqr_temporal", sa.Float),
    sa.Column("allocation_rule", sa.Text, nullable=False),
    sa.Column("contributions", sa.Text, nullable=False, comment="JSON contribution tree"),
    sa.Column("pf_id", sa.String(36), comment="the PACT footprint it was published as"),
    sa.Column("computed_at", UtcTimestamp, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False, comment="sha256 of inputs"),
    sa.UniqueConstraint(
        "organization_id",
        "run_id",
        "product_key",
        name="uq_product_footprints_organization_id_run_id_product_key",
    ),
)
sa.Index(
    "ix_product_footprints_organization_id_product_key",
    product_footprints.c.organization_id,
    product_footprints.c.product_key,
)
