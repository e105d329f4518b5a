"""Conflicts under /api/v1: received values that differ from a stored reading of the same
meter and time, listed for the organization and resolved by one of its editors."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query
from pydantic import BaseModel, Field

from carbonlink.api.deps import Context, Reader, Writer
from carbonlink.api.problems import NotFoundError
from carbonlink.api.routes.v1 import PREFIX, READ, WRITE, ApiModel
from carbonlink.store import QuarantinedRecord
from carbonlink.store.tenant_data import organization_conflicts, resolve_organization_conflict

router = APIRouter(prefix=PREFIX)

ConflictId = Annotated[int, Path(ge=1, le=2**31 - 1, examples=[42])]
"""A quarantined record's id (a 32-bit integer column)."""


class ConflictOut(BaseModel):
    id: int = Field(examples=[42])
    meter_id: str | None = Field(examples=["mtr-0a1b2c3d4e5f"])
    received_at: datetime = Field(examples=["2026-11-01T08:05:00Z"])
    reason: str = Field(
        examples=[
            "conflict: meter mtr-0a1b2c3d4e5f at 2026-11-01T08:00:00+00:00 already has 12.5 MWh;"
            " this record says 13.0 MWh. The stored value is kept: confirm it, or correct the"
            " reading at its source and import the correction"
        ],
        description="Both values: the stored one (kept) and the one received.",
    )
    record: str = Field(
        examples=['{"meter_id": "mtr-0a1b2c3d4e5f", "ts": "2026-11-01T08:00:00+00:00"}'],
        description="The received record as kept.",
    )
    resolved_at: datetime | None = Field(examples=[None])
    resolution: str | None = Field(examples=[None])


class Resolution(ApiModel):
    note: str = Field(
        min_length=1,
        max_length=2000,
        pattern=r"\S",
        examples=["kept the stored value: the meter was read twice"],
        description="What was decided; the stored reading itself is not changed.",
    )


def conflict_out(record: QuarantinedRecord) -> ConflictOut:
    return ConflictOut(
        id=record.id,
        meter_id=record.meter_id,
        received_at=record.received_at,
        reason=record.reason,
        record=record.raw.decode("utf-8", "replace"),
        resolved_at=record.resolved_at,
        resolution=record.resolution,
    )


@router.get("/conflicts", response_model=list[ConflictOut], responses=READ, tags=["readings"])
def list_conflicts(
    caller: Reader,
    ctx: Context,
    unresolved: Annotated[bool, Query(examples=[True])] = False,
    limit: Annotated[int, Query(ge=1, le=5000, examples=[100])] = 500,
) -> list[ConflictOut]:
    """Received values that conflict with a stored reading of one of your meters, newest first.

    A reading posted or imported for a (meter, time) already stored with another value or unit
    is not stored: it is kept here with both values, whatever path it came by, until an editor
    resolves it (`POST /api/v1/conflicts/{id}/resolve`).
    """
    records = organization_conflicts(
        ctx.engine, caller.organization_id, unresolved_only=unresolved, limit=limit
    )
    return [conflict_out(r) for r in records]


@router.post(
    "/conflicts/{conflict_id}/resolve",
    response_model=ConflictOut,
    responses=WRITE,
    tags=["readings"],
)
def resolve_conflict(
    conflict_id: ConflictId,
    resolution: Annotated[
        Resolution,
        Body(openapi_examples={"kept": {"value": {"note": "kept the stored value"}}}),
    ],
    caller: Writer,
    ctx: Context,
) -> ConflictOut:
    """Record what was decided about a conflict (editor or admin); the stored reading stays.

    To replace a stored value, correct the reading at its source and import the correction.
    """
    record = resolve_organization_conflict(
        ctx.engine, caller.organization_id, conflict_id, resolution.note
    )
    if record is None:
        raise NotFoundError(
            f"conflict {conflict_id} not found in your organization",
            record=str(conflict_id),
            hint="list them with GET /api/v1/conflicts",
        )
    return conflict_out(record)
