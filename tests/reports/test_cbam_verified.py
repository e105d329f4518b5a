"""The exporter's definitive-period communication: verified status, carbon price paid, Catena-X.

The Catena-X JSON is validated with ``jsonschema`` against the published JSON schema of the
aspect model ``urn:samm:io.catenax.cbam:1.0.0`` (eclipse-tractusx/sldt-semantic-models,
``io.catenax.cbam/1.0.0/gen/Cbam-schema.json``, CC-BY-4.0). The schema is reference material kept
beside the project in ``../shared/reference/catenax-cbam/`` (or under CARBONLINK_SHARED, or at
CARBONLINK_CATENAX_CBAM_SCHEMA),
not in it; the test says so and skips when it is absent.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import jsonschema
import openpyxl
import pytest
from test_cbam_template import _markers, _require_services, _stand_in_template, _template

from carbonlink.demo.cbam import demo_cbam_input
from carbonlink.errors import InputError
from carbonlink.reports.cbam_catenax import alpha3, to_catenax
from carbonlink.reports.cbam_exporter import (
    build_exporter_communication,
    load_exporter_pack,
    write_exporter_outputs,
)
from carbonlink.reports.cbam_template import (
    fill_official_template,
    libreoffice_binary,
    recalculate,
)

PACK = "cbam-tangshan-exporter.yaml"
SHARED = Path(
    os.environ.get("CARBONLINK_SHARED", Path(__file__).resolve().parents[2].parent / "shared")
)


OPTIONAL = "optional reference file absent:"


def _schema_path() -> Path:
    given = os.environ.get("CARBONLINK_CATENAX_CBAM_SCHEMA")
    if given:
        return Path(given)
    return SHARED / "reference" / "catenax-cbam" / "Cbam-schema.json"


@pytest.fixture(scope="module")
def communication() -> dict[str, Any]:
    return build_exporter_communication(load_exporter_pack(demo_cbam_input(PACK)))


@pytest.fixture(scope="module")
def catenax_cbam_schema() -> dict[str, Any]:
    path = _schema_path()
    if not path.is_file():
        # Optional even in CI's reference step: the schema is kept beside the project by hand
        # (shared/reference/catenax-cbam), not shipped with the reference files every machine has.
        pytest.skip(f"{OPTIONAL} the Catena-X CBAM 1.0.0 JSON schema {path}")
    loaded: dict[str, Any] = json.loads(path.read_text("utf-8"))
    jsonschema.Draft4Validator.check_schema(loaded)
    return loaded


def test_the_demo_communication_is_verified_by_a_verifier_labelled_demo(
    communication: dict[str, Any],
) -> None:
    assert communication["status"] == "verified"
    v = communication["verification"]
    assert v["demo"] is True
    assert v["report"]["opinion"] == "verified as satisfactory"
    assert v["report"]["site_visit"] == "physical"
    assert v["verifier"]["accreditation"] == {
        "body": "Demo national accreditation body",
        "number": "DEMO-CBAM-0001",
        "state": "DE",
    }
    # The template's verifier fields carry the demo label.
    assert communication["verifier"]["company"].endswith("(demo verifier, not accredited)")
    assert communication["verifier"]["accreditation_number"] == "DEMO-CBAM-0001"
    methodology = v["monitoring_methodology"]
    assert methodology["reference"] == "TS-CBAM-MMD" and len(methodology["document_sha256"]) == 64
    # 1 441 380 found against 1 441 415.82 reported: (1 441 380 − 1 441 415.82) / 1 441 415.82.
    emissions = next(s for s in v["sampled_data"] if s["item"] == "installation direct emissions")
    assert emissions["deviation"] == pytest.approx((1441380 - 1441415.82) / 1441415.82, abs=1e-6)


def test_the_carbon_price_paid_follows_the_ets_position(communication: dict[str, Any]) -> None:
    """Demo position: the 2025 intensity rule gives A = 1 000 000 t × 1.398174 = 1 398 174
    allowances; verified E = 1 441 416 t, so 1 441 416 − 1 398 174 = 43 242 are bought at
    80 CNY, at 8.2 CNY/EUR:
    N = 43 242 × 80 = 3 459 360 CNY; p = 3 459 360 / 1 441 416 = 2.399973 CNY/t;
    p€ = 2.399973 / 8.2 = 0.292680 EUR/t; each good: its direct SEE × p€."""
    price = communication["carbon_price_paid"]
    assert price["position"]["free_allocation_t"] == pytest.approx(1_398_174.0)
    assert price["position"]["bought_t"] == pytest.approx(43_242.0)
    assert price["position"]["surrendered_t"] == 1_441_416
    assert "illustrative demo intensity" in price["allocation_basis"]
    assert price["schema"] == "carbonlink.cbam.carbon-price-paid/1"
    assert price["amount_paid"] == pytest.approx(3_459_360.0)
    assert price["price_per_t_co2e"] == pytest.approx(3_459_360 / 1_441_416, abs=1e-6)
    assert price["eur_per_t_co2e"] == pytest.approx(3_459_360 / 1_441_416 / 8.2, abs=1e-6)
    assert price["exchange_rate"]["date"] == "2025-12-31"
    see = {g["cn_code"]: g["see_direct"] for g in communication["goods"]}
    for good in price["goods"]:
        assert good["eur_per_t_good"] == pytest.approx(
            see[good["cn_code"]] * 3_459_360 / 1_441_416 / 8.2, abs=1e-6
        )
    assert price["independent_person"]["name"].endswith("(demo)")
    # The hand-entered price of the CBAM input is replaced per good by the computed one.
    coil = next(g for g in communication["goods"] if g["cn_code"] == "72083900")
    assert coil["carbon_price"]["price_due_per_t"] == pytest.approx(
        see["72083900"] * 3_459_360 / 1_441_416, abs=1e-5
    )
    assert coil["carbon_price"]["rebate_share"] == pytest.approx(1_398_174 / 1_441_416, abs=1e-6)


def test_the_catena_x_json_validates_against_the_published_schema(
    communication: dict[str, Any], catenax_cbam_schema: dict[str, Any]
) -> None:
    document = to_catenax(communication)
    jsonschema.Draft4Validator(catenax_cbam_schema).validate(document)
    [_pig_iron, coil] = document["good"]
    assert coil["cnCode"] == "72083900"
    record = coil["operator"][0]["installation"][0]["emissionsRecords"][0]
    assert record["directEmissions"]["specificEmbeddedEmissionsDirect"] == pytest.approx(
        next(g["see_direct"] for g in communication["goods"] if g["cn_code"] == "72083900")
    )
    assert record["activityData"]["netMass"] == 980_000
    assert record["attestationOfConformance"][0]["attestationOfConformanceId"] == (
        "DEMO-VR-2026-0042"
    )
    assert "demo" in record["attestationOfConformance"][0]["attestationType"]
    assert record["carbonPricePaid"][0]["countryCode"] == "CHN"
    assert record["carbonPricePaid"][0]["typeOfInstrument"] == "04"
    # A document the schema refuses is refused: a CN code of 6 digits.
    broken = json.loads(json.dumps(document))
    broken["good"][0]["cnCode"] = "720839"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(catenax_cbam_schema).validate(broken)


def test_an_unverified_communication_carries_no_attestation(
    communication: dict[str, Any], catenax_cbam_schema: dict[str, Any]
) -> None:
    unverified = dict(communication, verification={"status": "not verified"})
    document = to_catenax(unverified)
    jsonschema.Draft4Validator(catenax_cbam_schema).validate(document)
    record = document["good"][0]["operator"][0]["installation"][0]["emissionsRecords"][0]
    assert "attestationOfConformance" not in record


def test_the_workbooks_carry_the_verifier_and_the_price(
    communication: dict[str, Any], tmp_path: Path
) -> None:
    template = _template()
    if not template.is_file():
        template = _stand_in_template(tmp_path / "template.xlsx", communication)
    filled = fill_official_template(template, communication, tmp_path / "filled.xlsx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        book = openpyxl.load_workbook(filled)
    a = book["A_InstData"]
    assert a["I37"].value == "Demo Verification GmbH (demo verifier, not accredited)"
    assert a["I52"].value == "Demo national accreditation body"
    assert a["I53"].value == "DEMO-CBAM-0001"
    products = book["Summary_Products"]
    assert products["F11"].value == "72083900"
    assert products["AR11"].value == pytest.approx(
        communication["carbon_price_paid"]["goods"][1]["price_per_t_good"], abs=1e-6
    )
    assert products["AP11"].value == "CNY"

    outputs = write_exporter_outputs(
        load_exporter_pack(demo_cbam_input(PACK)), tmp_path / "out", "verified"
    )
    sheet = openpyxl.load_workbook(outputs["communication (XLSX)"])["Verification_CarbonPrice"]
    values = {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert values["Verification status"] == "verified"
    assert "DEMO" in values["Verifier"]
    assert json.loads(outputs["Catena-X CBAM (JSON)"].read_text("utf-8"))["good"]


def test_a_pack_that_is_wrong_says_where(tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text("communication: x.yaml\nverification: {verifier: V}\n", "utf-8")
    with pytest.raises(InputError, match=r"verification\.accreditation"):
        load_exporter_pack(pack)
    with pytest.raises(InputError, match="alpha-3"):
        alpha3("QQ")
    assert alpha3("cn") == "CHN" and alpha3("DE") == "DEU"


def test_the_allocation_is_either_computed_or_stated(tmp_path: Path) -> None:
    text = demo_cbam_input(PACK).read_text("utf-8")
    both = text.replace("  bought_price: 80.0", "  bought_price: 80.0\n  bought_t: 1")
    (tmp_path / "both.yaml").write_text(both, "utf-8")
    mmd = demo_cbam_input("cbam-tangshan-mmd.md")
    (tmp_path / mmd.name).write_bytes(mmd.read_bytes())
    with pytest.raises(InputError, match="not both"):
        load_exporter_pack(tmp_path / "both.yaml")


@pytest.mark.reference
@pytest.mark.slow
def test_the_official_template_recalculates_without_errors_and_names_the_verification(
    communication: dict[str, Any], tmp_path: Path
) -> None:
    """The Commission's workbook, filled with the verified communication and recalculated by
    LibreOffice: its own checks flag nothing new, and the summary states third-party
    verification."""
    template = _template()
    if not template.is_file():
        pytest.skip(f"reference file absent: the official CBAM template {template}")
    if libreoffice_binary() is None:
        if _require_services():
            pytest.fail("LibreOffice is required (CARBONLINK_REQUIRE_SERVICES=1)")
        pytest.skip("LibreOffice is not installed")
    filled = fill_official_template(template, communication, tmp_path / "verified.xlsx")
    path = recalculate(filled, tmp_path / "recalc")
    shipped = _markers(template)
    assert {k: v for k, v in _markers(path).items() if shipped.get(k) != v} == {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        book = openpyxl.load_workbook(path, data_only=True)
    assert book["Summary_Communication"]["AD21"].value == "Third-party verification"
    products = book["Summary_Products"]
    assert all(products[f"BI{r}"].value is True for r in range(10, 20) if products[f"D{r}"].value)
