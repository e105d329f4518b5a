"""One organization's production batches, their inputs, rejected records and passports.

`BatchStore` writes and reads the tables of `carbonlink.batches.schema` and hands out plain
`Batch` objects. The resolvers look a batch up across organizations by its GS1 key or its
Handle (`find_by_gs1`, `find_by_handle`): an identifier is global, its owner is found from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select

from carbonlink.batches.identifiers import GS1Key
from carbonlink.batches.schema import (
    batch_inputs,
    batch_passports,
    batch_rejects,
    production_batches,
)


@dataclass(frozen=True, slots=True)
class Batch:
    """A heat, slab or coil as its production record gave it."""

    batch_id: str
    stage: str
    produced_on: str
    quantity: float
    unit: str
    product_key: str | None = None
    facility_id: str | None = None
    gtin: str | None = None
    serial: str | None = None
    handle: str | None = None
    made_from: tuple[str, ...] = ()
    supplier_footprints: tuple[str, ...] = ()
    source_ref: str = ""
    line: int | None = None
    organization_id: str = field(default="", compare=False)

    @property
    def gs1(self) -> GS1Key | None:
        """The GS1 key of the batch, when it has a GTIN."""
        return None if self.gtin is None else GS1Key(self.gtin, self.batch_id, self.serial)

    def same_record(self, other: Batch) -> bool:
        """Whether two records describe the batch alike (where they came from aside)."""
        fields = [
            "stage",
            "produced_on",
            "quantity",
            "unit",
            "product_key",
            "facility_id",
            "gtin",
            "serial",
            "handle",
            "made_from",
            "supplier_footprints",
        ]
        return all(getattr(self, name) == getattr(other, name) for name in fields)


@dataclass(frozen=True, slots=True)
class RejectedRecord:
    """A production record that did not become a batch, with its line and the reason."""

    source_ref: str
    line: int
    raw: str
    reason: str


@dataclass(frozen=True, slots=True)
class StoredPassport:
    """One issued version of a batch's passport and the ledger entry vouching for it."""

    batch_id: str
    version: int
    issued_at: datetime
    public: str
    restricted: str
    ledger_index: int
    receipt: bytes
    organization_id: str = ""


