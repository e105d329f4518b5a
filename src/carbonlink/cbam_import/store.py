"""Tables and repository of the CBAM importer: customs lines, quarantine, communications, prices.

The tables live on their own ``cbam_import_metadata``; the Alembic revision
``0022_cbam_imports`` creates them. Every table is keyed by organization first. Lines are keyed
by their customs declaration and item, so importing a file again changes nothing; a line whose
values differ from the stored ones replaces them and is counted as changed. A quarantined row is
kept with its file, row number, raw values and the reason, until a later import of the same file
reads that row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from carbonlink.cbam_import.declaration import (
    Communication,
    PriceEntry,
    communication_from_json,
)
from carbonlink.cbam_import.lines import CustomsLine, QuarantinedLine, ReadLines
from carbonlink.store.schema import NAMING_CONVENTION, UtcTimestamp

__all__ = [
    "ImportSummary",
    "LineRecord",
    "cbam_import_metadata",
    "communications",
    "delete_price",
    "load_lines",
    "prices",
    "quarantined",
    "save_communication",
    "save_lines",
    "save_price",
]

cbam_import_metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

lines_table = sa.Table(
    "cbam_import_lines",
    cbam_import_metadata,
    sa.Column("organization_id", sa.String(64), nullable=False),
    sa.Column("declaration", sa.String(64), nullable=False),
    sa.Column("item", sa.Integer, nullable=False),
    sa.Column("released", sa.String(10), nullable=False, comment="YYYY-MM-DD"),
    sa.Column("cn_code", sa.String(8), nullable=False),
    sa.Column("net_mass_t", sa.Float, nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("installation_id", sa.String(128), nullable=False),
    sa.Column("supplier", sa.Text, nullable=False),
    sa.Column("route", sa.String(32), nullable=False, server_default=""),
    sa.Column("procedure", sa.String(2), nullable=False, server_default="40"),
    sa.Column("source_file", sa.Text, nullable=False),
    sa.Column("imported_at", UtcTimestamp, nullable=False),
    sa.PrimaryKeyConstraint("organization_id", "declaration", "item", name="pk_cbam_import_lines"),
)

quarantine_table = sa.Table(
    "cbam_import_quarantine",
    cbam_import_metadata,
    sa.Column("organization_id", sa.String(64), nullable=False),
    sa.Column("source_file", sa.String(255), nullable=False),
    sa.Column("file_row", sa.Integer, nullable=False, comment="row number in the file"),
    sa.Column("line_key", sa.Text, nullable=False),
    sa.Column("raw", sa.Text, nullable=False, comment="JSON of the row as read"),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("imported_at", UtcTimestamp, nullable=False),
    sa.PrimaryKeyConstraint(
        "organization_id", "source_file", "file_row", name="pk_cbam_import_quarantine"
    ),
)

communications_table = sa.Table(
    "cbam_import_communications",
    cbam_import_metadata,
    sa.Column("organization_id", sa.String(64), nullable=False),
    sa.Column("installation_id", sa.String(128), nullable=False),
    sa.Column("document", sa.Text, nullable=False, comment="the communication JSON"),
    sa.Column("carbon_price_paid", sa.Text, nullable=True, comment="JSON list per good"),
    sa.Column("saved_at", UtcTimestamp, nullable=False),
    sa.PrimaryKeyConstraint(
        "organization_id", "installation_id", name="pk_cbam_import_communications"
    ),
)

prices_table = sa.Table(
    "cbam_import_prices",
    cbam_import_metadata,
    sa.Column("organization_id", sa.String(64), nullable=False),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("quarter", sa.Integer, nullable=False),
    sa.Column("price_eur", sa.Float, nullable=False),
    sa.Column("published", sa.String(10), nullable=True, comment="publication date, YYYY-MM-DD"),
    sa.Column("source", sa.Text, nullable=False, server_default=""),
    sa.CheckConstraint("quarter BETWEEN 1 AND 4", name="quarter"),
    sa.PrimaryKeyConstraint("organization_id", "year", "quarter", name="pk_cbam_import_prices"),
)


@dataclass(frozen=True)
class ImportSummary:
    """What one import did: new, unchanged and changed lines, and quarantined rows."""

    source: str
    inserted: int
    unchanged: int
    changed: int
    quarantined: int


@dataclass(frozen=True)
class LineRecord:
    """A stored line with the file it came from."""

    line: CustomsLine
    source_file: str


def _values(line: CustomsLine) -> dict[str, Any]:
    return {
        "released": line.released.isoformat(),
        "cn_code": line.cn_code,
        "net_mass_t": line.net_mass_t,
        "country": line.country,
        "installation_id": line.installation_id,
        "supplier": line.supplier,
        "route": line.route,
        "procedure": line.procedure,
    }


def save_lines(engine: sa.Engine, organization_id: str, read: ReadLines) -> ImportSummary:
    """Store a file's lines and quarantined rows in one transaction (idempotent on the keys)."""
    now = datetime.now(UTC)
    inserted = unchanged = changed = 0
    with engine.begin() as conn:
        existing = {
            (row.declaration, row.item): row
            for row in conn.execute(
                sa.select(lines_table).where(lines_table.c.organization_id == organization_id)
            )
        }
        for line in read.lines:
            values = _values(line)
            old = existing.get((line.declaration, line.item))
            if old is None:
                conn.execute(
                    lines_table.insert().values(
                        organization_id=organization_id,
                        declaration=line.declaration,
                        item=line.item,
                        source_file=read.source,
                        imported_at=now,
                        **values,
                    )
                )
                inserted += 1
            elif all(getattr(old, k) == v for k, v in values.items()):
                unchanged += 1
            else:
                conn.execute(
                    lines_table.update()
                    .where(
                        lines_table.c.organization_id == organization_id,
                        lines_table.c.declaration == line.declaration,
                        lines_table.c.item == line.item,
                    )
                    .values(source_file=read.source, imported_at=now, **values)
                )
                changed += 1
        conn.execute(
            quarantine_table.delete().where(
                quarantine_table.c.organization_id == organization_id,
                quarantine_table.c.source_file == read.source,
            )
        )
        for bad in read.quarantined:
            conn.execute(
                quarantine_table.insert().values(
                    organization_id=organization_id,
                    source_file=read.source,
                    file_row=bad.row,
                    line_key=bad.key,
                    raw=json.dumps(bad.raw, ensure_ascii=False),
                    reason=bad.reason,
                    imported_at=now,
                )
            )
    return ImportSummary(read.source, inserted, unchanged, changed, len(read.quarantined))


