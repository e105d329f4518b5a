"""REST routes under /api/v1: catalogue, readings, overview, machine credentials."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Form, Query, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from carbonlink.api import results, security
from carbonlink.api.dashboard import RunView, build_run_view
from carbonlink.api.deps import Admin, Caller, Context, Reader, ServiceContext, Writer
from carbonlink.api.overview import Overview
from carbonlink.api.problems import NotFoundError, problem_responses
from carbonlink.api.schema import ROLES
from carbonlink.api.security import Principal
from carbonlink.api.workspace import EmissionFactorRef, Facility, Meter, Source, new_id
from carbonlink.domain.engine import account
from carbonlink.domain.factors import Factor, default_library
from carbonlink.domain.inventory import Inventory
from carbonlink.domain.units import check_plain_unit
from carbonlink.errors import CarbonlinkError, InputError
from carbonlink.ingest.base import Reading, Rejected
from carbonlink.ingest.validation import check_posted_rows, stored_windows
from carbonlink.ledger import Ledger
from carbonlink.monitor.rules import AlertRule, validate_rules
from carbonlink.provenance import record_posted_batch
from carbonlink.store import Store

MAX_BATCH = 10_000
READ = problem_responses(401, 403, 422)
READ_ONE = problem_responses(401, 403, 404, 422)
WRITE = problem_responses(401, 403, 404, 422)

router = APIRouter(prefix="/api/v1")
Role = Literal["admin", "editor", "viewer", "auditor", "supplier"]
assert set(ROLES) == set(Role.__args__)  # type: ignore[attr-defined]


# models ------------------------------------------------------------------------------------
NO_NUL = r"^[^\x00]*$"


class ApiModel(BaseModel):
    """Input model: text never carries NUL characters (PostgreSQL text cannot hold them)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("text must not contain NUL characters")
        return value


class Me(BaseModel):
    organization_id: str = Field(examples=["org-demo-steel"])
    organization: str = Field(examples=["Demo Steel Co."])
    role: Role = Field(examples=["editor"])
    display_name: str = Field(examples=["Li Wei"])
    via: str = Field(examples=["session"])


class FacilityIn(ApiModel):
    name: str = Field(min_length=1, max_length=200, examples=["Hot rolling mill"])
    timezone: str = Field(default="Asia/Shanghai", max_length=64, examples=["Asia/Shanghai"])
    grid_region: str | None = Field(default=None, max_length=64, examples=["East China"])
    address: str | None = Field(default=None, max_length=500, examples=["1 Steel Rd, Nanjing"])


class FacilityOut(FacilityIn):
    id: str = Field(examples=["fac-3f2a9c01d4e5"])


class FactorIn(ApiModel):
    co2e_t_per_unit: float = Field(ge=0, allow_inf_nan=False, examples=[0.5366])
    activity_unit: str = Field(min_length=1, max_length=32, examples=["MWh"])
    source: str = Field(
        min_length=1, max_length=300, examples=["MEE/NBS 2024 No. 12, national grid 2022"]
    )
    name: str = Field(min_length=1, max_length=200, examples=["China grid average 2022"])


class SourceIn(ApiModel):
    facility_id: str = Field(examples=["fac-3f2a9c01d4e5"])
    name: str = Field(min_length=1, max_length=200, examples=["Purchased electricity"])
    scope: Literal[1, 2, 3] = Field(examples=[2])
    factor: FactorIn | None = None


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


class ReadingIn(BaseModel):
    # Constraints checked in pydantic-core (no Python call per field): 10 000 rows per batch.
    model_config = ConfigDict(extra="forbid")

    meter_id: str = Field(max_length=64, pattern=NO_NUL, examples=["mtr-0a1b2c3d4e5f"])
    ts: datetime = Field(
        examples=["2026-11-01T08:00:00Z"], description="Instant of the value, with its UTC offset."
    )
    value: float = Field(strict=True, allow_inf_nan=False, examples=[12.5])
    unit: str = Field(max_length=32, pattern=NO_NUL, examples=["MWh"])
    quality: Literal["good", "estimated", "suspect"] = Field(default="good", examples=["good"])


class ReadingBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_id: str | None = Field(
        default=None, max_length=100, pattern=NO_NUL, examples=["erp-2026-11-01"]
    )
    readings: list[ReadingIn] = Field(max_length=MAX_BATCH)


