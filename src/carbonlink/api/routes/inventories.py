"""Inventories under /api/v1: compute an inventory document, list and read saved runs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, Field

from carbonlink.api.deps import Context, Reader
from carbonlink.api.problems import NotFoundError, problem_responses
from carbonlink.api.routes.v1 import PREFIX
from carbonlink.domain.engine import account
from carbonlink.domain.inventory import Inventory
from carbonlink.store import results

router = APIRouter(prefix=PREFIX)


class InventoryResult(BaseModel):
    """Totals and lineage lines of one inventory computation."""

    organization: str = Field(examples=["Demo Steel Co., Ltd."])
    period: str = Field(examples=["2025-01-01/2025-12-31"])
    gwp: str = Field(examples=["AR5"])
    totals: dict[str, float] = Field(examples=[{"scope1": 1234.5, "scope2_location": 321.0}])
    lines: list[dict[str, Any]] = Field(
        examples=[[{"facility": "plant-1", "source": "boiler", "scope": "1", "tco2e": 21.62}]],
        description="One line per source, gas and period: activity, factor, its source, GWP.",
    )
    run_id: str | None = Field(
        default=None,
        examples=["5a7e86bc1fe94cd79919bf2c73873d84"],
        description="Id of the saved run (with save=true): GET /api/v1/inventories/{run_id}.",
    )


INVENTORY_EXAMPLE = {
    "organization": "Demo Steel Co., Ltd.",
    "period": {"start": "2025-01-01", "end": "2025-12-31"},
    "gwp": "AR5",
    "jurisdiction": "CN",
    "facilities": [
        {
            "id": "plant-1",
            "name": "Hot strip mill",
            "grid": "CN-East",
            "timezone": "Asia/Shanghai",
            "sources": [
                {
                    "id": "reheating-gas",
                    "method": "combustion",
                    "fuel": "natural_gas",
                    "activity": {"quantity": 10000, "unit": "Nm3"},
                },
                {
                    "id": "grid-power",
                    "method": "electricity",
                    "activity": {"quantity": 1000, "unit": "MWh"},
                },
            ],
        }
    ],
}


@router.post(
    "/inventories/compute",
    response_model=InventoryResult,
    responses=problem_responses(401, 403, 404, 422),
    tags=["inventory"],
)
def compute_inventory(
    inventory: Annotated[
        Inventory, Body(openapi_examples={"one plant": {"value": INVENTORY_EXAMPLE}})
    ],
    caller: Reader,
    ctx: Context,
    gwp: Annotated[
        Literal["AR4", "AR5", "AR6"] | None,
        Query(
            description="Recompute with this GWP set instead of the document's.", examples=["AR6"]
        ),
    ] = None,
    save: Annotated[
        bool,
        Query(
            description="Save the result as an inventory run of your organization (editors and "
            "admins): the overview then shows it.",
            examples=[True],
        ),
    ] = False,
) -> InventoryResult:
    """Account an inventory document (the YAML shape of `carbonlink account`, as JSON).

    Returns totals per scope and one lineage line per source, gas and period with the activity,
    the factor used and its source. Nothing is stored unless ``save=true``: then the result is
    saved as a run of the caller's organization, exactly as computed, and its id returned.
    """
    if save:
        caller.require("write")
    if gwp is not None:
        inventory = inventory.model_copy(update={"gwp": gwp})
    result = account(inventory, file="request body")
    run_id = None
    if save:
        run = results.save_inventory(
            ctx.engine,
            caller.organization_id,
            result.to_dict(),
            results.settings_hash(inventory),
        )
        run_id = run.id
    return InventoryResult(
        organization=inventory.organization,
        period=inventory.period.label,
        gwp=inventory.gwp,
        totals=result.totals(),
        lines=result.lines(),
        run_id=run_id,
    )


class InventoryRunOut(BaseModel):
    """A saved computation of the caller's organization (see `carbonlink.store.results`)."""

    id: str = Field(examples=["5a7e86bc1fe94cd79919bf2c73873d84"])
    title: str = Field(examples=["Demo Steel Co., Ltd."])
    period_start: str = Field(examples=["2025-01-01"])
    period_end: str = Field(examples=["2025-12-31"])
    gwp: str = Field(examples=["AR5"])
    settings_hash: str = Field(examples=["9f2c…"], description="sha256 of the inventory input.")
    created_at: datetime = Field(examples=["2026-11-29T02:51:39Z"])
    totals: dict[str, float] = Field(examples=[{"scope1": 1234.5, "scope2_location": 321.0}])


class InventoryRunLines(InventoryRunOut):
    """A saved run with its lineage lines, exactly as the accounting engine returned them."""

    lines: list[dict[str, Any]]


def run_out(run: results.InventoryRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "title": run.title,
        "period_start": run.period_start,
        "period_end": run.period_end,
        "gwp": run.gwp_set,
        "settings_hash": run.settings_hash,
        "created_at": run.created_at,
        "totals": run.totals,
    }


@router.get(
    "/inventories",
    response_model=list[InventoryRunOut],
    responses=problem_responses(401, 403),
    tags=["inventory"],
)
def list_inventories(caller: Reader, ctx: Context) -> list[dict[str, Any]]:
    """Saved inventory runs of the caller's organization, newest period first."""
    return [run_out(run) for run in results.inventory_runs(ctx.engine, caller.organization_id)]


@router.get(
    "/inventories/{inventory_id}",
    response_model=InventoryRunLines,
    responses=problem_responses(401, 403, 404),
    tags=["inventory"],
)
def get_inventory(inventory_id: str, caller: Reader, ctx: Context) -> dict[str, Any]:
    """One saved run with every line's lineage (activity, factor and its citation)."""
    found = [
        r
        for r in results.inventory_runs(ctx.engine, caller.organization_id)
        if r.id == inventory_id
    ]
    if not found:
        raise NotFoundError("inventory run not found", record=inventory_id)
    lines = results.inventory_lines_of(ctx.engine, caller.organization_id, inventory_id)
    return run_out(found[0]) | {"lines": lines}
