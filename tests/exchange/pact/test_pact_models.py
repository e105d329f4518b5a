"""The PACT v3 data model against the official OpenAPI document and its examples.

The official files are read from ``../shared/reference/pact-v3`` beside the project (or
``CARBONLINK_PACT_REFERENCE``) and never copied; without them these tests are skipped and say so.
"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from carbonlink.exchange.pact import (
    CarbonFootprint,
    DataQualityIndicators,
    Error,
    GetFootprintResponse,
    InvalidPactDocumentError,
    ListFootprintsResponse,
    ProductFootprint,
    PublishedEvent,
    RequestCreatedEvent,
    RequestFulfilledEvent,
    RequestRejectedEvent,
    format_decimal,
    parse_decimal,
    parse_event,
    parse_model,
    parse_product_footprint,
    reporting_findings,
)
from carbonlink.exchange.pact.models import PactModel

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = Path(
    os.environ.get("CARBONLINK_PACT_REFERENCE", ROOT / ".." / "shared" / "reference" / "pact-v3")
)
_reference_files = pytest.mark.skipif(
    not (REFERENCE / "openapi.yaml").is_file(),
    reason=f"reference file absent: the official PACT v3 files at {REFERENCE}",
)


def needs_reference(test: Any) -> Any:
    """Mark a test that reads the official files (skipped without them, marked ``reference``)."""
    return pytest.mark.reference(_reference_files(test))


# Which schema of the OpenAPI document each official example is an instance of (the upstream
# repository validates "invalid-response-all-properties.json" against the list response too: it
# is schema-valid and carries properties from older versions, which the schema allows).
EXAMPLES: dict[str, type[PactModel] | str] = {
    "example-1.json": ProductFootprint,
    "example-2.json": ProductFootprint,
    "example-3.json": ProductFootprint,
    "example-4.json": ProductFootprint,
    "get-footprint-response.json": GetFootprintResponse,
    "list-footprints-response.json": ListFootprintsResponse,
    "invalid-response-all-properties.json": ListFootprintsResponse,
    "error-response-access-denied.json": Error,
    "pf-response-event.json": "event",
}


def _example(name: str) -> dict[str, Any]:
    return json.loads((REFERENCE / "examples" / name).read_text(encoding="utf-8"))


@needs_reference
def test_every_official_example_is_known() -> None:
    assert sorted(p.name for p in (REFERENCE / "examples").glob("*.json")) == sorted(EXAMPLES)


@needs_reference
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_official_example_validates_and_round_trips(name: str) -> None:
    document = _example(name)
    target = EXAMPLES[name]
    model = parse_event(document) if target == "event" else parse_model(target, document)
    assert model.to_json() == document
    assert json.loads(json.dumps(model.to_json())) == document


@needs_reference
@pytest.mark.parametrize(
    ("model", "schema"),
    [
        (ProductFootprint, "ProductFootprint"),
        (CarbonFootprint, "CarbonFootprint"),
        (DataQualityIndicators, "DataQualityIndicators"),
        (Error, "Error"),
    ],
)
def test_models_name_exactly_the_schema_properties(model: type[PactModel], schema: str) -> None:
    spec = yaml.safe_load((REFERENCE / "openapi.yaml").read_text(encoding="utf-8"))
    definition = spec["components"]["schemas"][schema]
    aliases = {field.alias or name: field for name, field in model.model_fields.items()}
    assert set(aliases) == set(definition["properties"])
    required = {alias for alias, field in aliases.items() if field.is_required()}
    assert required == set(definition.get("required", []))


@needs_reference
def test_event_types_are_the_schema_constants() -> None:
    spec = yaml.safe_load((REFERENCE / "openapi.yaml").read_text(encoding="utf-8"))
    schemas = spec["components"]["schemas"]
    for model in (RequestCreatedEvent, RequestFulfilledEvent, RequestRejectedEvent, PublishedEvent):
        constant = schemas[model.__name__]["properties"]["type"]["const"]
        assert model.model_fields["type"].annotation.__args__ == (constant,)  # type: ignore[union-attr]


def _valid() -> dict[str, Any]:
    """A small valid footprint written for these tests."""
    return {
        "id": "3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
        "specVersion": "3.0.3",
        "created": "2026-01-05T08:00:00Z",
        "status": "Active",
        "companyName": "Demo Steel",
        "companyIds": ["urn:pact:steel.example.com:company-id:1"],
        "productDescription": "",
        "productIds": ["urn:gtin:6291041500213"],
        "productNameCompany": "Hot-rolled coil",
        "pcf": {
            "declaredUnitOfMeasurement": "kilogram",
            "declaredUnitAmount": "1",
            "productMassPerDeclaredUnit": "1",
            "referencePeriodStart": "2025-01-01T00:00:00Z",
            "referencePeriodEnd": "2026-01-01T00:00:00Z",
            "geographyCountry": "CN",
            "pcfExcludingBiogenicUptake": "2.1",
            "pcfIncludingBiogenicUptake": "2.1",
            "fossilGhgEmissions": "2.1",
            "fossilCarbonContent": "0.002",
            "ipccCharacterizationFactors": ["AR6"],
            "crossSectoralStandards": ["ISO14067"],
            "exemptedEmissionsPercent": "0",
            "dqi": {"technologicalDQR": "1.5", "geographicalDQR": "2", "temporalDQR": "1"},
        },
    }


def test_written_example_round_trips_and_nulls_are_undefined() -> None:
    document = _valid()
    assert parse_product_footprint(json.dumps(document)).to_json() == document
    with_null = copy.deepcopy(document)
    with_null["comment"] = None
    with_null["pcf"]["biogenicCO2Uptake"] = None
    assert parse_product_footprint(with_null).to_json() == document


def _broken(path: str, value: Any) -> dict[str, Any]:
    document = _valid()
    *parents, last = path.split(".")
    target: Any = document
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return document


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("pcf.pcfExcludingBiogenicUptake", 2.1, "valid string"),
        ("pcf.pcfExcludingBiogenicUptake", "2.1e3", "not a decimal string"),
        ("pcf.pcfExcludingBiogenicUptake", "2,1", "not a decimal string"),
        ("pcf.declaredUnitAmount", "0", "greater than 0"),
        ("pcf.fossilGhgEmissions", "-1", "≥ 0"),
        ("pcf.biogenicCO2Uptake", "0.5", "≤ 0"),
        ("pcf.declaredUnitOfMeasurement", "tonne", "kilogram"),
        ("pcf.geographyRegionOrSubregion", "Eastern Asia", "at most one geography"),
        ("pcf.geographyCountry", "China", "pattern"),
        ("pcf.ipccCharacterizationFactors", ["AR6", "AR6"], "appears twice"),
        ("pcf.ipccCharacterizationFactors", ["GWP100"], "pattern"),
        ("pcf.crossSectoralStandards", [], "at least 1"),
        ("pcf.dqi.temporalDQR", "6", "between 1 and 5"),
        ("pcf.fossilCarbonContent", _DELETE, "Field required"),
        ("pcf.referencePeriodEnd", "2026-13-01T00:00:00Z", "not a real date"),
        ("pcf.referencePeriodEnd", "2026-01-01", "RFC 3339"),
        ("id", "not-a-uuid", "not a UUID"),
        ("companyIds", [], "at least 1"),
        ("productIds", ["gtin:6291041500213"], "not a URN"),
        ("status", "Draft", "Active"),
        ("specVersion", "3.0", "pattern"),
        ("companyName", "", "must not be empty"),
        ("pcf", None, "valid dictionary"),
    ],
)
def test_invalid_documents_are_rejected_with_the_path(path: str, value: Any, message: str) -> None:
    with pytest.raises(InvalidPactDocumentError) as caught:
        parse_product_footprint(_broken(path, value))
    problems = caught.value.problems
    assert any(_related(p, path) and message in m for p, m in problems), problems
    assert message in str(caught.value)


def _related(reported: str, broken: str) -> bool:
    """Whether an error at ``reported`` is about the property at ``broken`` (or its object)."""
    return reported.startswith(broken) or broken.startswith(reported)


def test_events_are_told_apart_by_type_and_validated() -> None:
    published = parse_event(
        {
            "type": "org.wbcsd.pact.ProductFootprint.PublishedEvent.3",
            "specversion": "1.0",
            "id": "e-1",
            "source": "//steel.example.com/3/events",
            "time": "2026-01-05T08:00:00Z",
            "data": {"pfIds": ["3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"]},
        }
    )
    assert isinstance(published, PublishedEvent)
    request = parse_event(
        {
            "type": "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3",
            "specversion": "1.0",
            "id": "r-1",
            "source": "//buyer.example.com/3/events",
            "time": "2026-01-05T08:00:00Z",
            "data": {"productId": ["urn:gtin:6291041500213"], "geography": ["CN"]},
        }
    )
    assert isinstance(request, RequestCreatedEvent)
    assert request.data.product_id == ["urn:gtin:6291041500213"]
    with pytest.raises(InvalidPactDocumentError, match=r"data\.pfIds\.0: 'urn:pact:null'"):
        parse_event(published.to_json() | {"data": {"pfIds": ["urn:pact:null"]}})
    fulfilled = {
        "type": "org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3",
        "specversion": "1.0",
        "id": "f-1",
        "source": "//steel.example.com/3/events",
        "time": "2026-01-05T08:00:00Z",
        "data": {"requestEventId": "r-1", "pfs": []},
    }
    with pytest.raises(InvalidPactDocumentError, match=r"data\.pfs: List should have at least 1"):
        parse_event(fulfilled)
    rejected = fulfilled | {
        "type": "org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3",
        "data": {"requestEventId": "r-1", "error": {"code": "Gone", "message": "x"}},
    }
    with pytest.raises(InvalidPactDocumentError, match=r"data\.error\.code"):
        parse_event(rejected)
    with pytest.raises(InvalidPactDocumentError, match="not a PACT v3 event type"):
        parse_event(fulfilled | {"type": "org.wbcsd.pact.ProductFootprint.Deleted.3"})
    with pytest.raises(InvalidPactDocumentError, match="not JSON"):
        parse_event("{")


@given(
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15)
    | st.floats(min_value=-1e-9, max_value=1e-9)
)
def test_decimal_strings_match_the_pattern_and_read_back(value: float) -> None:
    text = format_decimal(value)
    assert re.fullmatch(r"[+-]?\d+(\.\d+)?", text), text
    assert parse_decimal(text) == pytest.approx(value, rel=1e-11, abs=1e-300)


def test_only_wire_names_are_accepted() -> None:
    document = _valid()
    document["company_name"] = document.pop("companyName")
    with pytest.raises(InvalidPactDocumentError, match="companyName: Field required"):
        parse_product_footprint(document)


@needs_reference
def test_reporting_rules_flag_what_the_schema_allows() -> None:
    """The "invalid" official example is schema-valid but breaks the Methodology's rules."""
    listed = parse_model(ListFootprintsResponse, _example("invalid-response-all-properties.json"))
    findings = {(f.path, f.level) for f in reporting_findings(listed.data[0])}
    assert ("pcf.packagingGhgEmissions", "SHALL") in findings
    assert ("pcf.packagingEmissionsIncluded", "SHALL") in findings
    assert ("updated", "SHOULD") in findings
    assert ("pcf.biogenicAccountingMethodology", "SHOULD") in findings


def test_reporting_rules_on_a_complete_footprint() -> None:
    document = _valid()
    document["pcf"] |= {
        "packagingEmissionsIncluded": False,
        "ccsTechnologicalCO2CaptureIncluded": False,
        "primaryDataShare": "40",
        "boundaryProcessesDescription": "cradle to gate",
        "allocationRulesDescription": "mass",
    }
    assert reporting_findings(parse_product_footprint(document)) == []
    document["pcf"]["ccsTechnologicalCO2Capture"] = "-1"
    (finding,) = reporting_findings(parse_product_footprint(document))
    assert finding.path == "pcf.ccsTechnologicalCO2Capture" and finding.level == "SHALL"
