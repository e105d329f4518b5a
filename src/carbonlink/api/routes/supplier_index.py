"""The supplier green-and-digital index: a ranked page in the supply-chain pages and its API.

Both read the PACT exchange of the caller's organization and build the shipped spec
(`carbonlink.indices.suppliers`); only roles that may read (admin, editor, viewer, auditor)
see it, supplier accounts get 403.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from carbonlink.api.deps import Context, Reader, ServiceContext
from carbonlink.api.problems import problem_responses
from carbonlink.api.routes.pages import _page_caller, _render
from carbonlink.api.security import Principal
from carbonlink.errors import InputError
from carbonlink.exchange.repository import ExchangeRepository
from carbonlink.indices.suppliers import (
    NoSupplierDataError,
    SupplierScore,
    collect_suppliers,
    index_of,
    supplier_scores,
    supplier_spec,
)

PAGE_PATH = "/supply-chain/suppliers/index"
router = APIRouter()

EMPTY_REASON = "no supplier has answered a footprint request or sent a footprint yet"


def exchange_records(ctx: ServiceContext, caller: Principal) -> ExchangeRepository:
    """The PACT exchange of the caller's organization: its suppliers, requests, footprints."""
    return ExchangeRepository(ctx.engine, organization_id=caller.organization_id)


# API models --------------------------------------------------------------------------------


class IndicatorOut(BaseModel):
    code: str = Field(examples=["PRIMARY_DATA_SHARE"])
    name: str = Field(examples=["Share of primary data in footprints"])
    unit: str = Field(examples=["%"])
    measured: float | None = Field(
        description="The supplier's value from its records; null when it has none.",
        examples=[62.5],
    )
    used: float | None = Field(
        description="The value the index used: measured, or imputed by the spec's method.",
        examples=[62.5],
    )
    score: float | None = Field(description="Normalised score, 0–100.", examples=[62.5])
    imputed: bool = Field(examples=[False])


class SupplierOut(BaseModel):
    code: str = Field(description="The supplier's PACT client id.", examples=["coking-co"])
    name: str = Field(examples=["Demo Coking Co."])
    rank: int = Field(examples=[1])
    score: float = Field(description="Index score, 0–100.", examples=[73.3])
    dimensions: dict[str, float | None] = Field(
        description="Score of each dimension of the framework, 0–100.",
        examples=[{"GREEN": 60.0, "DIGITAL": 86.7}],
    )
    available: int = Field(description="Indicators measured (not imputed).", examples=[5])
    indicators: list[IndicatorOut]
    strengths: list[str] = Field(examples=[["DATA_COMPLETENESS"]])
    weaknesses: list[str] = Field(examples=[["RENEWABLE_SHARE"]])
    footprints: int = Field(description="Current footprints received.", examples=[1])
    requests_due: int = Field(
        description="Requests answered, or sent at least 30 days before the date.", examples=[2]
    )
    median_answer_days: float | None = Field(
        description="Median days from request to fulfilment.", examples=[5.0]
    )


class SupplierIndexOut(BaseModel):
    as_of: datetime = Field(examples=["2026-11-29T00:00:00Z"])
    spec_name: str = Field(examples=["Supplier green and digital development index"])
    spec_version: str = Field(examples=["2"])
    spec_hash: str = Field(
        description="SHA-256 of the canonical spec the scores come from.",
        examples=["3f1c0d2e9a7b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5"],
    )
    suppliers: list[SupplierOut] = Field(description="Ranked suppliers, best first.")
    not_ranked: list[str] = Field(
        description="Suppliers without any indicator yet (asked recently, nothing answered).",
        examples=[["ferroalloy-co"]],
    )
    empty_reason: str | None = Field(
        default=None,
        description="Why no supplier is ranked, when none is.",
        examples=[EMPTY_REASON],
    )
    notes: list[str] = Field(
        description="Records that could not be used, and why.",
        examples=[["footprint 5a1f… from https://host.example matches no single supplier"]],
    )


EXAMPLE = {
    "as_of": "2026-03-01T00:00:00Z",
    "spec_name": "Supplier green and digital development index",
    "spec_version": "2",
    "spec_hash": "<sha-256 of the spec>",
    "suppliers": [
        {
            "code": "coke-a",
            "name": "Alpha Coking",
            "rank": 1,
            "score": 73.33,
            "dimensions": {"GREEN": 60.0, "DIGITAL": 86.67},
            "available": 5,
            "indicators": [
                {
                    "code": "EMISSION_INTENSITY",
                    "name": "Product footprint relative to peers",
                    "unit": "% of peer median",
                    "measured": 80.0,
                    "used": 80.0,
                    "score": 70.0,
                    "imputed": False,
                }
            ],
            "strengths": ["DATA_COMPLETENESS", "REPORTING_TIMELINESS"],
            "weaknesses": [],
            "footprints": 1,
            "requests_due": 1,
            "median_answer_days": 5.0,
        }
    ],
    "not_ranked": [],
    "empty_reason": None,
    "notes": [],
}


