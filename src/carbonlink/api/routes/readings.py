"""Readings under /api/v1: a meter's readings, batches posted, quarantined rows checked again."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, ConfigDict, Field

from carbonlink.api.deps import Context, Reader, ServiceContext, Writer
from carbonlink.api.routes.v1 import NO_NUL, PREFIX, READ_ONE, WRITE, not_found
from carbonlink.api.security import Principal
from carbonlink.domain.units import conversion_factor
from carbonlink.errors import CarbonlinkError
from carbonlink.ingest.base import Reading, Rejected
from carbonlink.store.tenants import Meter

MAX_BATCH = 10_000

router = APIRouter(prefix=PREFIX)


class ReadingIn(BaseModel):
    # Constraints checked in pydantic-core (no Python call per field): 10 000 rows per batch.
    model_config = ConfigDict(extra="forbid")

    meter_id: str = Field(max_length=64, pattern=NO_NUL, examples=["mtr-0a1b2c3d4e5f"])
    ts: datetime = Field(
        examples=["2026-11-01T08:00:00Z"], description="Instant of the value, with its UTC offset."
    )
    value: float = Field(allow_inf_nan=False, examples=[12.5])
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


@lru_cache(maxsize=1024)
def _unit_scale(unit: str, meter_unit: str) -> float:
    return 1.0 if unit == meter_unit else conversion_factor(unit, meter_unit)


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
        raise not_found("meter", meter_id)
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

    A row is refused when its meter is not the caller's organization's, its timestamp has no
    offset or lies more than a day ahead, its unit is not of the meter's kind, or its value
    overflows after conversion to the meter's unit.
    """
    org = caller.organization_id
    meters: dict[str, Meter | None] = {}
    horizon = datetime.now(UTC) + timedelta(days=1)
    good: list[Reading] = []
    errors: list[RowError] = []
    rejected: list[Rejected] = []
    received_via = f"api:{caller.subject}"
    append = good.append
    for index, row in enumerate(rows):
        if row.meter_id not in meters:
            meters[row.meter_id] = ctx.data.meter(org, row.meter_id)
        meter = meters[row.meter_id]
        error = None
        if meter is None:
            error = f"meter '{row.meter_id}' not found in your organization"
        elif row.ts.tzinfo is None:
            error = "timestamp has no UTC offset; add 'Z' or '+08:00'"
        elif row.ts > horizon:
            error = "timestamp is more than a day in the future"
        else:
            try:
                scale = _unit_scale(row.unit, meter.unit)
            except CarbonlinkError as exc:
                error = f"unit '{row.unit}' does not fit meter unit '{meter.unit}': {exc.message}"
            else:
                value = row.value * scale
                if math.isfinite(value):
                    append(
                        Reading(
                            meter.id,
                            row.ts.astimezone(UTC),
                            value,
                            meter.unit,
                            row.quality,
                            batch_id,
                            received_via,
                        )
                    )
                    continue
                error = "value overflows after unit conversion"
        errors.append(RowError(index=index, meter_id=row.meter_id, error=error))
        rejected.append(
            Rejected(
                row.model_dump_json().encode(),
                error,
                f"api:{caller.subject}:{batch_id or '-'}:{index}",
                row.meter_id if meter else None,
            )
        )
    return good, errors, rejected


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
    stored = ctx.alerting.add_readings(ctx.engine, ctx.data, caller.organization_id, good)
    if rejected:
        ctx.data.quarantine_for(caller.organization_id, rejected)
    return BatchResult(
        received=len(batch.readings),
        stored=stored,
        duplicates=len(good) - stored,
        rejected=errors,
    )


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
    stored = ctx.alerting.add_readings(ctx.engine, ctx.data, caller.organization_id, good)
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
