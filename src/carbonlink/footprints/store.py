"""One organization's products, bills of materials and computed footprints in the store.

`ProductStore` writes and reads the tables of `carbonlink.footprints.schema` and hands the
footprint engine plain objects: `Product`, and `BillOfMaterials` whose purchased lines are
resolved to the supplier footprints received through the PACT exchange (by their PACT id).
Solved results are kept per product and run with their contribution tree and the PACT id
they were published under.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Engine, delete, insert, select, update

from carbonlink.domain.footprint import (
    BillOfMaterials,
    BomInput,
    Contribution,
    DeclaredUnit,
    EmissionProfile,
    FootprintResult,
    OwnInput,
    Product,
    PurchasedInput,
    SecondaryFactor,
    SecondaryInput,
    SupplierFootprint,
    UnknownProductError,
)
from carbonlink.errors import InputError
from carbonlink.exchange.pact import parse_product_footprint, supplier_footprint
from carbonlink.exchange.repository import ExchangeRepository, utc_now
from carbonlink.footprints.schema import bom_lines, product_footprints, products

BomKind = Literal["own", "purchased", "secondary"]


@dataclass(frozen=True, slots=True)
class BomLine:
    """One stored input of a product, per declared unit of the product.

    An ``own`` line names another product of the organization; a ``purchased`` line names the
    supplier footprint received through the exchange (``supplier_pf_id``, with the supplier's
    client id and product URN for the reader); a ``secondary`` line carries its factor in kg
    CO2e per ``unit`` with a citation. ``unit_price`` (per ``unit``) weighs spend coverage.
    """

    kind: BomKind
    quantity: float
    unit: str
    input_product: str | None = None
    supplier_pf_id: str | None = None
    supplier_client_id: str | None = None
    supplier_product_id: str | None = None
    factor_name: str | None = None
    factor_value: float | None = None
    citation: str | None = None
    unit_price: float | None = None

    @classmethod
    def own(cls, product: str, quantity: float, unit: str = "kilogram") -> BomLine:
        """``quantity`` declared units of the organization's own product ``product``."""
        return cls("own", quantity, unit, input_product=product)

    @classmethod
    def purchased(
        cls,
        pf_id: str,
        quantity: float,
        unit: str,
        *,
        supplier: str | None = None,
        product_id: str | None = None,
        unit_price: float | None = None,
    ) -> BomLine:
        """``quantity`` ``unit`` of a purchased product with the received footprint ``pf_id``."""
        return cls(
            "purchased",
            quantity,
            unit,
            supplier_pf_id=pf_id.lower(),
            supplier_client_id=supplier,
            supplier_product_id=product_id,
            unit_price=unit_price,
        )

    @classmethod
    def secondary(
        cls,
        name: str,
        quantity: float,
        unit: str,
        *,
        factor: float,
        citation: str,
        unit_price: float | None = None,
    ) -> BomLine:
        """``quantity`` ``unit`` of an input valued with a secondary factor (kg CO2e per unit)."""
        return cls(
            "secondary",
            quantity,
            unit,
            factor_name=name,
            factor_value=factor,
            citation=citation,
            unit_price=unit_price,
        )


@dataclass(frozen=True, slots=True)
class StoredFootprint:
    """A product's footprint as one run computed it (kg CO2e per declared unit)."""

    product_key: str
    run_id: str
    period_start: str
    period_end: str
    pcf_excluding_biogenic_uptake: float
    pcf_including_biogenic_uptake: float
    fossil: float
    primary_data_share: float | None
    dqr: tuple[float, float, float] | None
    allocation_rule: str
    contributions: dict[str, Any]
    pf_id: str | None
    computed_at: datetime
    content_hash: str


def contribution_tree(node: Contribution) -> dict[str, Any]:
    """A contribution tree as JSON: kind, label, quantity, kg CO2e and children."""
    return {
        "kind": node.kind,
        "label": node.label,
        "quantity": node.quantity,
        "kgco2e": node.pcf_excluding_biogenic_uptake,
        "children": [contribution_tree(child) for child in node.children],
    }


