"""Emission targets under /api/v1, and the targets page's declared targets with their chart.

A target is declared with its base year and base-year emissions, a target year, the cut by then
(%), the pathway between them (linear: the same tonnes each year; constant rate: the same share
each year) and the scope boundary it covers, stated in words as well as scope keys. Each answer
carries the pathway year by year (the budget) and, beside it, the emissions of the
organization's saved full-year inventory runs summed over the same scopes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response
from pydantic import Field, model_validator

from carbonlink.api.deps import Context, Reader, ServiceContext, Writer
from carbonlink.api.routes.v1 import PREFIX, READ, WRITE, ApiModel, not_found
from carbonlink.errors import InputError
from carbonlink.monitor.targets import Target
from carbonlink.store import operations, results

router = APIRouter(prefix=PREFIX)
TargetId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
SCOPE_KEYS = ("scope1", "scope2_location", "scope2_market", "scope3")
BOUNDARIES = (
    ("scope1",),
    ("scope1", "scope2_location"),
    ("scope1", "scope2_market"),
    ("scope1", "scope2_location", "scope3"),
    ("scope1", "scope2_market", "scope3"),
)


class TargetIn(ApiModel):
    """An emission target as declared by the organization."""

    id: str = Field(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$", examples=["group-2030"]
    )
    name: str = Field(min_length=1, max_length=200, examples=["Group target 2030"])
    base_year: int = Field(ge=1990, le=2100, examples=[2020])
    base_tco2e: float = Field(gt=0, allow_inf_nan=False, examples=[1_250_000.0])
    target_year: int = Field(ge=1991, le=2100, examples=[2030])
    reduction_pct: float = Field(gt=0, le=100, allow_inf_nan=False, examples=[42.0])
    pathway: Literal["linear", "constant_rate"] = Field(default="linear", examples=["linear"])
    scopes: list[Literal["scope1", "scope2_location", "scope2_market", "scope3"]] = Field(
        min_length=1, max_length=4, examples=[["scope1", "scope2_location"]]
    )
    boundary: str = Field(
        min_length=1,
        max_length=2000,
        pattern=r"\S",
        examples=["All sites under operational control; scope 2 location-based."],
        description="The boundary in words: sites, consolidation approach, exclusions.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> TargetIn:
        if self.target_year <= self.base_year:
            raise ValueError(
                f"target year {self.target_year} must come after base year {self.base_year}"
            )
        if tuple(sorted(set(self.scopes), key=SCOPE_KEYS.index)) not in BOUNDARIES:
            raise ValueError(
                "scopes must be scope 1, with scope 2 location- or market-based (not both), "
                "and scope 3 only beside scope 2"
            )
        if self.pathway == "constant_rate" and self.reduction_pct >= 100:
            raise ValueError("a constant-rate pathway cannot reach a 100 % cut; choose linear")
        return self


class TargetOut(TargetIn):
    updated_at: datetime = Field(examples=["2026-12-07T08:00:00Z"])
    updated_by: str = Field(examples=["Li Wei"])
    pathway_t: dict[str, float] = Field(
        examples=[{"2020": 1000.0, "2021": 958.0}],
        description="allowed t CO2e in each year: the budget",
    )
    actual_t: dict[str, float] = Field(
        examples=[{"2025": 911.2}],
        description="t CO2e of the saved full-year inventory runs over the same scopes",
    )


def domain_target(stored: operations.StoredTarget) -> Target:
    """The monitoring target of a declared one (the target value is base × (1 − cut))."""
    return Target(
        stored.id,
        "absolute",
        stored.base_year,
        stored.base_tco2e,
        stored.target_year,
        stored.base_tco2e * (1 - stored.reduction_pct / 100),
        stored.pathway,  # type: ignore[arg-type]
    )


def actual_by_year(
    ctx: ServiceContext, organization_id: str, scopes: tuple[str, ...]
) -> dict[str, float]:
    """t CO2e per calendar year of the organization's latest full-year runs, over ``scopes``."""
    found: dict[str, float] = {}
    for run in results.current_runs(ctx.engine, organization_id):
        year = run.period_start[:4]
        full = run.period_start[5:] == "01-01" and run.period_end in (
            f"{year}-12-31",
            f"{int(year) + 1}-01-01",
        )
        if full and year not in found:
            found[year] = round(sum(run.totals.get(s, 0.0) for s in scopes), 3)
    return dict(sorted(found.items()))


