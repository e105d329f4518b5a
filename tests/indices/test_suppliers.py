"""The supplier green-and-digital index from stored exchange records, recomputed by hand."""

from __future__ import annotations

import json
import math
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import Engine

from carbonlink.exchange.fulfilment import EventWorker
from carbonlink.exchange.repository import ExchangeRepository
from carbonlink.indices.errors import IndexDataError
from carbonlink.indices.suppliers import (
    INDICATORS,
    NoSupplierDataError,
    collect_suppliers,
    supplier_index,
    supplier_indicators,
    supplier_scores,
    supplier_spec,
)
from supplier_records import AS_OF, T0, footprint, seed_four_coke_suppliers

CODES = ["coke-a", "coke-b", "coke-c", "coke-d"]


def _column(frame: object, code: str) -> list[float | None]:
    values = frame[code].tolist()  # type: ignore[index]
    return [None if math.isnan(v) else round(v, 6) for v in values]


def test_indicators_from_the_stored_records(engine: Engine) -> None:
    """Four coke suppliers (tests/supplier_records.py), as of 2026-03-01.

    - Current footprints: coke-a's Deprecated version (2.0 kg CO2e/kg) does not count, nor
      does the footprint pulled from an unknown host (it is noted). Peer median of 0.40, 0.50
      and 0.80 is 0.50: EMISSION_INTENSITY = 80, 100, 160 % of peer median; coke-d has none.
    - RENEWABLE_SHARE from the extension: 50, missing, 10, missing.
    - PRIMARY_DATA_SHARE: 60, 20, 40, missing.
    - Requests (all sent 30 days or more before the date, so all due): coke-a 1 fulfilled in 5
      days; coke-b 1 fulfilled in 40 days; coke-c 1 rejected + 1 fulfilled in 10 days; coke-d 1
      unanswered. DATA_COMPLETENESS = 100, 100, 50, 0; REPORTING_TIMELINESS = 100, 0, 50, 0.
    - The customer (never asked, never sent anything) is not a supplier.
    """
    collected = collect_suppliers(seed_four_coke_suppliers(engine), as_of=AS_OF)
    frame = collected.indicators.frame.set_index("uCode")
    assert frame.index.tolist() == CODES  # sorted by name
    assert _column(frame, "EMISSION_INTENSITY") == [80.0, 100.0, 160.0, None]
    assert _column(frame, "RENEWABLE_SHARE") == [50.0, None, 10.0, None]
    assert _column(frame, "PRIMARY_DATA_SHARE") == [60.0, 20.0, 40.0, None]
    assert _column(frame, "DATA_COMPLETENESS") == [100.0, 100.0, 50.0, 0.0]
    assert _column(frame, "REPORTING_TIMELINESS") == [100.0, 0.0, 50.0, 0.0]
    assert frame["requests_due"].tolist() == [1, 1, 2, 1]
    assert _column(frame, "median_answer_days") == [5.0, 40.0, 10.0, None]
    assert frame["footprints"].tolist() == [1, 1, 1, 0]
    assert len(collected.notes) == 1
    assert "https://stranger.example" in collected.notes[0]


