"""Monitoring plans under /api/v1: a facility's current plan, and a new version of it.

The plan page's form and this API revise a plan through the same `revise_plan`: methods from
the accounting engine's list, tiers from EU MRR 2018/2066 Annex II, meters that exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import Field

from carbonlink.api import results
from carbonlink.api.deps import Context, Reader, ServiceContext, Writer
from carbonlink.api.routes.v1 import PREFIX, READ_ONE, WRITE, ApiModel, not_found
from carbonlink.api.security import Principal
from carbonlink.errors import InputError
from carbonlink.monitor.plan import PlanEntry, check_plan_entry

router = APIRouter(prefix=PREFIX)


class PlanEntryIn(ApiModel):
    source_id: str = Field(max_length=64, examples=["fac-steelmaking-gas"])
    method: str | None = Field(
        max_length=64, examples=["combustion"], description="One of the engine's methods."
    )
    tier: str = Field(max_length=8, examples=["2"], description="1, 2, 2a, 2b, 3, 4 or n/a.")
    meters: list[str] = Field(default=[], max_length=50, examples=[["fac-steelmaking-m-gas"]])
    factor_choice: Literal["measured", "supplier", "national_default", "ipcc_default"] = Field(
        examples=["national_default"]
    )
    sampling: str = Field(min_length=1, max_length=500, examples=["continuous metering"])
    data_gap_procedure: str = Field(
        min_length=1, max_length=2000, examples=["highest monthly consumption of 3 years"]
    )


class PlanIn(ApiModel):
    version: int = Field(ge=1, examples=[1], description="The version the edit starts from.")
    entries: list[PlanEntryIn] = Field(max_length=200)


class PlanEntryOut(PlanEntryIn):
    template_source: str = Field(examples=["fuel_combustion"])


class PlanOut(ApiModel):
    facility_id: str = Field(examples=["fac-steelmaking"])
    template_id: str = Field(examples=["iron_steel"])
    version: int = Field(examples=[2])
    replaces: str | None = Field(examples=[None])
    content_hash: str = Field(examples=["3f1c…"])
    created_at: datetime = Field(examples=["2026-12-07T08:30:00Z"])
    created_by: str = Field(examples=["Li Wei"])
    entries: list[PlanEntryOut]


def _out(stored: results.StoredPlan) -> PlanOut:
    plan = stored.plan
    return PlanOut(
        facility_id=plan.facility_id,
        template_id=plan.template_id,
        version=plan.version,
        replaces=plan.replaces,
        content_hash=stored.content_hash,
        created_at=stored.created_at,
        created_by=stored.created_by,
        entries=[PlanEntryOut.model_validate(e.model_dump(mode="json")) for e in plan.entries],
    )


def plan_versions(
    ctx: ServiceContext, caller: Principal, facility_id: str
) -> list[results.StoredPlan]:
    """The facility's plan versions, newest first; 404 unless the facility is the caller's."""
    versions = results.plan_versions(ctx.engine, caller.organization_id, facility_id)
    if not versions and ctx.data.facility(caller.organization_id, facility_id) is None:
        raise not_found("facility", facility_id)
    return versions


class StalePlanError(InputError):
    """The edit started from a version that is no longer the latest."""


def revise_plan(
    ctx: ServiceContext, caller: Principal, facility_id: str, edit: PlanIn
) -> results.StoredPlan:
    """Save the edited entries as the plan's next version, after checking every entry.

    Each entry names a source of the current version (entries are matched by source id; the
    template source they map to does not change) and only known methods, tiers and meters.
    """
    versions = plan_versions(ctx, caller, facility_id)
    if not versions:
        raise not_found("monitoring plan of facility", facility_id)
    current = versions[0].plan
    if edit.version != current.version:
        raise StalePlanError(
            f"version {edit.version} is no longer the latest (version {current.version} is)",
            record=facility_id,
            hint="reload the plan and edit again",
        )
    by_source = {entry.source_id: entry for entry in current.entries}
    meter_ids = [m.id for m in ctx.data.meters(caller.organization_id)]
    entries = []
    for sent in edit.entries:
        if sent.source_id not in by_source:
            raise InputError(
                f"the plan has no entry for source {sent.source_id!r}",
                record=sent.source_id,
                hint="send the source ids of the current version: " + ", ".join(by_source),
            )
        entry = PlanEntry(
            template_source=by_source[sent.source_id].template_source,
            **sent.model_dump() | {"meters": tuple(dict.fromkeys(sent.meters))},
        )
        check_plan_entry(entry, meter_ids)
        entries.append(entry)
    revised = current.revise(entries)
    results.save_plan(ctx.engine, caller.organization_id, revised, caller.display_name)
    return plan_versions(ctx, caller, facility_id)[0]


@router.get(
    "/facilities/{facility_id}/plan",
    response_model=PlanOut,
    responses=READ_ONE,
    tags=["monitoring plans"],
)
def get_plan(facility_id: str, caller: Reader, ctx: Context) -> PlanOut:
    """The facility's current monitoring plan (its latest version)."""
    versions = plan_versions(ctx, caller, facility_id)
    if not versions:
        raise not_found("monitoring plan of facility", facility_id)
    return _out(versions[0])


@router.put(
    "/facilities/{facility_id}/plan",
    response_model=PlanOut,
    responses=WRITE,
    tags=["monitoring plans"],
)
def put_plan(facility_id: str, body: PlanIn, caller: Writer, ctx: Context) -> PlanOut:
    """Save a new version of the facility's plan; the old one stays as it was.

    Methods come from the accounting engine (combustion, carbonate, process, carbon_fixed,
    mass_balance, electricity, heat, fugitive, generic), tiers from EU MRR 2018/2066 Annex II
    (1, 2, 2a, 2b, 3, 4, or n/a) and meters must exist in the organization; anything else is
    refused with 422 naming the source. ``version`` must be the current version (else 422).
    """
    return _out(revise_plan(ctx, caller, facility_id, body))