def target_out(
    ctx: ServiceContext, organization_id: str, stored: operations.StoredTarget
) -> TargetOut:
    target = domain_target(stored)
    years = range(stored.base_year, stored.target_year + 1)
    return TargetOut(
        id=stored.id,
        name=stored.name,
        base_year=stored.base_year,
        base_tco2e=stored.base_tco2e,
        target_year=stored.target_year,
        reduction_pct=stored.reduction_pct,
        pathway=stored.pathway,  # type: ignore[arg-type]
        scopes=list(stored.scopes),  # type: ignore[arg-type]
        boundary=stored.boundary,
        updated_at=stored.updated_at,
        updated_by=stored.updated_by,
        pathway_t={str(y): round(float(target.pathway(y)), 3) for y in years},
        actual_t=actual_by_year(ctx, organization_id, stored.scopes),
    )


def _stored(body: TargetIn, who: str) -> operations.StoredTarget:
    stored = operations.StoredTarget(
        body.id,
        body.name.strip(),
        body.base_year,
        body.base_tco2e,
        body.target_year,
        body.reduction_pct,
        body.pathway,
        tuple(sorted(set(body.scopes), key=SCOPE_KEYS.index)),
        body.boundary.strip(),
        datetime.now(UTC),
        who,
    )
    domain_target(stored)  # the domain's own checks (InputError)
    return stored


@router.get("/targets", response_model=list[TargetOut], responses=READ, tags=["monitoring"])
def list_targets(caller: Reader, ctx: Context) -> list[TargetOut]:
    """The organization's declared targets, each with its budget by year and the actuals."""
    org = caller.organization_id
    return [target_out(ctx, org, t) for t in operations.targets_of(ctx.engine, org)]


@router.post(
    "/targets", response_model=TargetOut, status_code=201, responses=WRITE, tags=["monitoring"]
)
def create_target(body: TargetIn, caller: Writer, ctx: Context) -> TargetOut:
    """Declare a target; its id must be new in the organization."""
    stored = _stored(body, caller.display_name)
    if not operations.save_target(ctx.engine, caller.organization_id, stored, create=True):
        raise InputError(
            f"a target with the id {body.id!r} exists already",
            record=body.id,
            hint="choose another id, or change that target with PUT /api/v1/targets/<id>",
        )
    return target_out(ctx, caller.organization_id, stored)


@router.put("/targets/{target_id}", response_model=TargetOut, responses=WRITE, tags=["monitoring"])
def replace_target(target_id: TargetId, body: TargetIn, caller: Writer, ctx: Context) -> TargetOut:
    """Change a declared target (the id stays the one in the path)."""
    if body.id != target_id:
        raise InputError(
            f"the target's id {body.id!r} differs from {target_id!r} in the path",
            record=target_id,
        )
    stored = _stored(body, caller.display_name)
    if not operations.save_target(ctx.engine, caller.organization_id, stored, create=False):
        raise not_found("target", target_id)
    return target_out(ctx, caller.organization_id, stored)


@router.delete("/targets/{target_id}", status_code=204, responses=WRITE, tags=["monitoring"])
def delete_target(target_id: TargetId, caller: Writer, ctx: Context) -> Response:
    """Withdraw a declared target."""
    if not operations.delete_target(ctx.engine, caller.organization_id, target_id):
        raise not_found("target", target_id)
    return Response(status_code=204)


def page_values(ctx: ServiceContext, organization_id: str) -> dict[str, Any]:
    """What the targets page shows of the declared targets: rows and chart data."""
    declared = [
        target_out(ctx, organization_id, t)
        for t in operations.targets_of(ctx.engine, organization_id)
    ]
    return {
        "declared": declared,
        "boundaries": BOUNDARIES,
        "declared_json": [t.model_dump(mode="json") for t in declared],
    }