def test_index_scores_recomputed_by_hand(engine: Engine) -> None:
    """Median imputation, goalposts normalisation, arithmetic means (the shipped spec).

    Imputed: coke-d EMISSION_INTENSITY = median(80, 100, 160) = 100; RENEWABLE_SHARE of
    coke-b and coke-d = median(50, 10) = 30; coke-d PRIMARY_DATA_SHARE = median(60, 20, 40) = 40.

    Normalised (goalposts, × 100): EMISSION_INTENSITY with posts 50 and 150, lower better:
    (150 − x)/100 clipped to [0, 1]: 70, 50, 0 (160 is past the post), 50. The percentages
    with posts 0 and 100 keep their value: RENEWABLE 50, 30, 10, 30; PRIMARY 60, 20, 40, 40;
    COMPLETENESS 100, 100, 50, 0; TIMELINESS 100, 0, 50, 0.

    GREEN = mean(EMISSION, RENEWABLE) = 60, 40, 5, 40.
    DIGITAL = mean(PRIMARY, COMPLETENESS, TIMELINESS) = 260/3, 120/3, 140/3, 40/3
            = 86.667, 40, 46.667, 13.333.
    SGDI = mean(GREEN, DIGITAL) = 73.333, 40, 25.833, 26.667: ranks 1, 2, 4, 3.
    """
    repository = seed_four_coke_suppliers(engine)
    result = supplier_index(repository, as_of=AS_OF)
    assert result.spec_hash == supplier_spec().content_hash()
    assert len(result.spec_hash) == 64
    normalised = result.datasets["Normalised"].loc[CODES]
    expected = {
        "EMISSION_INTENSITY": [70, 50, 0, 50],
        "RENEWABLE_SHARE": [50, 30, 10, 30],
        "PRIMARY_DATA_SHARE": [60, 20, 40, 40],
        "DATA_COMPLETENESS": [100, 100, 50, 0],
        "REPORTING_TIMELINESS": [100, 0, 50, 0],
    }
    for code, values in expected.items():
        np.testing.assert_allclose(normalised[code].to_numpy(float), values, err_msg=code)
    scores = result.scores.loc[CODES]
    np.testing.assert_allclose(scores["GREEN"], [60, 40, 5, 40])
    np.testing.assert_allclose(scores["DIGITAL"], [260 / 3, 40, 140 / 3, 40 / 3])
    np.testing.assert_allclose(
        scores["SGDI"], [(60 + 260 / 3) / 2, 40, (5 + 140 / 3) / 2, (40 + 40 / 3) / 2]
    )
    table = result.index_table()
    assert table.index.tolist() == ["coke-a", "coke-b", "coke-d", "coke-c"]
    assert table["rank"].tolist() == [1, 2, 3, 4]
    assert any("stranger" in note for note in result.notes)

    ranked = supplier_scores(result, supplier_indicators(repository, as_of=AS_OF))
    by_code = {s.code: s for s in ranked}
    assert [s.code for s in ranked] == ["coke-a", "coke-b", "coke-d", "coke-c"]
    assert by_code["coke-a"].name == "Alpha Coking"
    assert [s.available for s in ranked] == [5, 4, 2, 5]
    assert by_code["coke-a"].strengths == ("DATA_COMPLETENESS", "REPORTING_TIMELINESS")
    assert by_code["coke-a"].weaknesses == ()
    assert by_code["coke-b"].strengths == ("DATA_COMPLETENESS",)
    assert by_code["coke-b"].weaknesses == ("REPORTING_TIMELINESS", "PRIMARY_DATA_SHARE")
    assert set(by_code["coke-c"].weaknesses) == {"EMISSION_INTENSITY", "RENEWABLE_SHARE"}
    # Imputed values are neither strengths nor weaknesses.
    assert set(by_code["coke-d"].weaknesses) == {"DATA_COMPLETENESS", "REPORTING_TIMELINESS"}
    renewable_b = next(i for i in by_code["coke-b"].indicators if i.code == "RENEWABLE_SHARE")
    assert (renewable_b.measured, renewable_b.used, renewable_b.score) == (None, 30.0, 30.0)


def test_the_date_decides_what_counts(engine: Engine) -> None:
    """Two days after the requests nothing is answered and nothing is due: no index yet.

    Twenty-five days after them, coke-a (day 5) and coke-c (rejected day 3, fulfilled day 20)
    have answered; the second request to coke-c (day 10) is answered, so due; coke-b's and
    coke-d's requests are not due yet. coke-c: 2 due, 1 fulfilled: 50 %.
    """
    repository = seed_four_coke_suppliers(engine)
    with pytest.raises(NoSupplierDataError, match="no supplier has answered"):
        supplier_index(repository, as_of=T0 + timedelta(days=2))
    frame = supplier_indicators(repository, as_of=T0 + timedelta(days=25)).frame
    frame = frame.set_index("uCode")
    assert _column(frame, "DATA_COMPLETENESS") == [100.0, None, 50.0, None]
    # coke-b's footprint has not arrived yet: coke-a and coke-c are peers, median 0.60.
    assert _column(frame, "EMISSION_INTENSITY") == [
        round(100 * 0.4 / 0.6, 6),
        None,
        round(100 * 0.8 / 0.6, 6),
        None,
    ]
    with pytest.raises(IndexDataError, match="time zone"):
        supplier_indicators(repository, as_of=AS_OF.replace(tzinfo=None))


