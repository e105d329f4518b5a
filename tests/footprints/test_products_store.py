"""Products, BOMs and computed footprints in the store (SQLite and PostgreSQL).

The product system is small enough to check by hand:

    sheet   = 1.1 kg steel × 2.0 kg CO2e/kg (secondary)                    = 2.2 kg CO2e/kg
    bracket = 0.5 kg sheet × 2.2 + 0.2 kg zinc × 3.0 (supplier PCF) + 0.1  = 1.8 kg CO2e/kg
    primary share of bracket = (0.1 site + 0.6 × 50 % supplier primary) / 1.8 = 22.2 %
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from carbonlink.domain.footprint import (
    DeclaredUnit,
    DirectEmissions,
    EmissionProfile,
    Product,
    ProductSystem,
    UnknownProductError,
    company_product_urn,
    gtin_urn,
    handle_urn,
    hs_code_urn,
)
from carbonlink.errors import InputError
from carbonlink.exchange.repository import ExchangeRepository
from carbonlink.footprints.schema import footprint_metadata
from carbonlink.footprints.store import BomLine, ProductStore, inputs_hash

ORG = "org-bracket-works"
ZINC_PF = "9a3f9d52-55a4-4c35-9a2d-4f1f2c3b0a01"


def _zinc_document() -> dict[str, Any]:
    """A supplier's PACT v3 footprint: 3.0 kg CO2e per kg of zinc, half of it primary data."""
    return {
        "id": ZINC_PF,
        "specVersion": "3.0.3",
        "created": "2026-01-15T00:00:00Z",
        "status": "Active",
        "companyName": "Zinc Supplier Ltd",
        "companyIds": ["urn:pact:zinc.example.cn:company-id:zinc-ltd"],
        "productDescription": "Special high grade zinc ingot",
        "productIds": ["urn:pact:zinc.example.cn:product-id:ZN-SHG"],
        "productNameCompany": "Zinc ingot SHG",
        "pcf": {
            "declaredUnitOfMeasurement": "kilogram",
            "declaredUnitAmount": "1",
            "productMassPerDeclaredUnit": "1",
            "referencePeriodStart": "2025-01-01T00:00:00Z",
            "referencePeriodEnd": "2026-01-01T00:00:00Z",
            "geographyCountry": "CN",
            "pcfExcludingBiogenicUptake": "3.0",
            "pcfIncludingBiogenicUptake": "3.0",
            "fossilCarbonContent": "0",
            "fossilGhgEmissions": "3.0",
            "landUseChangeGhgEmissions": "0",
            "landManagementBiogenicCO2Emissions": "0",
            "landManagementBiogenicCO2Removals": "0",
            "biogenicCO2Uptake": "0",
            "biogenicNonCO2Emissions": "0",
            "packagingEmissionsIncluded": False,
            "ipccCharacterizationFactors": ["AR6"],
            "crossSectoralStandards": ["ISO14067"],
            "exemptedEmissionsPercent": "0",
            "primaryDataShare": "50",
        },
    }


def _products() -> list[Product]:
    return [
        Product(
            key="bracket",
            name="Mounting bracket",
            declared_unit=DeclaredUnit.KILOGRAM,
            mass_per_declared_unit=1.0,
            identifiers=(
                gtin_urn("04012345000016"),
                handle_urn("88.118.8/bracket-works/BR-1", issuer="bracket.example.cn"),
                company_product_urn("bracket.example.cn", "BR-1"),
            ),
            classifications=(hs_code_urn("7326.90"),),
            description="Galvanised steel bracket",
        ),
        Product(
            key="sheet",
            name="Steel sheet",
            declared_unit=DeclaredUnit.KILOGRAM,
            mass_per_declared_unit=1.0,
            identifiers=(company_product_urn("bracket.example.cn", "SH-1"),),
        ),
    ]


BOMS = {
    "bracket": [
        BomLine.own("sheet", 0.5),
        BomLine.purchased(
            ZINC_PF,
            0.2,
            "kilogram",
            supplier="zinc-ltd",
            product_id="urn:pact:zinc.example.cn:product-id:ZN-SHG",
            unit_price=25.0,
        ),
    ],
    "sheet": [
        BomLine.secondary(
            "hot-rolled steel", 1.1, "kilogram", factor=2.0, citation="steel LCI 2024 v1"
        )
    ],
}


def _stored(engine: Engine) -> tuple[ProductStore, ExchangeRepository]:
    store = ProductStore(engine, ORG)
    store.save_products(_products())
    for key, lines in BOMS.items():
        store.save_bom(key, lines)
    exchange = ExchangeRepository(engine, organization_id=ORG)
    exchange.store_received(json.dumps(_zinc_document()), source="zinc-ltd", via="event")
    return store, exchange


def test_products_keep_their_identifiers_and_are_replaced_by_key(engine: Engine) -> None:
    store = ProductStore(engine, ORG)
    store.save_products(_products())
    bracket = store.product("bracket")
    assert bracket == _products()[0]
    assert bracket is not None and bracket.identifiers[0] == "urn:gtin:04012345000016"
    assert [p.key for p in store.products()] == ["bracket", "sheet"]

    renamed = Product("sheet", "Cold-rolled sheet", DeclaredUnit.KILOGRAM, 1.0)
    store.save_products([renamed])
    assert store.product("sheet") == renamed
    assert len(store.products()) == 2


