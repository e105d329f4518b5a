"""Emission factors under /api/v1: the shipped library, searchable, each with source and licence."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from carbonlink.api.deps import Reader
from carbonlink.api.domain_text import subject_names
from carbonlink.api.routes.v1 import PREFIX, READ
from carbonlink.domain.factors import Factor, default_library

router = APIRouter(prefix=PREFIX)


class FactorOut(BaseModel):
    id: str = Field(examples=["cn-mee-nbs/grid_average/CN/2022"])
    version: str = Field(examples=["2022"])
    subject: str = Field(examples=["grid_average"])
    parameter: str = Field(examples=["ef"])
    gas: str = Field(examples=["CO2"])
    value: float = Field(examples=[0.5366])
    unit: str = Field(examples=["kg/kWh"])
    place: str = Field(examples=["CN"])
    tier: str = Field(examples=["national_default"])
    year: int = Field(examples=[2022])
    citation: str = Field(examples=["MEE/NBS announcement 2024 No. 12"])
    licence: str = Field(examples=["PRC official document; figures cited as facts"])


def search_factors(
    query: str = "", jurisdiction: str = "", limit: int = 200
) -> tuple[int, list[Factor]]:
    """Shipped factors whose id, subject (its code, English or Chinese name), parameter, gas or
    citation contain every word of query."""
    words = [w.lower() for w in query.split()]
    names = subject_names()
    found = []
    for factor in default_library():
        text = " ".join(
            (
                factor.id,
                factor.subject,
                *names.get(factor.subject, ()),
                factor.parameter,
                factor.gas,
                factor.citation,
                factor.note,
            )
        ).lower()
        if all(w in text for w in words) and (
            not jurisdiction or factor.jurisdiction.lower() == jurisdiction.lower()
        ):
            found.append(factor)
    return len(found), found[:limit]


@router.get("/factors", response_model=list[FactorOut], responses=READ, tags=["factors"])
def list_factors(
    caller: Reader,
    q: Annotated[str, Query(max_length=200, pattern=r"^[^\x00]*$", examples=["grid 2022"])] = "",
    jurisdiction: Annotated[str, Query(max_length=8, pattern=r"^[^\x00]*$", examples=["CN"])] = "",
    limit: Annotated[int, Query(ge=1, le=1000, examples=[50])] = 200,
) -> list[FactorOut]:
    """Browse and search the shipped emission factors, each with its source and licence."""
    _total, factors = search_factors(q, jurisdiction, limit)
    return [
        FactorOut(
            id=f.id,
            version=f.version,
            subject=f.subject,
            parameter=f.parameter,
            gas=f.gas,
            value=f.value,
            unit=f.unit,
            place=f.place,
            tier=f.tier.label,
            year=f.year,
            citation=f.citation,
            licence=f.licence,
        )
        for f in factors
    ]
