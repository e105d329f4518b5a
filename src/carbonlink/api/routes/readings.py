"""Readings under /api/v1: a meter's readings, batches posted, quarantined rows checked again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field

from carbonlink.api.deps import Context, Reader, ServiceContext, Writer
from carbonlink.api.routes.v1 import NO_NUL, PREFIX, READ_ONE, WRITE, not_found
from carbonlink.api.security import Principal
from carbonlink.ingest.base import Reading, Rejected
from carbonlink.ingest.validation import check_posted_rows, stored_windows
from carbonlink.ledger import Ledger
from carbonlink.provenance import record_posted_batch
from carbonlink.store import Store
from carbonlink.store.periods import refuse_locked

MAX_BATCH = 10_000

router = APIRouter(prefix=PREFIX)


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
    before: Annotated[
        datetime | None,
        Query(
            examples=["2026-11-01T00:00:00Z"],
            description="Only readings before this time: page back with the oldest one given.",
        ),
    ] = None,
) -> list[ReadingOut]:
    """The latest readings of a meter (after ``since``, before ``before``), oldest first."""
    if ctx.data.meter(caller.organization_id, meter_id) is None:
        raise not_found("meter", meter_id)
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    if before is not None and before.tzinfo is None:
        before = before.replace(tzinfo=UTC)
    return [
        ReadingOut(ts=r.ts, value=r.value, unit=r.unit, quality=r.quality)
        for r in ctx.data.readings(caller.organization_id, meter_id, since, limit, before)
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


def local_days(
    good: list[Reading], caller: Principal, ctx: ServiceContext
) -> Iterator[tuple[str, str]]:
    """(local day, record) of each reading, in its facility's time zone, for the period lock."""
    zones: dict[str, ZoneInfo] = {}
    for reading in good:
        zone = zones.get(reading.meter_id)
        if zone is None:
            meter = ctx.data.meter(caller.organization_id, reading.meter_id)
            facility = (
                ctx.data.facility(caller.organization_id, meter.facility_id) if meter else None
            )
            zone = zones[reading.meter_id] = ZoneInfo(facility.timezone if facility else "UTC")
        day = reading.ts.astimezone(zone).date().isoformat()
        yield day, f"meter {reading.meter_id} at {reading.ts.isoformat()}"


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


class _Underflow(str):
    """A number written with non-zero digits that a float holds only as 0.0 (e.g. 1e-400)."""


def _parse_float(text: str) -> float | _Underflow:
    value = float(text)
    mantissa = text.lower().partition("e")[0]
    if value == 0.0 and any(c in "123456789" for c in mantissa):
        return _Underflow(text)
    return value


async def refuse_underflow(request: Request, _caller: Writer) -> None:
    """Refuse a row whose value underflows to zero: JSON parsing would store it as 0.0.

    Checked once the caller is known to be allowed to write (``_caller``), on the raw body.
    The same 422 problem document as a row with a value of the wrong type, naming the row.
    """
    try:
        body: Any = json.loads(await request.body(), parse_float=_parse_float)
    except ValueError:
        return  # not JSON: the body's own validation says so
    rows = body.get("readings") if isinstance(body, dict) else None
    if not isinstance(rows, list):
        return
    errors = [
        {
            "type": "float_underflow",
            "loc": ("body", "readings", index, "value"),
            "msg": f"{row['value']} is too small to be held as a number other than 0; "
            "send it as 0 or in a larger unit",
            "input": str(row["value"]),
        }
        for index, row in enumerate(rows)
        if isinstance(row, dict) and isinstance(row.get("value"), _Underflow)
    ]
    if errors:
        raise RequestValidationError(errors)


@router.post(
    "/readings",
    response_model=BatchResult,
    responses=WRITE,
    tags=["readings"],
    dependencies=[Depends(refuse_underflow)],
)
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
    refuse_locked(ctx.engine, caller.organization_id, local_days(good, caller, ctx))
    stored = store_posted(batch.readings, batch.batch_id, good, rejected, caller, ctx)
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