def test_boms_round_trip_and_resolve_the_received_supplier_footprint(engine: Engine) -> None:
    store, exchange = _stored(engine)
    assert store.boms() == BOMS
    boms = store.bills_of_materials(exchange)
    direct = {"bracket": DirectEmissions(EmissionProfile(fossil=0.1), rule="no allocation")}
    result = ProductSystem.build(store.products(), boms, direct).solve()
    assert result.footprint("sheet").pcf_excluding_biogenic_uptake == pytest.approx(2.2)
    bracket = result.footprint("bracket")
    assert bracket.pcf_excluding_biogenic_uptake == pytest.approx(1.8)
    assert bracket.primary_data_share == pytest.approx(100 * 0.4 / 1.8)


def test_results_are_kept_per_run_with_their_contribution_tree(engine: Engine) -> None:
    store, exchange = _stored(engine)
    direct = {"bracket": DirectEmissions(EmissionProfile(fossil=0.1), rule="no allocation")}
    result = ProductSystem.build(store.products(), store.bills_of_materials(exchange), direct)
    solved = result.solve()
    digest = inputs_hash(store.products(), store.boms(), {"bracket": 0.1})
    store.save_results(
        solved,
        ["bracket", "sheet"],
        run_id="run-1",
        period=(date(2025, 1, 1), date(2026, 1, 1)),
        rules={"bracket": "no allocation"},
        published={"bracket": "5b9e0d0c-3a55-4f0e-8d7b-6f1c9a2b3c4d"},
        content_hash=digest,
    )
    latest = store.latest()
    assert set(latest) == {"bracket", "sheet"}
    bracket = latest["bracket"]
    assert bracket.pcf_excluding_biogenic_uptake == pytest.approx(1.8)
    assert bracket.primary_data_share == pytest.approx(22.2222, abs=1e-3)
    assert bracket.pf_id == "5b9e0d0c-3a55-4f0e-8d7b-6f1c9a2b3c4d"
    assert bracket.period_start == "2025-01-01" and bracket.allocation_rule == "no allocation"
    assert bracket.content_hash == digest and len(digest) == 64
    tree = bracket.contributions
    children = {child["label"]: child["kgco2e"] for child in tree["children"]}
    assert children == pytest.approx(
        {"sheet": 1.1, f"Zinc Supplier Ltd: {ZINC_PF}": 0.6, "no allocation": 0.1}
    )
    sheet_node = next(c for c in tree["children"] if c["label"] == "sheet")
    assert sheet_node["children"][0]["kgco2e"] == pytest.approx(1.1)
    assert latest["sheet"].pf_id is None

    with pytest.raises(InputError, match="run-1 is stored already"):
        store.save_results(
            solved,
            ["bracket"],
            run_id="run-1",
            period=(date(2025, 1, 1), date(2026, 1, 1)),
            rules={},
            content_hash=digest,
        )
    store.save_results(
        solved,
        ["bracket"],
        run_id="run-2",
        period=(date(2025, 1, 1), date(2026, 1, 1)),
        rules={},
        content_hash=digest,
    )
    assert [f.run_id for f in store.history("bracket")] == ["run-1", "run-2"]
    assert store.latest()["bracket"].run_id == "run-2"


def test_another_organization_sees_none_of_it(engine: Engine) -> None:
    _stored(engine)
    other = ProductStore(engine, "org-elsewhere")
    assert other.products() == [] and other.boms() == {} and other.latest() == {}
    assert other.product("bracket") is None
    with pytest.raises(UnknownProductError, match="bracket"):
        other.save_bom("bracket", [BomLine.own("sheet", 1.0)])


def test_bad_lines_are_refused_naming_the_product_and_line(engine: Engine) -> None:
    store = ProductStore(engine, ORG)
    store.save_products(_products())
    with pytest.raises(InputError, match="bracket line 2: a purchased input needs supplier_pf_id"):
        store.save_bom("bracket", [BomLine.own("sheet", 1.0), BomLine("purchased", 1.0, "kg")])
    with pytest.raises(InputError, match=r"sheet line 1: input quantity -1\.0"):
        store.save_bom("sheet", [BomLine.own("bracket", -1.0)])
    assert store.boms() == {}


def test_a_purchased_line_without_a_received_footprint_says_what_to_do(engine: Engine) -> None:
    store = ProductStore(engine, ORG)
    store.save_products(_products())
    store.save_bom("bracket", [BomLine.purchased(ZINC_PF, 0.2, "kilogram")])
    exchange = ExchangeRepository(engine, organization_id=ORG)
    with pytest.raises(InputError, match=f"bracket: .*{ZINC_PF}.*pull it"):
        store.bills_of_materials(exchange)
    # Another organization's received copy does not count.
    ExchangeRepository(engine, organization_id="org-elsewhere").store_received(
        json.dumps(_zinc_document()), source="zinc-ltd", via="pull"
    )
    with pytest.raises(InputError, match="has not been received"):
        store.bills_of_materials(exchange)


def test_the_migration_creates_the_declared_tables(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, footprint_metadata)
    ours = set(footprint_metadata.tables)

    def concerns_us(difference: Any) -> bool:
        item = difference[0] if isinstance(difference, list) else difference
        return any(
            getattr(part, "name", None) in ours
            or (getattr(part, "table", None) is not None and part.table.name in ours)
            for part in item[1:]
        )

    assert [d for d in differences if concerns_us(d)] == []
    assert ours == {"products", "bom_lines", "product_footprints"}