def test_portal_answers_and_bad_extension_values(engine: Engine) -> None:
    """A supplier without a host answers in the portal; its footprint is attributed to it.

    A renewable share outside 0–100 is not used and is noted with the footprint's id.
    """
    from carbonlink.domain.footprint import (
        CoProductOutput,
        DeclaredUnit,
        EmissionProfile,
        Product,
        company_product_urn,
    )
    from carbonlink.exchange.pact import DataOwner, parse_decimal
    from carbonlink.exchange.portal import (
        ActivitySubmission,
        create_supplier_request,
        register_supplier,
        submit_activity_data,
    )
    from supplier_records import SettableClock

    clock = SettableClock(T0)
    repository = ExchangeRepository(engine, clock=clock)
    worker = EventWorker(repository, source="https://lead.example.cn")
    register_supplier(repository, "lime", name="Lime Works", organization="Lime Works")
    product = Product(
        key="lime",
        name="Burnt lime",
        declared_unit=DeclaredUnit.KILOGRAM,
        mass_per_declared_unit=1.0,
        identifiers=(company_product_urn("lime.example.cn", "QL-1"),),
    )
    request = create_supplier_request(
        repository, worker, "lime", {"productId": list(product.identifiers)}
    )
    clock.now = T0 + timedelta(days=2)
    answered = submit_activity_data(
        repository,
        worker,
        "lime",
        request,
        ActivitySubmission(
            product=product,
            reference_period_start=T0.replace(year=2025, month=1, day=1, hour=0),
            reference_period_end=T0.replace(month=1, day=1, hour=0),
            site_emissions=EmissionProfile(fossil=1000.0),
            outputs=(CoProductOutput("lime", quantity=100.0, mass=100.0),),
        ),
        owner=DataOwner("Lime Works", ("urn:pact:lime.example.cn:company-id:1",)),
    )
    bad = footprint(9, "lime", pcf="3.0", renewable="140")
    bad["companyIds"] = ["urn:pact:lime.example.cn:company-id:1"]
    repository.store_received(json.dumps(bad), source="lime", via="event")
    # The partner names no company ids, so only the source attributes both footprints.
    collected = collect_suppliers(repository, as_of=AS_OF)
    frame = collected.indicators.frame.set_index("uCode")
    assert frame.index.tolist() == ["lime"]
    row = frame.loc["lime"]
    stated = answered.pcf.primary_data_share
    assert stated is not None
    assert row["PRIMARY_DATA_SHARE"] == pytest.approx(parse_decimal(stated))
    assert (row["DATA_COMPLETENESS"], row["REPORTING_TIMELINESS"]) == (100.0, 100.0)
    assert row["footprints"] == 2
    assert math.isnan(row["RENEWABLE_SHARE"])
    assert math.isnan(row["EMISSION_INTENSITY"])  # one supplier: no peers to compare with
    assert [n for n in collected.notes if "140" in n and bad["id"] in n]
    assert set(INDICATORS) <= set(frame.columns)


def test_docs_name_the_extension_and_the_figures_of_these_tests() -> None:
    """docs/indices.md shows the extension carbonlink reads and this file's scores."""
    from pathlib import Path

    from carbonlink.indices.suppliers import RENEWABLE_EXTENSION

    text = (Path(__file__).resolve().parents[2] / "docs" / "indices.md").read_text("utf-8")
    section = text.split("## Supplier green-and-digital index", 1)[1]
    assert f'"dataSchema": "{RENEWABLE_EXTENSION}"' in section
    assert '"renewableElectricityShare"' in section
    assert '"score": 73.33' in section and '"GREEN": 60.0, "DIGITAL": 86.67' in section
    for code in INDICATORS:
        assert f"`{code}`" in section