def _as_of(value: datetime | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    if not 1970 <= moment.year <= 2200:
        raise InputError(
            f"as_of {value.isoformat()} is out of range", hint="give a date between 1970 and 2200"
        )
    return moment.astimezone(UTC)


def _build(
    ctx: ServiceContext, caller: Principal, as_of: datetime
) -> tuple[list[SupplierScore], list[str], list[str], str | None, str]:
    """Ranked suppliers, unranked supplier names, notes, why empty, spec hash."""
    repository = exchange_records(ctx, caller)
    spec = supplier_spec()
    collected = collect_suppliers(repository, as_of=as_of)
    try:
        result = index_of(collected, spec)
    except NoSupplierDataError:
        names = collected.indicators.frame["uName"].astype(str).tolist()
        return [], names, list(collected.notes), EMPTY_REASON, spec.content_hash()
    ranked = supplier_scores(result, collected.indicators)
    included = {s.code for s in ranked}
    frame = collected.indicators.frame
    unranked = [
        str(name)
        for code, name in zip(frame["uCode"], frame["uName"], strict=True)
        if code not in included
    ]
    return ranked, unranked, list(result.notes), None, result.spec_hash


@router.get(
    "/api/v1/supply-chain/supplier-index",
    response_model=SupplierIndexOut,
    responses={
        **problem_responses(401, 403, 422),
        200: {"content": {"application/json": {"example": EXAMPLE}}},
    },
    tags=["supply chain"],
)
def supplier_index_api(
    caller: Reader,
    ctx: Context,
    as_of: Annotated[
        datetime | None,
        Query(
            description="The date the index is built for (default: now); UTC if no zone.",
            examples=["2026-03-01T00:00:00Z"],
        ),
    ] = None,
) -> SupplierIndexOut:
    """Suppliers ranked by the green-and-digital index, from the PACT exchange records.

    Green: product footprints relative to peers of the same product classification, and the
    renewable electricity share a footprint extension states; digital: primary data share,
    requests answered, requests answered within 30 days. Missing indicators are imputed by
    the spec's method and flagged (`imputed`); the spec's hash is returned with the scores.
    """
    moment = _as_of(as_of)
    ranked, unranked, notes, empty, spec_hash = _build(ctx, caller, moment)
    spec = supplier_spec()
    meta = {i.code: i for i in spec.indicators}
    return SupplierIndexOut(
        as_of=moment,
        spec_name=spec.name,
        spec_version=spec.version,
        spec_hash=spec_hash,
        suppliers=[
            SupplierOut(
                code=s.code,
                name=s.name,
                rank=s.rank,
                score=s.score,
                dimensions=s.dimensions,
                available=s.available,
                indicators=[
                    IndicatorOut(
                        code=i.code,
                        name=meta[i.code].name,
                        unit=meta[i.code].unit,
                        measured=i.measured,
                        used=i.used,
                        score=i.score,
                        imputed=i.measured is None and i.used is not None,
                    )
                    for i in s.indicators
                ],
                strengths=list(s.strengths),
                weaknesses=list(s.weaknesses),
                footprints=int(s.details.get("footprints") or 0),
                requests_due=int(s.details.get("requests_due") or 0),
                median_answer_days=s.details.get("median_answer_days"),
            )
            for s in ranked
        ],
        not_ranked=unranked,
        empty_reason=empty,
        notes=notes,
    )


@router.get(PAGE_PATH, include_in_schema=False)
def supplier_index_page(
    request: Request, ctx: Context, as_of: Annotated[date | None, Query()] = None
) -> HTMLResponse:
    caller = _page_caller(request, ctx)
    moment = (
        datetime.now(UTC)
        if as_of is None
        else _as_of(datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC))
    )
    ranked, unranked, notes, empty, spec_hash = _build(ctx, caller, moment)
    spec = supplier_spec()
    dimensions = [n.code for n in spec.framework if n.parent is not None]
    no_data = [d for d in dimensions if ranked and all(s.dimensions.get(d) is None for s in ranked)]
    chart: dict[str, Any] | None = None
    if ranked:
        shown = list(reversed(ranked))  # ECharts draws the first category at the bottom
        chart = {
            "suppliers": [s.name for s in shown],
            "score": [_round(s.score) for s in shown],
            "green": [_round(s.dimensions.get("GREEN")) for s in shown],
            "digital": [_round(s.dimensions.get("DIGITAL")) for s in shown],
        }
    return _render(
        request,
        ctx,
        "supplier_index.html",
        caller,
        nav="supply",
        ranked=ranked,
        unranked=unranked,
        notes=notes,
        empty=empty is not None,
        no_data=no_data,
        spec=spec,
        spec_hash=spec_hash,
        indicators=spec.indicators,
        as_of=moment,
        as_of_asked=as_of,
        chart_json=json.dumps(chart, ensure_ascii=False),
    )


def _round(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 1)
