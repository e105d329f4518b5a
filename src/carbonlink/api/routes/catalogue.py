"""The catalogue under /api/v1: facilities, emission sources and meters of an organization."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import Field, field_validator

from carbonlink.api.deps import Context, Reader, Writer
from carbonlink.api.routes.v1 import PREFIX, READ, READ_ONE, WRITE, ApiModel, not_found
from carbonlink.domain.units import check_plain_unit
from carbonlink.domain.zones import known_zone
from carbonlink.errors import CarbonlinkError, InputError
from carbonlink.ingest.mapping import plain_unit
from carbonlink.monitor.plan import plan_methods
from carbonlink.store.tenants import EmissionFactorRef, Facility, Meter, Source, new_id

router = APIRouter(prefix=PREFIX)


class FacilityIn(ApiModel):
    name: str = Field(min_length=1, max_length=200, examples=["Hot rolling mill"])
    timezone: str = Field(default="Asia/Shanghai", max_length=64, examples=["Asia/Shanghai"])
    grid_region: str | None = Field(default=None, max_length=64, examples=["East China"])
    address: str | None = Field(default=None, max_length=500, examples=["1 Steel Rd, Nanjing"])

    _known_zone = field_validator("timezone")(known_zone)


class FacilityOut(FacilityIn):
    id: str = Field(examples=["fac-3f2a9c01d4e5"])


class FactorIn(ApiModel):
    co2e_t_per_unit: float = Field(ge=0, allow_inf_nan=False, examples=[0.5366])
    activity_unit: str = Field(min_length=1, max_length=32, examples=["MWh"])

    _plain_unit = field_validator("activity_unit")(plain_unit)
    source: str = Field(
        min_length=1, max_length=300, examples=["MEE/NBS 2024 No. 12, national grid 2022"]
    )
    name: str = Field(min_length=1, max_length=200, examples=["China grid average 2022"])


class SourceIn(ApiModel):
    facility_id: str = Field(examples=["fac-3f2a9c01d4e5"])
    name: str = Field(min_length=1, max_length=200, examples=["Purchased electricity"])
    scope: Literal[1, 2, 3] = Field(examples=[2])
    factor: FactorIn | None = None
    method: str | None = Field(
        default=None,
        max_length=64,
        examples=["electricity"],
        description="Calculation method: combustion, carbonate, process, carbon_fixed, "
        "mass_balance, electricity, heat, fugitive or generic.",
    )

    @field_validator("method")
    @classmethod
    def _known_method(cls, value: str | None) -> str | None:
        from carbonlink.monitor.plan import plan_methods

        if value is not None and value not in plan_methods():
            raise ValueError(f"unknown method {value!r}; use one of {', '.join(plan_methods())}")
        return value


class SourceOut(SourceIn):
    id: str = Field(examples=["src-8b1e2d3c4f50"])


class MeterIn(ApiModel):
    facility_id: str = Field(examples=["fac-3f2a9c01d4e5"])
    name: str = Field(min_length=1, max_length=200, examples=["Main incomer 10 kV"])
    unit: str = Field(min_length=1, max_length=32, examples=["MWh"])
    source_id: str | None = Field(default=None, examples=["src-8b1e2d3c4f50"])
    purpose: Literal["activity", "production"] = Field(default="activity", examples=["activity"])
    interval_s: int = Field(default=3600, ge=1, le=86400, examples=[3600])


class MeterOut(MeterIn):
    id: str = Field(examples=["mtr-0a1b2c3d4e5f"])


def _facility_out(f: Facility) -> FacilityOut:
    return FacilityOut(
        id=f.id, name=f.name, timezone=f.timezone, grid_region=f.grid_region, address=f.address
    )


def _source_out(s: Source) -> SourceOut:
    factor = (
        FactorIn(
            co2e_t_per_unit=s.factor.co2e_t_per_unit,
            activity_unit=s.factor.activity_unit,
            source=s.factor.source,
            name=s.factor.name,
        )
        if s.factor
        else None
    )
    return SourceOut(
        id=s.id,
        facility_id=s.facility_id,
        name=s.name,
        scope=s.scope,  # type: ignore[arg-type]
        factor=factor,
        method=s.method if s.method in plan_methods() else None,
    )


def _meter_out(m: Meter) -> MeterOut:
    return MeterOut(
        id=m.id,
        facility_id=m.facility_id,
        name=m.name,
        unit=m.unit,
        source_id=m.source_id,
        purpose=m.purpose,  # type: ignore[arg-type]
        interval_s=m.interval_s,
    )


@router.get("/facilities", response_model=list[FacilityOut], responses=READ, tags=["catalogue"])
def list_facilities(caller: Reader, ctx: Context) -> list[FacilityOut]:
    """Facilities of the caller's organization."""
    return [_facility_out(f) for f in ctx.data.facilities(caller.organization_id)]