def load_lines(engine: sa.Engine, organization_id: str) -> list[LineRecord]:
    """Every stored line of the organization, in date order.

    A row that no longer parses (edited by hand in the database) is skipped by the caller's
    choice: it raises ``ValueError`` with the key, so pages can show it instead of failing.
    """
    query = (
        sa.select(lines_table)
        .where(lines_table.c.organization_id == organization_id)
        .order_by(lines_table.c.released, lines_table.c.declaration, lines_table.c.item)
    )
    records = []
    with engine.connect() as conn:
        for row in conn.execute(query):
            records.append(
                LineRecord(
                    CustomsLine(
                        declaration=row.declaration,
                        item=row.item,
                        released=date.fromisoformat(row.released),
                        cn_code=row.cn_code,
                        net_mass_t=float(row.net_mass_t),
                        country=row.country,
                        installation_id=row.installation_id,
                        supplier=row.supplier,
                        route=row.route,
                        procedure=row.procedure,
                    ),
                    row.source_file,
                )
            )
    return records


def quarantined(engine: sa.Engine, organization_id: str) -> list[QuarantinedLine]:
    """The quarantined rows still waiting for a corrected file."""
    query = (
        sa.select(quarantine_table)
        .where(quarantine_table.c.organization_id == organization_id)
        .order_by(quarantine_table.c.source_file, quarantine_table.c.file_row)
    )
    with engine.connect() as conn:
        return [
            QuarantinedLine(
                row.file_row, {"file": row.source_file, **json.loads(row.raw)}, row.reason
            )
            for row in conn.execute(query)
        ]


def save_communication(
    engine: sa.Engine,
    organization_id: str,
    installation_id: str,
    document: dict[str, Any],
    carbon_price_paid: object = None,
) -> Communication:
    """Store (or replace) an installation's communication after checking it reads."""
    communication = communication_from_json(document, installation_id, carbon_price_paid)
    values = {
        "document": json.dumps(document, ensure_ascii=False, sort_keys=True),
        "carbon_price_paid": None
        if carbon_price_paid is None
        else json.dumps(carbon_price_paid, ensure_ascii=False, sort_keys=True),
        "saved_at": datetime.now(UTC),
    }
    with engine.begin() as conn:
        key = (
            communications_table.c.organization_id == organization_id,
            communications_table.c.installation_id == installation_id,
        )
        if conn.execute(sa.select(communications_table.c.installation_id).where(*key)).first():
            conn.execute(communications_table.update().where(*key).values(**values))
        else:
            conn.execute(
                communications_table.insert().values(
                    organization_id=organization_id, installation_id=installation_id, **values
                )
            )
    return communication


def communications(engine: sa.Engine, organization_id: str) -> dict[str, Communication]:
    """The stored communications by installation id."""
    query = sa.select(communications_table).where(
        communications_table.c.organization_id == organization_id
    )
    with engine.connect() as conn:
        rows = list(conn.execute(query))
    return {
        row.installation_id: communication_from_json(
            json.loads(row.document),
            row.installation_id,
            json.loads(row.carbon_price_paid) if row.carbon_price_paid else None,
        )
        for row in rows
    }


def save_price(engine: sa.Engine, organization_id: str, entry: PriceEntry) -> None:
    """Enter (or replace) a quarter's certificate price."""
    values = {
        "price_eur": entry.price_eur,
        "published": entry.published.isoformat() if entry.published else None,
        "source": entry.source,
    }
    key = (
        prices_table.c.organization_id == organization_id,
        prices_table.c.year == entry.year,
        prices_table.c.quarter == entry.quarter,
    )
    with engine.begin() as conn:
        if conn.execute(sa.select(prices_table.c.year).where(*key)).first():
            conn.execute(prices_table.update().where(*key).values(**values))
        else:
            conn.execute(
                prices_table.insert().values(
                    organization_id=organization_id,
                    year=entry.year,
                    quarter=entry.quarter,
                    **values,
                )
            )


def delete_price(engine: sa.Engine, organization_id: str, year: int, quarter: int) -> None:
    """Remove an entered price (a shipped one then applies again)."""
    with engine.begin() as conn:
        conn.execute(
            prices_table.delete().where(
                prices_table.c.organization_id == organization_id,
                prices_table.c.year == year,
                prices_table.c.quarter == quarter,
            )
        )


def prices(engine: sa.Engine, organization_id: str) -> list[PriceEntry]:
    """The prices the organization entered."""
    query = (
        sa.select(prices_table)
        .where(prices_table.c.organization_id == organization_id)
        .order_by(prices_table.c.year, prices_table.c.quarter)
    )
    with engine.connect() as conn:
        return [
            PriceEntry(
                row.year,
                row.quarter,
                float(row.price_eur),
                date.fromisoformat(row.published) if row.published else None,
                row.source,
            )
            for row in conn.execute(query)
        ]
