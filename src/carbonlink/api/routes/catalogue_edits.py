"""Changes to the catalogue under /api/v1: a facility, source or meter edited, a meter linked.

The setup pages send their forms here. An edit is checked as a creation is (time zones,
methods, units that parse, a source and meter of the same facility), and a meter linked to a
source must count what the source's factor multiplies: its unit converts to the factor's.
"""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter
from pydantic import Field

from carbonlink.api.deps import Context, ServiceContext, Writer
from carbonlink.api.routes.catalogue import (
    FacilityIn,
    FacilityOut,
    MeterIn,
    MeterOut,
    SourceIn,
    SourceOut,
    _facility_out,
    _meter_out,
    _source_out,
)
from carbonlink.api.routes.v1 import PREFIX, WRITE, ApiModel, not_found
from carbonlink.api.security import Principal
from carbonlink.domain.units import check_plain_unit, conversion_factor
from carbonlink.errors import CarbonlinkError, InputError
from carbonlink.store.tenants import EmissionFactorRef, Meter

router = APIRouter(prefix=PREFIX)


class MeterLink(ApiModel):
    source_id: str | None = Field(
        examples=["src-8b1e2d3c4f50"], description="The source the meter feeds; null unlinks it."
    )


def check_link(ctx: ServiceContext, caller: Principal, meter: Meter) -> None:
    """Refuse a meter whose unit does not parse, or whose source is not of its facility or
    counts activity in a unit the meter's cannot be converted to."""
    try:
        check_plain_unit(meter.unit)
    except CarbonlinkError as exc:
        raise InputError(exc.message, record="unit", hint=exc.hint) from exc
    if meter.source_id is None:
        return
    source = ctx.data.source(caller.organization_id, meter.source_id)
    if source is None or source.facility_id != meter.facility_id:
        raise InputError(
            f"source {meter.source_id!r} is not a source of facility {meter.facility_id!r}",
            record=meter.id,
            hint="link the meter to a source of its own facility",
        )
    if source.factor is None:
        return
    try:
        conversion_factor(meter.unit, source.factor.activity_unit)
    except CarbonlinkError as exc:
        raise InputError(
            f"meter {meter.id} counts {meter.unit}, which cannot be converted to "
            f"{source.factor.activity_unit}, the unit of the factor of source {source.name!r}",
            record=meter.id,
            hint="link it to a source whose factor is per a unit of the same kind, "
            "or correct the meter's unit",
        ) from exc


@router.put(
    "/facilities/{facility_id}", response_model=FacilityOut, responses=WRITE, tags=["catalogue"]
)
def edit_facility(facility_id: str, body: FacilityIn, caller: Writer, ctx: Context) -> FacilityOut:
    """Change a facility's name, time zone, grid region or address."""
    found = ctx.data.facility(caller.organization_id, facility_id)
    if found is None:
        raise not_found("facility", facility_id)
    return _facility_out(ctx.data.add_facility(replace(found, **body.model_dump())))


@router.put("/sources/{source_id}", response_model=SourceOut, responses=WRITE, tags=["catalogue"])
def edit_source(source_id: str, body: SourceIn, caller: Writer, ctx: Context) -> SourceOut:
    """Change a source's name, scope, method or factor (it stays in its facility)."""
    found = ctx.data.source(caller.organization_id, source_id)
    if found is None:
        raise not_found("source", source_id)
    if body.facility_id != found.facility_id:
        raise InputError(
            "a source cannot move to another facility",
            record=source_id,
            hint=f"send facility_id {found.facility_id!r}, or add a new source there",
        )
    factor = EmissionFactorRef(**body.factor.model_dump()) if body.factor else None
    edited = replace(found, name=body.name, scope=body.scope, factor=factor, method=body.method)
    if factor is not None:
        for meter in ctx.data.meters(caller.organization_id, found.facility_id):
            if meter.source_id == source_id:
                try:
                    conversion_factor(meter.unit, factor.activity_unit)
                except CarbonlinkError as exc:
                    raise InputError(
                        f"meter {meter.id} of this source counts {meter.unit}, which cannot be "
                        f"converted to {factor.activity_unit}",
                        record=source_id,
                        hint="state the factor per a unit of the same kind as its meters' "
                        "or unlink the meter first",
                    ) from exc
    return _source_out(ctx.data.add_source(edited))


@router.put("/meters/{meter_id}", response_model=MeterOut, responses=WRITE, tags=["catalogue"])
def edit_meter(meter_id: str, body: MeterIn, caller: Writer, ctx: Context) -> MeterOut:
    """Change a meter's name, unit, interval, purpose or the source it feeds."""
    found = ctx.data.meter(caller.organization_id, meter_id)
    if found is None:
        raise not_found("meter", meter_id)
    if body.facility_id != found.facility_id:
        raise InputError(
            "a meter cannot move to another facility",
            record=meter_id,
            hint=f"send facility_id {found.facility_id!r}, or add a new meter there",
        )
    edited = replace(found, **body.model_dump())
    check_link(ctx, caller, edited)
    return _meter_out(ctx.data.add_meter(edited))


@router.put(
    "/meters/{meter_id}/source", response_model=MeterOut, responses=WRITE, tags=["catalogue"]
)
def link_meter(meter_id: str, body: MeterLink, caller: Writer, ctx: Context) -> MeterOut:
    """Link a meter to the source it feeds (its readings become the source's activity)."""
    found = ctx.data.meter(caller.organization_id, meter_id)
    if found is None:
        raise not_found("meter", meter_id)
    purpose = "activity" if body.source_id else found.purpose
    edited = replace(found, source_id=body.source_id, purpose=purpose)
    check_link(ctx, caller, edited)
    return _meter_out(ctx.data.add_meter(edited))
