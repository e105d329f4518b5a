"""The portal's activity-data fields and their XLSX template give the same submission."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from carbonlink.errors import InputError
from carbonlink.exchange.portal_sheet import (
    SheetError,
    fields_from_workbook,
    submission_from_fields,
    template_workbook,
)

FIELDS = {
    "product_name": "High-carbon ferrochrome",
    "product_ids": "urn:pact:ferroalloy.example.cn:product-id:FECR-HC",
    "hs_code": "7202.41",
    "period_start": "2025-01-01",
    "period_end": "2026-01-01",
    "site_fossil_t": "8690",
    "energy_0_name": "electricity",
    "energy_0_amount": "10000",
    "energy_0_unit": "MWh",
    "energy_0_factor": "581",
    "rule": "economic",
    "output_0_mass_t": "2400",
    "output_0_revenue": "22080000",
    "output_1_name": "slag",
    "output_1_mass_t": "3000",
    "output_1_revenue": "0",
    "material_0_name": "chromite ore",
    "material_0_quantity": "2.1",
    "material_0_unit": "kg",
    "material_0_factor": "0.05",
    "material_0_source": "ore purchase statement 2025",
}


def test_fields_give_the_submission_by_hand() -> None:
    submission = submission_from_fields(FIELDS, str)
    # 8 690 t + 10 000 MWh × 581 kg/MWh = 8 690 t + 5 810 t = 14 500 t fossil
    assert submission.site_emissions.fossil == pytest.approx(14_500_000)
    product, slag = submission.outputs
    assert (product.product, product.quantity, product.revenue) == (
        "High-carbon ferrochrome",
        2_400_000,
        22_080_000,
    )
    assert (slag.product, slag.mass) == ("slag", 3_000_000)
    assert submission.product.classifications == ("urn:pact:productclassification:hs:720241",)
    assert submission.materials[0].version == "-"


def test_biogenic_energy_counts_as_biogenic_non_co2() -> None:
    # 200 t of wood chips at 30 kg CO2e/t of CH4 and N2O: 6 t CO2e biogenic non-CO2
    wood = {
        "energy_1_name": "wood chips",
        "energy_1_amount": "200",
        "energy_1_unit": "t",
        "energy_1_factor": "30",
        "energy_1_kind": "biogenic",
    }
    submission = submission_from_fields({**FIELDS, **wood, "energy_2_kind": "fossil"}, str)
    assert submission.site_emissions.biogenic_non_co2 == pytest.approx(6_000)
    assert submission.site_emissions.fossil == pytest.approx(14_500_000)
    with pytest.raises(InputError, match="energy_1_kind: 'peat' is neither fossil nor biogenic"):
        submission_from_fields({**FIELDS, **wood, "energy_1_kind": "peat"}, str)


def test_the_template_round_trips_and_names_cells() -> None:
    fields, where = fields_from_workbook(template_workbook(FIELDS))
    assert submission_from_fields(fields, where.__getitem__) == submission_from_fields(FIELDS, str)
    assert where["output_1_mass_t"] == "sheet Outputs, row 3, cell B3"
    assert where["product_name"] == "sheet Product, row 2, cell B2"
    with pytest.raises(InputError, match=r"sheet Materials, row 2, cell D2: 'x' is not a number"):
        submission_from_fields({**fields, "material_0_factor": "x"}, where.__getitem__)


def test_a_sheet_with_too_many_rows_or_missing_is_refused() -> None:
    book = load_workbook(io.BytesIO(template_workbook(FIELDS)))
    book["Outputs"]["A9"] = "one row too many"
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(SheetError, match="sheet Outputs has more than 3 rows"):
        fields_from_workbook(buffer.getvalue())
    del book["Energy"]
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(SheetError, match="no sheet 'Energy'"):
        fields_from_workbook(buffer.getvalue())
    with pytest.raises(SheetError, match="not an XLSX workbook"):
        fields_from_workbook(b"PK\x03\x04 but not a workbook")


@settings(max_examples=15, deadline=None)
@given(
    mass=st.floats(min_value=0.001, max_value=1e9, allow_nan=False),
    fossil=st.floats(min_value=0.001, max_value=1e9, allow_nan=False),
)
def test_numbers_survive_the_spreadsheet(mass: float, fossil: float) -> None:
    typed = {**FIELDS, "output_0_mass_t": repr(mass), "site_fossil_t": repr(fossil)}
    book = load_workbook(io.BytesIO(template_workbook(typed)))
    book["Outputs"]["B2"] = mass  # a number cell, as a person types it
    buffer = io.BytesIO()
    book.save(buffer)
    fields, where = fields_from_workbook(buffer.getvalue())
    read = submission_from_fields(fields, where.__getitem__)
    typed_in = submission_from_fields(typed, str)
    # XLSX keeps about 16 significant digits of a number cell (Excel shows 15).
    assert read.outputs[0].mass == pytest.approx(typed_in.outputs[0].mass, rel=1e-15)
    assert read.site_emissions == typed_in.site_emissions
    assert read.outputs[1:] == typed_in.outputs[1:]
