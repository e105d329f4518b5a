"""The overview under /api/v1: the saved inventory run the dashboard shows, or what to do first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from carbonlink.api.dashboard import RunView, build_run_view
from carbonlink.api.deps import Context, Reader, ServiceContext
from carbonlink.api.overview import Overview
from carbonlink.api.problems import NotFoundError
from carbonlink.api.routes.inventories import InventoryRunOut, run_out
from carbonlink.api.routes.v1 import NO_NUL, PREFIX, READ_ONE
from carbonlink.store import results

router = APIRouter(prefix=PREFIX)


class EmptyState(BaseModel):
    message: str = Field(examples=["no inventory run saved yet"])
    hint: str = Field(
        examples=["compute one with POST /api/v1/inventories/compute?save=true"],
        description="What to do to fill the overview.",
    )


class RunFacility(BaseModel):
    facility_id: str = Field(examples=["plant-1"])
    name: str = Field(examples=["Hot strip mill"])
    by_scope: dict[str, float] = Field(examples=[{"1": 640.2, "2_location": 172.1}])
    co2e_t: float = Field(
        examples=[812.3], description="Scope 1 + scope 2 (location-based) + scope 3."
    )


class RunMonth(BaseModel):
    month: str = Field(examples=["2025-10"], description="Local calendar month, YYYY-MM.")
    scope1_t: float = Field(examples=[640.2])
    scope2_location_t: float = Field(examples=[172.1])
    scope2_market_t: float = Field(examples=[150.4])
    scope3_t: float = Field(examples=[0.0])


class OverviewOut(BaseModel):
    """The overview the dashboard shows: one saved inventory run, or what to do without one."""

    organization: str = Field(examples=["Demo Steel Co."])
    run: InventoryRunOut | None = Field(
        description="The run shown: ?run=<id>, else the latest period's latest computation."
    )
    runs: list[str] = Field(examples=[["5a7e86bc1fe94cd79919bf2c73873d84"]])
    total_co2e_t: float = Field(
        examples=[2345.6], description="Scope 1 + scope 2 (location-based) + scope 3 of the run."
    )
    totals: dict[str, float] = Field(examples=[{"scope1": 1234.5, "scope2_location": 321.0}])
    by_facility: list[RunFacility]
    by_month: list[RunMonth] = Field(description="Months of metered sources; empty when annual.")
    empty: EmptyState | None = Field(default=None, description="Set when no run is saved.")
    provisional: Overview | None = Field(
        default=None,
        description="Without a saved run: meter readings × each source's factor, by month, with "
        "data completeness. Not an inventory: it is what the pages show until a run is saved.",
    )


NO_RUN = EmptyState(
    message="no inventory run saved yet",
    hint="compute and save one with POST /api/v1/inventories/compute?save=true (or carbonlink "
    "demo); the dashboard and this overview then show the accounting engine's numbers",
)


def run_overview(ctx: ServiceContext, organization_id: str, asked: str | None) -> OverviewOut:
    """The run the overview page shows (``asked``, else the latest current one) as data."""
    org = ctx.data.organization(organization_id)
    name = org.name if org else organization_id
    runs = results.current_runs(ctx.engine, organization_id)
    run = next((r for r in runs if r.id == asked), None)
    if run is None and asked:
        raise NotFoundError(
            "inventory run not found", record=asked, hint="list them with GET /api/v1/inventories"
        )
    if not runs:
        provisional = ctx.overviews.get(ctx.data, organization_id)
        return OverviewOut(
            organization=name,
            run=None,
            runs=[],
            total_co2e_t=0.0,
            totals={},
            by_facility=[],
            by_month=[],
            empty=NO_RUN,
            provisional=provisional if provisional.by_month else None,
        )
    run = run or runs[0]

    def build() -> RunView:
        lines = results.inventory_lines_of(ctx.engine, organization_id, run.id)
        return build_run_view(ctx.engine, run, lines)

    view = ctx.runs.get((organization_id, run.id), ctx.data.version(organization_id), build)
    return OverviewOut(
        organization=name,
        run=InventoryRunOut.model_validate(run_out(run)),
        runs=[r.id for r in runs],
        total_co2e_t=view.total,
        totals=run.totals,
        by_facility=[
            RunFacility(
                facility_id=f.id, name=f.name, by_scope=dict(f.by_scope), co2e_t=f.location_total
            )
            for f in view.facilities
        ],
        by_month=[
            RunMonth(
                month=m["month"],
                scope1_t=m["1"],
                scope2_location_t=m["2_location"],
                scope2_market_t=m["2_market"],
                scope3_t=m["3"],
            )
            for m in view.months
        ],
    )


@router.get("/overview", response_model=OverviewOut, responses=READ_ONE, tags=["inventory"])
def overview(
    caller: Reader,
    ctx: Context,
    run: Annotated[
        str | None,
        Query(max_length=64, pattern=NO_NUL, examples=["5a7e86bc1fe94cd79919bf2c73873d84"]),
    ] = None,
) -> OverviewOut:
    """The inventory run the dashboard's overview shows: totals by scope, facility and month.

    Both read saved runs (`POST /api/v1/inventories/compute?save=true` saves one). Without a
    saved run, ``empty`` says what to do and ``provisional`` carries the meters' readings
    times each source's factor that the overview page shows meanwhile.
    """
    return run_overview(ctx, caller.organization_id, run)