@dataclass(slots=True)
class BatchStore:
    """Reads and writes one organization's batches."""

    engine: Engine
    organization_id: str

    def add(self, items: Sequence[Batch], *, file_sha256: str, imported_at: datetime) -> None:
        """Store new batches with their inputs, in one transaction."""
        if not items:
            return
        rows, inputs = [], []
        for item in items:
            rows.append(
                {
                    "organization_id": self.organization_id,
                    "batch_id": item.batch_id,
                    "stage": item.stage,
                    "product_key": item.product_key,
                    "facility_id": item.facility_id,
                    "produced_on": item.produced_on,
                    "quantity": item.quantity,
                    "unit": item.unit,
                    "gtin": item.gtin,
                    "serial": item.serial,
                    "handle": item.handle,
                    "source_ref": item.source_ref,
                    "line": item.line,
                    "file_sha256": file_sha256,
                    "imported_at": imported_at,
                }
            )
            position = 0
            for predecessor in item.made_from:
                position += 1
                inputs.append(self._input(item.batch_id, position, input_batch_id=predecessor))
            for pf_id in item.supplier_footprints:
                position += 1
                inputs.append(self._input(item.batch_id, position, supplier_pf_id=pf_id))
        with self.engine.begin() as connection:
            connection.execute(insert(production_batches), rows)
            if inputs:
                connection.execute(insert(batch_inputs), inputs)

    def _input(self, batch_id: str, position: int, **reference: str) -> dict[str, Any]:
        return {
            "organization_id": self.organization_id,
            "batch_id": batch_id,
            "position": position,
            "input_batch_id": reference.get("input_batch_id"),
            "supplier_pf_id": reference.get("supplier_pf_id"),
        }

    def batches(self, ids: Iterable[str] | None = None) -> dict[str, Batch]:
        """The organization's batches by id (only ``ids`` when given)."""
        query = select(production_batches).where(
            production_batches.c.organization_id == self.organization_id
        )
        inputs = select(batch_inputs).where(batch_inputs.c.organization_id == self.organization_id)
        if ids is not None:
            wanted = list(ids)
            query = query.where(production_batches.c.batch_id.in_(wanted))
            inputs = inputs.where(batch_inputs.c.batch_id.in_(wanted))
        with self.engine.connect() as connection:
            rows = list(connection.execute(query.order_by(production_batches.c.batch_id)))
            links = list(connection.execute(inputs.order_by(batch_inputs.c.position)))
        return _batches(rows, links)

    def claimed_elsewhere(self, handles: Iterable[str], gtins: Iterable[str]) -> set[str]:
        """Handles, and ``gtin/batch`` keys, that another organization's batches hold."""
        handles, gtins = list(handles), list(gtins)
        other = production_batches.c.organization_id != self.organization_id
        found: set[str] = set()
        with self.engine.connect() as connection:
            if handles:
                found |= set(
                    connection.execute(
                        select(production_batches.c.handle).where(
                            other, production_batches.c.handle.in_(handles)
                        )
                    ).scalars()
                )
            if gtins:
                rows = connection.execute(
                    select(production_batches.c.gtin, production_batches.c.batch_id).where(
                        other, production_batches.c.gtin.in_(gtins)
                    )
                )
                found |= {f"{row.gtin}/{row.batch_id}" for row in rows}
        return found

    def batch(self, batch_id: str) -> Batch | None:
        """One batch, or None."""
        return self.batches([batch_id]).get(batch_id)

    def lineage(self, batch_id: str) -> list[Batch]:
        """Every batch ``batch_id`` was made from, nearest first (heat after slab after coil)."""
        seen: dict[str, Batch] = {}
        frontier = [batch_id]
        while frontier:
            found = self.batches(frontier)
            frontier = []
            for item in found.values():
                for predecessor in item.made_from:
                    if predecessor not in seen and predecessor != batch_id:
                        frontier.append(predecessor)
                if item.batch_id != batch_id:
                    seen[item.batch_id] = item
        return list(seen.values())

    # -- rejected records -----------------------------------------------------------------
    def reject(self, records: Sequence[RejectedRecord], *, file_sha256: str, at: datetime) -> int:
        """Keep rejected records (once per file and line); return how many were new."""
        if not records:
            return 0
        with self.engine.begin() as connection:
            known = set(
                connection.execute(
                    select(batch_rejects.c.line).where(
                        batch_rejects.c.organization_id == self.organization_id,
                        batch_rejects.c.file_sha256 == file_sha256,
                    )
                ).scalars()
            )
            rows = [
                {
                    "organization_id": self.organization_id,
                    "file_sha256": file_sha256,
                    "source_ref": record.source_ref,
                    "line": record.line,
                    "raw": record.raw,
                    "reason": record.reason,
                    "received_at": at,
                }
                for record in records
                if record.line not in known
            ]
            if rows:
                connection.execute(insert(batch_rejects), rows)
        return len(rows)

    def rejects(self) -> list[RejectedRecord]:
        """Every rejected production record of the organization, by file and line."""
        query = (
            select(batch_rejects)
            .where(batch_rejects.c.organization_id == self.organization_id)
            .order_by(batch_rejects.c.id)
        )
        with self.engine.connect() as connection:
            return [
                RejectedRecord(row.source_ref, row.line, row.raw, row.reason)
                for row in connection.execute(query)
            ]

    # -- passports ------------------------------------------------------------------------
    def save_passport(self, passport: StoredPassport) -> None:
        """Keep an issued passport version."""
        with self.engine.begin() as connection:
            connection.execute(
                insert(batch_passports).values(
                    organization_id=self.organization_id,
                    batch_id=passport.batch_id,
                    version=passport.version,
                    issued_at=passport.issued_at,
                    public=passport.public,
                    restricted=passport.restricted,
                    ledger_index=passport.ledger_index,
                    receipt=passport.receipt,
                )
            )

    def passport(self, batch_id: str) -> StoredPassport | None:
        """The newest issued passport of a batch, or None."""
        query = (
            select(batch_passports)
            .where(
                batch_passports.c.organization_id == self.organization_id,
                batch_passports.c.batch_id == batch_id,
            )
            .order_by(batch_passports.c.version.desc())
            .limit(1)
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else _passport(row)

    def passports(self) -> list[StoredPassport]:
        """The newest passport of every batch that has one, by batch id."""
        newest = (
            select(
                batch_passports.c.batch_id,
                func.max(batch_passports.c.version).label("version"),
            )
            .where(batch_passports.c.organization_id == self.organization_id)
            .group_by(batch_passports.c.batch_id)
            .subquery()
        )
        query = (
            select(batch_passports)
            .join(
                newest,
                (batch_passports.c.batch_id == newest.c.batch_id)
                & (batch_passports.c.version == newest.c.version),
            )
            .where(batch_passports.c.organization_id == self.organization_id)
            .order_by(batch_passports.c.batch_id)
        )
        with self.engine.connect() as connection:
            return [_passport(row) for row in connection.execute(query)]


def find_by_gs1(engine: Engine, key: GS1Key) -> Batch | None:
    """The batch a GS1 key names, in whichever organization holds it (None if none does)."""
    query = select(production_batches).where(
        production_batches.c.gtin == key.gtin, production_batches.c.batch_id == key.batch
    )
    with engine.connect() as connection:
        rows = [
            row
            for row in connection.execute(query)
            if key.serial is None or row.serial == key.serial
        ]
    if len(rows) != 1:
        return None
    return BatchStore(engine, rows[0].organization_id).batch(rows[0].batch_id)


def find_by_handle(engine: Engine, handle: str) -> Batch | None:
    """The batch a Handle names, or None."""
    query = select(production_batches.c.organization_id, production_batches.c.batch_id).where(
        production_batches.c.handle == handle
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    return None if row is None else BatchStore(engine, row.organization_id).batch(row.batch_id)


def _batches(rows: Iterable[Any], links: Iterable[Any]) -> dict[str, Batch]:
    made_from: dict[str, list[str]] = {}
    footprints: dict[str, list[str]] = {}
    for link in links:
        if link.input_batch_id is not None:
            made_from.setdefault(link.batch_id, []).append(link.input_batch_id)
        else:
            footprints.setdefault(link.batch_id, []).append(link.supplier_pf_id)
    return {
        row.batch_id: Batch(
            batch_id=row.batch_id,
            stage=row.stage,
            produced_on=row.produced_on,
            quantity=row.quantity,
            unit=row.unit,
            product_key=row.product_key,
            facility_id=row.facility_id,
            gtin=row.gtin,
            serial=row.serial,
            handle=row.handle,
            made_from=tuple(made_from.get(row.batch_id, ())),
            supplier_footprints=tuple(footprints.get(row.batch_id, ())),
            source_ref=row.source_ref,
            line=row.line,
            organization_id=row.organization_id,
        )
        for row in rows
    }


def _passport(row: Any) -> StoredPassport:
    return StoredPassport(
        batch_id=row.batch_id,
        version=row.version,
        issued_at=row.issued_at,
        public=row.public,
        restricted=row.restricted,
        ledger_index=row.ledger_index,
        receipt=bytes(row.receipt),
        organization_id=row.organization_id,
    )