def inputs_hash(
    items: Sequence[Product], boms: Mapping[str, Sequence[BomLine]], extra: Any = None
) -> str:
    """SHA-256 of the products, their BOM lines and ``extra`` (e.g. the direct emissions)."""
    body = {
        "products": [_product_values(product) for product in items],
        "boms": {key: [asdict(line) for line in lines] for key, lines in sorted(boms.items())},
        "extra": extra,
    }
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(slots=True)
class ProductStore:
    """Reads and writes one organization's products, BOMs and footprints."""

    engine: Engine
    organization_id: str

    # -- products -------------------------------------------------------------------------
    def save_products(self, items: Sequence[Product]) -> None:
        """Add the products, or replace the stored description of those known already."""
        now = utc_now()
        with self.engine.begin() as connection:
            known = set(
                connection.execute(
                    select(products.c.key).where(products.c.organization_id == self.organization_id)
                ).scalars()
            )
            for product in items:
                values = {**_product_values(product), "updated_at": now}
                if product.key in known:
                    connection.execute(
                        update(products)
                        .where(
                            products.c.organization_id == self.organization_id,
                            products.c.key == product.key,
                        )
                        .values(**values)
                    )
                else:
                    connection.execute(
                        insert(products).values(organization_id=self.organization_id, **values)
                    )
                    known.add(product.key)

    def products(self) -> list[Product]:
        """The organization's products, by key."""
        query = (
            select(products)
            .where(products.c.organization_id == self.organization_id)
            .order_by(products.c.key)
        )
        with self.engine.connect() as connection:
            return [_product(row) for row in connection.execute(query)]

    def product(self, key: str) -> Product | None:
        """The product ``key`` of this organization, or None."""
        query = select(products).where(
            products.c.organization_id == self.organization_id, products.c.key == key
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else _product(row)

    # -- bills of materials ---------------------------------------------------------------
    def save_bom(self, product_key: str, lines: Sequence[BomLine]) -> None:
        """Replace the bill of materials of ``product_key`` with ``lines``."""
        for number, line in enumerate(lines, start=1):
            _check_line(product_key, number, line)
        with self.engine.begin() as connection:
            exists = connection.execute(
                select(products.c.key).where(
                    products.c.organization_id == self.organization_id,
                    products.c.key == product_key,
                )
            ).first()
            if exists is None:
                raise UnknownProductError(
                    "a bill of materials names a product that is not stored",
                    record=product_key,
                    hint="save the product first (ProductStore.save_products)",
                )
            connection.execute(
                delete(bom_lines).where(
                    bom_lines.c.organization_id == self.organization_id,
                    bom_lines.c.product_key == product_key,
                )
            )
            if lines:
                connection.execute(
                    insert(bom_lines),
                    [
                        {
                            "organization_id": self.organization_id,
                            "product_key": product_key,
                            "line_no": number,
                            **asdict(line),
                        }
                        for number, line in enumerate(lines, start=1)
                    ],
                )

    def boms(self) -> dict[str, list[BomLine]]:
        """Every stored bill of materials of the organization, by product key."""
        query = (
            select(bom_lines)
            .where(bom_lines.c.organization_id == self.organization_id)
            .order_by(bom_lines.c.product_key, bom_lines.c.line_no)
        )
        out: dict[str, list[BomLine]] = {}
        with self.engine.connect() as connection:
            for row in connection.execute(query):
                out.setdefault(row.product_key, []).append(_bom_line(row))
        return out

    def bom(self, product_key: str) -> list[BomLine]:
        """The stored bill of materials of one product (empty when it has none)."""
        return self.boms().get(product_key, [])

    def supplier_footprints(self, exchange: ExchangeRepository) -> dict[str, SupplierFootprint]:
        """The received supplier footprints the purchased lines name, by PACT id.

        The newest received copy of each id is used. A line naming a footprint that was never
        received is an error naming the product and the id.
        """
        out: dict[str, SupplierFootprint] = {}
        for product_key, lines in self.boms().items():
            for line in lines:
                pf_id = line.supplier_pf_id
                if line.kind != "purchased" or pf_id is None or pf_id in out:
                    continue
                received = exchange.received(pf_id)
                if not received:
                    raise InputError(
                        f"the bill of materials names supplier footprint {pf_id}, "
                        "which has not been received",
                        record=product_key,
                        hint="pull it from the supplier's PACT host or ask for it through "
                        "the portal, then compute again",
                    )
                out[pf_id] = supplier_footprint(parse_product_footprint(received[-1]["document"]))
        return out

    def bills_of_materials(self, exchange: ExchangeRepository) -> list[BillOfMaterials]:
        """The stored BOMs as the engine's objects, purchased lines resolved via ``exchange``."""
        footprints = self.supplier_footprints(exchange)
        boms = []
        for product_key, lines in self.boms().items():
            inputs: list[BomInput] = []
            for line in lines:
                if line.kind == "own":
                    assert line.input_product is not None
                    inputs.append(OwnInput(line.input_product, line.quantity))
                elif line.kind == "purchased":
                    assert line.supplier_pf_id is not None
                    inputs.append(PurchasedInput(footprints[line.supplier_pf_id], line.quantity))
                else:
                    assert line.factor_value is not None and line.citation is not None
                    factor = SecondaryFactor(
                        name=line.factor_name or line.citation,
                        unit=line.unit,
                        profile=EmissionProfile(fossil=line.factor_value),
                        source=line.citation,
                        version="",
                    )
                    inputs.append(SecondaryInput(factor, line.quantity))
            boms.append(BillOfMaterials(product_key, tuple(inputs)))
        return boms

    # -- computed footprints --------------------------------------------------------------
    def save_results(
        self,
        result: FootprintResult,
        keys: Sequence[str],
        *,
        run_id: str,
        period: tuple[date, date],
        rules: Mapping[str, str],
        published: Mapping[str, str] | None = None,
        content_hash: str,
    ) -> None:
        """Keep the footprints of ``keys`` from one solve as run ``run_id``.

        ``rules`` gives each product's allocation rule text; ``published`` the PACT id each
        was published under. A run id is written once; saving it again is an error.
        """
        published = published or {}
        now = utc_now()
        rows = []
        for key in keys:
            footprint = result.footprint(key)
            quality = footprint.quality
            rows.append(
                {
                    "organization_id": self.organization_id,
                    "run_id": run_id,
                    "product_key": key,
                    "period_start": period[0].isoformat(),
                    "period_end": period[1].isoformat(),
                    "pcf_excluding_biogenic_uptake": footprint.pcf_excluding_biogenic_uptake,
                    "pcf_including_biogenic_uptake": footprint.pcf_including_biogenic_uptake,
                    "fossil": footprint.fossil,
                    "primary_data_share": footprint.primary_data_share,
                    "dqr_technological": quality.technological if quality else None,
                    "dqr_geographical": quality.geographical if quality else None,
                    "dqr_temporal": quality.temporal if quality else None,
                    "allocation_rule": rules.get(key, ""),
                    "contributions": json.dumps(
                        contribution_tree(result.contributions(key)), ensure_ascii=False
                    ),
                    "pf_id": published.get(key),
                    "computed_at": now,
                    "content_hash": content_hash,
                }
            )
        with self.engine.begin() as connection:
            seen = connection.execute(
                select(product_footprints.c.id).where(
                    product_footprints.c.organization_id == self.organization_id,
                    product_footprints.c.run_id == run_id,
                )
            ).first()
            if seen is not None:
                raise InputError(
                    f"footprint run {run_id} is stored already",
                    record=run_id,
                    hint="give each computation a new run id",
                )
            if rows:
                connection.execute(insert(product_footprints), rows)

    def latest(self) -> dict[str, StoredFootprint]:
        """The newest stored footprint of every product, by product key."""
        out: dict[str, StoredFootprint] = {}
        for item in self._footprints(None):
            out[item.product_key] = item
        return out

    def history(self, product_key: str) -> list[StoredFootprint]:
        """Every stored footprint of one product, oldest first."""
        return self._footprints(product_key)

    def _footprints(self, product_key: str | None) -> list[StoredFootprint]:
        query = (
            select(product_footprints)
            .where(product_footprints.c.organization_id == self.organization_id)
            .order_by(product_footprints.c.computed_at, product_footprints.c.id)
        )
        if product_key is not None:
            query = query.where(product_footprints.c.product_key == product_key)
        with self.engine.connect() as connection:
            return [_stored(row) for row in connection.execute(query)]


def _product_values(product: Product) -> dict[str, Any]:
    return {
        "key": product.key,
        "name": product.name,
        "declared_unit": str(product.declared_unit),
        "declared_unit_amount": product.declared_unit_amount,
        "mass_per_declared_unit": product.mass_per_declared_unit,
        "identifiers": json.dumps(list(product.identifiers)),
        "classifications": json.dumps(list(product.classifications)),
        "description": product.description,
    }


def _product(row: Any) -> Product:
    return Product(
        key=row.key,
        name=row.name,
        declared_unit=DeclaredUnit(row.declared_unit),
        mass_per_declared_unit=row.mass_per_declared_unit,
        declared_unit_amount=row.declared_unit_amount,
        identifiers=tuple(json.loads(row.identifiers)),
        classifications=tuple(json.loads(row.classifications)),
        description=row.description,
    )


def _check_line(product_key: str, number: int, line: BomLine) -> None:
    record = f"{product_key} line {number}"
    if line.kind not in ("own", "purchased", "secondary"):
        raise InputError(
            f"unknown input kind {line.kind!r}",
            record=record,
            hint="use own, purchased or secondary",
        )
    if not line.quantity >= 0:
        raise InputError(
            f"input quantity {line.quantity} must be ≥ 0",
            record=record,
            hint="co-products are allocated, not entered as negative inputs",
        )
    needed = {
        "own": ("input_product",),
        "purchased": ("supplier_pf_id",),
        "secondary": ("factor_value", "citation"),
    }[line.kind]
    missing = [name for name in needed if getattr(line, name) is None]
    if missing:
        raise InputError(
            f"a {line.kind} input needs {', '.join(missing)}",
            record=record,
            hint="use BomLine.own, BomLine.purchased or BomLine.secondary",
        )


def _bom_line(row: Any) -> BomLine:
    return BomLine(
        kind=row.kind,
        quantity=row.quantity,
        unit=row.unit,
        input_product=row.input_product,
        supplier_pf_id=row.supplier_pf_id,
        supplier_client_id=row.supplier_client_id,
        supplier_product_id=row.supplier_product_id,
        factor_name=row.factor_name,
        factor_value=row.factor_value,
        citation=row.citation,
        unit_price=row.unit_price,
    )


def _stored(row: Any) -> StoredFootprint:
    dqr = None
    if row.dqr_technological is not None:
        dqr = (row.dqr_technological, row.dqr_geographical, row.dqr_temporal)
    return StoredFootprint(
        product_key=row.product_key,
        run_id=row.run_id,
        period_start=row.period_start,
        period_end=row.period_end,
        pcf_excluding_biogenic_uptake=row.pcf_excluding_biogenic_uptake,
        pcf_including_biogenic_uptake=row.pcf_including_biogenic_uptake,
        fossil=row.fossil,
        primary_data_share=row.primary_data_share,
        dqr=dqr,
        allocation_rule=row.allocation_rule,
        contributions=json.loads(row.contributions),
        pf_id=row.pf_id,
        computed_at=row.computed_at,
        content_hash=row.content_hash,
    )