class RowError(BaseModel):
    index: int = Field(examples=[3], description="Position of the row in the batch.")
    meter_id: str = Field(examples=["mtr-unknown"])
    error: str = Field(examples=["meter 'mtr-unknown' not found in your organization"])


class BatchResult(BaseModel):
    received: int = Field(examples=[3])
    stored: int = Field(examples=[2], description="New readings stored.")
    duplicates: int = Field(examples=[0], description="Rows whose (meter, ts) was already stored.")
    rejected: list[RowError] = Field(examples=[[]])


class ReadingOut(BaseModel):
    ts: datetime = Field(examples=["2026-11-01T08:00:00Z"])
    value: float = Field(examples=[12.5])
    unit: str = Field(examples=["MWh"])
    quality: str = Field(examples=["good"])


class ApiKeyIn(ApiModel):
    name: str = Field(min_length=1, max_length=200, examples=["ERP nightly export"])
    role: Role = Field(examples=["editor"])


class ApiKeyOut(BaseModel):
    id: str | None = Field(default=None, examples=["5f0c9a1e2b3d4c5e6f708192a3b4c5d6"])
    name: str = Field(examples=["ERP nightly export"])
    role: Role = Field(examples=["editor"])
    key: str = Field(examples=["clk_…"], description="Shown once; store it safely.")


class ClientOut(BaseModel):
    name: str = Field(examples=["MES gateway"])
    role: Role = Field(examples=["editor"])
    client_id: str = Field(examples=["client-0a1b2c3d4e5f6a7b"])
    client_secret: str = Field(examples=["…"], description="Shown once; store it safely.")


class TokenOut(BaseModel):
    access_token: str = Field(examples=["…"])
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(examples=[3600])


# helpers ------------------------------------------------------------------------------------
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
    return SourceOut(id=s.id, facility_id=s.facility_id, name=s.name, scope=s.scope, factor=factor)  # type: ignore[arg-type]


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


def _not_found(kind: str, ident: str) -> NotFoundError:
    return NotFoundError(
        f"{kind} '{ident}' not found in your organization",
        record=ident,
        hint=f"list them with GET /api/v1/{kind}s",
    )