@router.post(
    "/facilities", response_model=FacilityOut, status_code=201, responses=WRITE, tags=["catalogue"]
)
def create_facility(body: FacilityIn, caller: Writer, ctx: Context) -> FacilityOut:
    """Add a facility (a site with its time zone and grid region)."""
    facility = Facility(new_id("fac"), caller.organization_id, **body.model_dump())
    return _facility_out(ctx.data.add_facility(facility))


@router.get(
    "/facilities/{facility_id}", response_model=FacilityOut, responses=READ_ONE, tags=["catalogue"]
)
def get_facility(facility_id: str, caller: Reader, ctx: Context) -> FacilityOut:
    """One facility."""
    found = ctx.data.facility(caller.organization_id, facility_id)
    if found is None:
        raise not_found("facility", facility_id)
    return _facility_out(found)


@router.delete("/facilities/{facility_id}", status_code=204, responses=WRITE, tags=["catalogue"])
def delete_facility(facility_id: str, caller: Writer, ctx: Context) -> Response:
    """Remove a facility that has no sources or meters."""
    if not ctx.data.delete_facility(caller.organization_id, facility_id):
        raise not_found("facility", facility_id)
    return Response(status_code=204)


@router.get("/sources", response_model=list[SourceOut], responses=READ, tags=["catalogue"])
def list_sources(
    caller: Reader,
    ctx: Context,
    facility_id: Annotated[str | None, Query(examples=["fac-3f2a9c01d4e5"])] = None,
) -> list[SourceOut]:
    """Emission sources, optionally of one facility."""
    return [_source_out(s) for s in ctx.data.sources(caller.organization_id, facility_id)]


@router.post(
    "/sources", response_model=SourceOut, status_code=201, responses=WRITE, tags=["catalogue"]
)
def create_source(body: SourceIn, caller: Writer, ctx: Context) -> SourceOut:
    """Add an emission source to a facility, with the factor it is accounted with."""
    if ctx.data.facility(caller.organization_id, body.facility_id) is None:
        raise not_found("facility", body.facility_id)
    factor = EmissionFactorRef(**body.factor.model_dump()) if body.factor else None
    source = Source(
        new_id("src"),
        caller.organization_id,
        body.facility_id,
        body.name,
        body.scope,
        factor,
        body.method,
    )
    return _source_out(ctx.data.add_source(source))


@router.get(
    "/sources/{source_id}", response_model=SourceOut, responses=READ_ONE, tags=["catalogue"]
)
def get_source(source_id: str, caller: Reader, ctx: Context) -> SourceOut:
    """One emission source."""
    found = ctx.data.source(caller.organization_id, source_id)
    if found is None:
        raise not_found("source", source_id)
    return _source_out(found)


@router.get("/meters", response_model=list[MeterOut], responses=READ, tags=["catalogue"])
def list_meters(
    caller: Reader,
    ctx: Context,
    facility_id: Annotated[str | None, Query(examples=["fac-3f2a9c01d4e5"])] = None,
) -> list[MeterOut]:
    """Meters, optionally of one facility."""
    return [_meter_out(m) for m in ctx.data.meters(caller.organization_id, facility_id)]


@router.post(
    "/meters", response_model=MeterOut, status_code=201, responses=WRITE, tags=["catalogue"]
)
def create_meter(body: MeterIn, caller: Writer, ctx: Context) -> MeterOut:
    """Add a meter to a facility (feeding a source, or counting production)."""
    if ctx.data.facility(caller.organization_id, body.facility_id) is None:
        raise not_found("facility", body.facility_id)
    if body.source_id is not None:
        source = ctx.data.source(caller.organization_id, body.source_id)
        if source is None or source.facility_id != body.facility_id:
            raise not_found("source", body.source_id)
    try:
        check_plain_unit(body.unit)
    except CarbonlinkError as exc:
        raise InputError(exc.message, record="unit", hint=exc.hint) from exc
    meter = Meter(new_id("mtr"), caller.organization_id, **body.model_dump())
    return _meter_out(ctx.data.add_meter(meter))


@router.get("/meters/{meter_id}", response_model=MeterOut, responses=READ_ONE, tags=["catalogue"])
def get_meter(meter_id: str, caller: Reader, ctx: Context) -> MeterOut:
    """One meter."""
    found = ctx.data.meter(caller.organization_id, meter_id)
    if found is None:
        raise not_found("meter", meter_id)
    return _meter_out(found)
