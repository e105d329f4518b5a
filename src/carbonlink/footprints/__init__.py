"""Stored product footprints: products, bills of materials and solved results per organization.

`schema` declares the tables (Alembic revision ``0009_products``); `store` reads and writes
them and hands the footprint engine (`carbonlink.domain.footprint`) plain objects; `scope3`
turns received supplier footprints into Scope 3 category 1 sources of an inventory.
"""