@lru_cache(maxsize=1024)
# routes --------------------------------------------------------------------------------------
@router.get("/me", response_model=Me, responses=READ, tags=["accounts"])
def me(caller: Caller, ctx: Context) -> Me:
    """Who is calling: organization, role and how the caller authenticated."""
    org = ctx.data.organization(caller.organization_id)
    return Me(
        organization_id=caller.organization_id,
        organization=org.name if org else caller.organization_id,
        role=caller.role,  # type: ignore[arg-type]
        display_name=caller.display_name,
        via=caller.via,
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
        raise _not_found("facility", facility_id)
    return _facility_out(found)


@router.delete("/facilities/{facility_id}", status_code=204, responses=WRITE, tags=["catalogue"])
def delete_facility(facility_id: str, caller: Writer, ctx: Context) -> Response:
    """Remove a facility that has no sources or meters."""
    if not ctx.data.delete_facility(caller.organization_id, facility_id):
        raise _not_found("facility", facility_id)
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
        raise _not_found("facility", body.facility_id)
    factor = EmissionFactorRef(**body.factor.model_dump()) if body.factor else None
    source = Source(
        new_id("src"), caller.organization_id, body.facility_id, body.name, body.scope, factor
    )
    return _source_out(ctx.data.add_source(source))


@router.get(
    "/sources/{source_id}", response_model=SourceOut, responses=READ_ONE, tags=["catalogue"]
)
def get_source(source_id: str, caller: Reader, ctx: Context) -> SourceOut:
    """One emission source."""
    found = ctx.data.source(caller.organization_id, source_id)
    if found is None:
        raise _not_found("source", source_id)
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
        raise _not_found("facility", body.facility_id)
    if body.source_id is not None:
        source = ctx.data.source(caller.organization_id, body.source_id)
        if source is None or source.facility_id != body.facility_id:
            raise _not_found("source", body.source_id)
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
        raise _not_found("meter", meter_id)
    return _meter_out(found)


@router.get(
    "/meters/{meter_id}/readings",
    response_model=list[ReadingOut],
    responses=READ_ONE,
    tags=["readings"],
)
def meter_readings(
    meter_id: str,
    caller: Reader,
    ctx: Context,
    since: Annotated[datetime | None, Query(examples=["2026-11-01T00:00:00Z"])] = None,
    limit: Annotated[int, Query(ge=1, le=5000, examples=[100])] = 500,
) -> list[ReadingOut]:
    """The latest readings of a meter, oldest first."""
    if ctx.data.meter(caller.organization_id, meter_id) is None:
        raise _not_found("meter", meter_id)
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return [
        ReadingOut(ts=r.ts, value=r.value, unit=r.unit, quality=r.quality)
        for r in ctx.data.readings(caller.organization_id, meter_id, since, limit)
    ]


def accept_rows(
    rows: list[ReadingIn], batch_id: str | None, caller: Principal, ctx: ServiceContext
) -> tuple[list[Reading], list[RowError], list[Rejected]]:
    """Check rows against the caller's meters: (readings to store, row errors, rejected records).

    A row is refused alone (`carbonlink.ingest.validation.check_posted_rows`) when its meter
    is not the caller's organization's, its time is outside the meter's plausible window, its
    unit is not a plain unit of the meter's kind, or its value is outside the meter's range.
    """
    checked = check_posted_rows(
        rows,
        partial(ctx.data.meter, caller.organization_id),
        received_via=f"api:{caller.subject}",
        label=batch_id,
        windows=stored_windows(Store(ctx.engine)),
    )
    errors = [RowError(index=r.index, meter_id=r.meter_id, error=r.reason) for r in checked.refused]
    return checked.readings, errors, checked.rejected


def store_posted(
    rows: list[ReadingIn],
    label: str | None,
    good: list[Reading],
    rejected: list[Rejected],
    caller: Principal,
    ctx: ServiceContext,
) -> int:
    """Store a posted batch as one import batch recorded in the ledger; return the new count."""
    org = caller.organization_id
    return record_posted_batch(
        Store(ctx.engine),
        Ledger(ctx.engine),
        source_ref=f"api:{org}:{label or '-'}",
        rows=[row.model_dump_json().encode() for row in rows],
        readings=good,
        rejected=rejected,
        add=partial(ctx.alerting.add_readings, ctx.engine, ctx.data, org),
        keep=partial(ctx.data.quarantine_for, org),
    )


BATCH_EXAMPLE = {
    "batch_id": "erp-2026-11-01",
    "readings": [
        {
            "meter_id": "mtr-0a1b2c3d4e5f",
            "ts": "2026-11-01T08:00:00Z",
            "value": 12.5,
            "unit": "MWh",
        },
        {
            "meter_id": "mtr-0a1b2c3d4e5f",
            "ts": "2026-11-01T09:00:00Z",
            "value": 11.9,
            "unit": "MWh",
        },
    ],
}


@router.post("/readings", response_model=BatchResult, responses=WRITE, tags=["readings"])
def post_readings(
    batch: Annotated[ReadingBatch, Body(openapi_examples={"two hours": {"value": BATCH_EXAMPLE}})],
    caller: Writer,
    ctx: Context,
) -> BatchResult:
    """Store a batch of up to 10 000 readings; idempotent on (meter, timestamp).

    Rows that are well-formed but not acceptable (unknown meter, unit of the wrong kind,
    timestamp without offset or in the future) are quarantined and listed with their index;
    the other rows are stored. Sending the same batch again stores nothing new. The stored
    rows are then checked against the organization's alert rules (`PUT /api/v1/alert-rules`):
    a rule broken opens one alert, which closes when a later reading clears it.
    """
    good, errors, rejected = accept_rows(batch.readings, batch.batch_id, caller, ctx)
    stored = store_posted(batch.readings, batch.batch_id, good, rejected, caller, ctx)
    return BatchResult(
        received=len(batch.readings),
        stored=stored,
        duplicates=len(good) - stored,
        rejected=errors,
    )


class AlertRuleIn(ApiModel):
    """An alert rule checked on every reading posted (see `carbonlink.monitor.rules`)."""

    id: str = Field(min_length=1, max_length=64, examples=["gas-above-500"])
    kind: Literal["threshold", "rate_of_change", "meter_offline"] = Field(examples=["threshold"])
    meter_id: str = Field(
        min_length=1, max_length=64, examples=["mtr-0a1b2c3d4e5f"], description="'*' = every meter"
    )
    above: float | None = Field(default=None, allow_inf_nan=False, examples=[500.0])
    below: float | None = Field(default=None, allow_inf_nan=False, examples=[None])
    max_change_per_hour: float | None = Field(default=None, allow_inf_nan=False, examples=[None])
    offline_after_s: int | None = Field(
        default=None,
        ge=1,
        le=366 * 86400,
        examples=[None],
        description="meter_offline: seconds without a reading (at most a year)",
    )
    severity: Literal["info", "warning", "critical"] = Field(
        default="warning", examples=["warning"]
    )


def _rule_out(rule: AlertRule) -> AlertRuleIn:
    return AlertRuleIn(
        id=rule.id,
        kind=rule.kind,  # type: ignore[arg-type]
        meter_id=rule.meter_id,
        above=rule.above,
        below=rule.below,
        max_change_per_hour=rule.max_change_per_hour,
        offline_after_s=int(rule.offline_after.total_seconds()) if rule.offline_after else None,
        severity=rule.severity,
    )


@router.get("/alert-rules", response_model=list[AlertRuleIn], responses=READ, tags=["monitoring"])
def list_alert_rules(caller: Reader, ctx: Context) -> list[AlertRuleIn]:
    """The alert rules readings posted by the caller's organization are checked against."""
    return [_rule_out(r) for r in results.alert_rules_of(ctx.engine, caller.organization_id)]


@router.put("/alert-rules", response_model=list[AlertRuleIn], responses=WRITE, tags=["monitoring"])
def replace_alert_rules(
    rules: Annotated[
        list[AlertRuleIn],
        Body(
            max_length=500,
            openapi_examples={
                "gas above 500": {
                    "value": [
                        {
                            "id": "gas-above-500",
                            "kind": "threshold",
                            "meter_id": "mtr-0a1b2c3d4e5f",
                            "above": 500,
                        }
                    ]
                }
            },
        ),
    ],
    caller: Writer,
    ctx: Context,
) -> list[AlertRuleIn]:
    """Replace the organization's alert rules; each names one of its meters, or '*' for all.

    A threshold, rate-of-change or meter-offline rule is checked on every later batch of
    `POST /api/v1/readings`; an empty list removes them all.
    """
    raw = []
    for rule in rules:
        fields = rule.model_dump(exclude_none=True, exclude={"offline_after_s"})
        if rule.offline_after_s is not None:
            fields["offline_after"] = timedelta(seconds=rule.offline_after_s)
        raw.append(fields)
    meters = [m.id for m in ctx.data.meters(caller.organization_id)]
    checked = validate_rules(raw, known_meters=meters)
    results.save_alert_rules(ctx.engine, caller.organization_id, checked)
    return [_rule_out(r) for r in checked]


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
        run=InventoryRunOut.model_validate(_run_out(run)),
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


@router.post(
    "/api-keys", response_model=ApiKeyOut, status_code=201, responses=WRITE, tags=["accounts"]
)
def create_api_key(body: ApiKeyIn, caller: Admin, ctx: Context) -> ApiKeyOut:
    """Issue an API key for a machine of the caller's organization (admin only)."""
    key = ctx.accounts.create_api_key(caller.organization_id, body.name, body.role)
    return ApiKeyOut(
        id=security.api_key_id(ctx.engine, key), name=body.name, role=body.role, key=key
    )


@router.post(
    "/oauth/clients", response_model=ClientOut, status_code=201, responses=WRITE, tags=["accounts"]
)
def create_oauth_client(body: ApiKeyIn, caller: Admin, ctx: Context) -> ClientOut:
    """Register an OAuth2 client-credentials client (admin only)."""
    client_id, secret = ctx.accounts.create_client(caller.organization_id, body.name, body.role)
    return ClientOut(name=body.name, role=body.role, client_id=client_id, client_secret=secret)


@router.post(
    "/oauth/token",
    response_model=TokenOut,
    responses=problem_responses(401, 422),
    tags=["accounts"],
)
def oauth_token(
    grant_type: Annotated[Literal["client_credentials"], Form(examples=["client_credentials"])],
    client_id: Annotated[
        str, Form(max_length=64, pattern=r"^[^\x00]*$", examples=["client-0a1b2c3d4e5f6a7b"])
    ],
    client_secret: Annotated[str, Form(max_length=200, pattern=r"^[^\x00]*$", examples=["…"])],
    ctx: Context,
) -> TokenOut:
    """OAuth2 client-credentials grant (RFC 6749 §4.4): a bearer token valid for an hour."""
    token, lifetime = ctx.accounts.issue_token(client_id, client_secret)
    return TokenOut(access_token=token, expires_in=lifetime)


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
    """Shipped factors whose id, subject, parameter, gas or citation contain every word of query."""
    words = [w.lower() for w in query.split()]
    found = []
    for factor in default_library():
        text = " ".join(
            (factor.id, factor.subject, factor.parameter, factor.gas, factor.citation, factor.note)
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
    """A saved computation of the caller's organization (see `carbonlink.api.results`)."""

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


def _run_out(run: results.InventoryRun) -> dict[str, Any]:
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
    return [_run_out(run) for run in results.inventory_runs(ctx.engine, caller.organization_id)]


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
    return _run_out(found[0]) | {"lines": lines}


class ReprocessResult(BaseModel):
    examined: int = Field(examples=[12], description="Quarantined API rows checked again.")
    stored: int = Field(examples=[10], description="Rows that pass now and were stored.")
    still_rejected: int = Field(examples=[2])


API_REF = "api:"


def reprocess_quarantine(caller: Principal, ctx: ServiceContext) -> ReprocessResult:
    """Check the organization's quarantined API rows again (after a meter or unit was fixed)."""
    rows: list[ReadingIn] = []
    for record in ctx.data.quarantined(caller.organization_id, limit=MAX_BATCH):
        if API_REF not in record.source_ref:
            continue
        try:
            rows.append(ReadingIn.model_validate_json(record.raw))
        except ValueError:
            continue
    good, errors, _rejected = accept_rows(rows, "reprocess", caller, ctx)
    stored = store_posted(rows, "reprocess", good, [], caller, ctx)
    return ReprocessResult(examined=len(rows), stored=stored, still_rejected=len(errors))


@router.post(
    "/quarantine/reprocess",
    response_model=ReprocessResult,
    responses=WRITE,
    tags=["readings"],
)
def reprocess(caller: Writer, ctx: Context) -> ReprocessResult:
    """Re-check quarantined readings of the caller's organization and store those that now pass.

    Run it after fixing what made them fail (adding the meter, correcting its unit). The
    quarantined records stay as received; the data-quality page marks those now stored.
    """
    return reprocess_quarantine(caller, ctx)


# administration: users, API keys, OAuth2 clients ----------------------------------------------
ADMIN = problem_responses(401, 403, 404, 422)


class UserOut(BaseModel):
    id: str = Field(examples=["9b2f4c1d8e7a4b6c9d0e1f2a3b4c5d6e"])
    email: str = Field(examples=["li.wei@plant.example"])
    display_name: str = Field(examples=["Li Wei"])
    role: Role = Field(examples=["editor"])
    locale: str = Field(examples=["zh"])
    disabled: bool = Field(examples=[False])
    created_at: datetime = Field(examples=["2026-11-29T02:51:39Z"])


class UserIn(ApiModel):
    email: str = Field(
        min_length=3,
        max_length=254,
        pattern=r"^[^@\s]+@[^@\s]+$",
        examples=["li.wei@plant.example"],
    )
    role: Role = Field(examples=["editor"])
    display_name: str | None = Field(default=None, max_length=200, examples=["Li Wei"])
    locale: Literal["zh", "en"] = Field(default="zh", examples=["zh"])


class UserInvited(UserOut):
    password: str = Field(
        examples=["…"], description="First password, shown once: hand it to the person invited."
    )


class UserChange(ApiModel):
    role: Role | None = Field(default=None, examples=["viewer"])
    disabled: bool | None = Field(
        default=None,
        examples=[True],
        description="A disabled user cannot log in; its sessions end.",
    )


class ApiKeyInfoOut(BaseModel):
    id: str = Field(examples=["5f0c9a1e2b3d4c5e6f708192a3b4c5d6"])
    name: str = Field(examples=["ERP nightly export"])
    role: Role = Field(examples=["editor"])
    created_at: datetime = Field(examples=["2026-11-29T02:51:39Z"])
    revoked_at: datetime | None = Field(default=None, examples=[None])


class ClientInfoOut(BaseModel):
    client_id: str = Field(examples=["client-0a1b2c3d4e5f6a7b"])
    name: str = Field(examples=["MES gateway"])
    role: Role = Field(examples=["editor"])
    created_at: datetime = Field(examples=["2026-11-29T02:51:39Z"])


def _user_out(user: security.UserInfo) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)


def _admin_not_found(kind: str, ident: str, listing: str) -> NotFoundError:
    return NotFoundError(
        f"{kind} '{ident}' not found in your organization",
        record=ident,
        hint=f"list them with GET /api/v1/{listing}",
    )


@router.get("/users", response_model=list[UserOut], responses=ADMIN, tags=["administration"])
def list_users(caller: Admin, ctx: Context) -> list[UserOut]:
    """Users of the caller's organization (admin only)."""
    return [_user_out(u) for u in security.organization_users(ctx.engine, caller.organization_id)]


@router.post(
    "/users", response_model=UserInvited, status_code=201, responses=ADMIN, tags=["administration"]
)
def invite_user(body: UserIn, caller: Admin, ctx: Context) -> UserInvited:
    """Invite a user into the caller's organization with a role; the first password shows once."""
    user_id, password = security.invite_user(
        ctx.accounts,
        caller.organization_id,
        body.email,
        body.role,
        body.display_name,
        body.locale,
    )
    user = security.organization_user(ctx.engine, caller.organization_id, user_id)
    assert user is not None
    return UserInvited(**_user_out(user).model_dump(), password=password)


@router.patch("/users/{user_id}", response_model=UserOut, responses=ADMIN, tags=["administration"])
def change_user(user_id: str, body: UserChange, caller: Admin, ctx: Context) -> UserOut:
    """Change a user's role, or disable (log-in refused, sessions ended) or enable it."""
    org = caller.organization_id
    if security.organization_user(ctx.engine, org, user_id) is None:
        raise _admin_not_found("user", user_id, "users")
    if body.role is not None:
        security.set_user_role(ctx.engine, org, user_id, body.role, caller.subject)
    if body.disabled is not None:
        security.set_user_disabled(ctx.engine, org, user_id, body.disabled, caller.subject)
    user = security.organization_user(ctx.engine, org, user_id)
    assert user is not None
    return _user_out(user)


@router.get(
    "/api-keys", response_model=list[ApiKeyInfoOut], responses=ADMIN, tags=["administration"]
)
def list_api_keys(caller: Admin, ctx: Context) -> list[ApiKeyInfoOut]:
    """API keys of the caller's organization, revoked ones included (never their secrets)."""
    return [
        ApiKeyInfoOut.model_validate(k, from_attributes=True)
        for k in security.organization_api_keys(ctx.engine, caller.organization_id)
    ]


@router.delete("/api-keys/{key_id}", status_code=204, responses=ADMIN, tags=["administration"])
def revoke_api_key(key_id: str, caller: Admin, ctx: Context) -> Response:
    """Revoke an API key: the next request made with it is refused."""
    if not security.revoke_api_key(ctx.engine, caller.organization_id, key_id):
        raise _admin_not_found("active API key", key_id, "api-keys")
    return Response(status_code=204)


@router.get(
    "/oauth-clients", response_model=list[ClientInfoOut], responses=ADMIN, tags=["administration"]
)
def list_oauth_clients(caller: Admin, ctx: Context) -> list[ClientInfoOut]:
    """OAuth2 clients of the caller's organization (never their secrets)."""
    return [
        ClientInfoOut.model_validate(c, from_attributes=True)
        for c in security.organization_clients(ctx.engine, caller.organization_id)
    ]


@router.post(
    "/oauth-clients",
    response_model=ClientOut,
    status_code=201,
    responses=ADMIN,
    tags=["administration"],
)
def add_oauth_client(body: ApiKeyIn, caller: Admin, ctx: Context) -> ClientOut:
    """Register an OAuth2 client-credentials client; its secret is shown once."""
    client_id, secret = ctx.accounts.create_client(caller.organization_id, body.name, body.role)
    return ClientOut(name=body.name, role=body.role, client_id=client_id, client_secret=secret)


@router.delete(
    "/oauth-clients/{client_id}", status_code=204, responses=ADMIN, tags=["administration"]
)
def delete_oauth_client(client_id: str, caller: Admin, ctx: Context) -> Response:
    """Delete an OAuth2 client; the tokens it was issued stop working at once."""
    if not security.delete_client(ctx.engine, caller.organization_id, client_id):
        raise _admin_not_found("OAuth client", client_id, "oauth-clients")
    return Response(status_code=204)
