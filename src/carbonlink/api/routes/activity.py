"""Activity values entered by hand under /api/v1: a month's fuel, material or production of a
source, with its evidence, and corrections that keep the trail (who, when, old → new, why).

Evidence is kept whole in the store's documents under its SHA-256 and recorded in the ledger as
a ``report`` entry of kind ``evidence`` with its copy kept, like every other stored document:
``carbonlink ledger verify --full`` re-hashes it.
"""

from __future__ import annotations

import mimetypes
import re
from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, File, Path, UploadFile
from fastapi.responses import Response
from pydantic import Field, field_validator

from carbonlink.api.deps import Context, Reader, ServiceContext, Writer
from carbonlink.api.routes.v1 import NO_NUL, PREFIX, READ, READ_ONE, WRITE, ApiModel, not_found
from carbonlink.api.security import Principal
from carbonlink.domain.units import check_plain_unit, conversion_factor
from carbonlink.errors import CarbonlinkError, InputError, StoreError
from carbonlink.ledger import Ledger, report_entry
from carbonlink.store import Store
from carbonlink.store.data_entry import (
    ActivityEntry,
    activity_entry,
    activity_history,
    add_activity,
    is_superseded,
)
from carbonlink.store.periods import refuse_locked

router = APIRouter(prefix=PREFIX)
MAX_EVIDENCE_BYTES = 20 * 1024 * 1024
EntryId = Annotated[int, Path(ge=1, le=2**31 - 1, examples=[12])]
"""An activity entry's id (a 32-bit integer column)."""
PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class EvidenceOut(ApiModel):
    sha256: str = Field(
        examples=["2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"]
    )
    name: str = Field(examples=["coal-delivery-2026-11.pdf"])
    size: int = Field(examples=[48213])
    ledger_index: int = Field(examples=[57], description="The evidence's entry in the ledger.")


class ActivityIn(ApiModel):
    source_id: str = Field(max_length=64, pattern=NO_NUL, examples=["src-8b1e2d3c4f50"])
    period: str = Field(examples=["2026-11"], description="Calendar month, YYYY-MM.")
    quantity: float = Field(ge=0, allow_inf_nan=False, examples=[1280.5])
    unit: str = Field(max_length=32, pattern=NO_NUL, examples=["t"])
    note: str = Field(default="", max_length=2000, examples=["weighbridge tickets, November"])
    evidence_sha256: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        examples=["2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"],
        description="A document sent to POST /api/v1/evidence.",
    )

    @field_validator("period")
    @classmethod
    def _month(cls, value: str) -> str:
        if not PERIOD.match(value):
            raise ValueError(f"{value!r} is not a month; write it as YYYY-MM, e.g. 2026-11")
        return value


class CorrectionIn(ApiModel):
    quantity: float = Field(ge=0, allow_inf_nan=False, examples=[1208.5])
    unit: str = Field(max_length=32, pattern=NO_NUL, examples=["t"])
    reason: str = Field(
        min_length=1, max_length=2000, pattern=r"\S", examples=["digits swapped on entry"]
    )
    evidence_sha256: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        examples=[None],
        description="New evidence; without it the corrected entry's evidence is kept.",
    )


class ActivityOut(ApiModel):
    id: int = Field(examples=[12])
    source_id: str = Field(examples=["src-8b1e2d3c4f50"])
    period: str = Field(examples=["2026-11"])
    quantity: float = Field(examples=[1280.5])
    unit: str = Field(examples=["t"])
    note: str = Field(examples=["weighbridge tickets, November"])
    evidence_sha256: str | None = Field(examples=[None])
    evidence_name: str | None = Field(examples=[None])
    evidence_ledger_index: int | None = Field(examples=[None])
    supersedes: int | None = Field(examples=[None], description="The entry this one corrects.")
    reason: str | None = Field(examples=[None], description="Why the correction was made.")
    entered_by: str = Field(examples=["Li Wei"])
    entered_at: datetime = Field(examples=["2026-12-01T09:30:00Z"])
    current: bool = Field(examples=[True], description="False once a correction replaced it.")


def _out(ctx: ServiceContext, entry: ActivityEntry) -> ActivityOut:
    return ActivityOut(
        id=entry.id,
        source_id=entry.source_id,
        period=entry.period,
        quantity=entry.quantity,
        unit=entry.unit,
        note=entry.note,
        evidence_sha256=entry.evidence_sha256,
        evidence_name=entry.evidence_name,
        evidence_ledger_index=entry.evidence_ledger_index,
        supersedes=entry.supersedes,
        reason=entry.reason,
        entered_by=entry.entered_by,
        entered_at=entry.entered_at,
        current=not is_superseded(ctx.engine, entry.id),
    )


def _check_unit(ctx: ServiceContext, caller: Principal, source_id: str, unit: str) -> None:
    """Refuse a unit that does not parse, or that the source's factor cannot multiply."""
    source = ctx.data.source(caller.organization_id, source_id)
    if source is None:
        raise not_found("source", source_id)
    try:
        check_plain_unit(unit)
        if source.factor is not None:
            conversion_factor(unit, source.factor.activity_unit)
    except CarbonlinkError as exc:
        raise InputError(
            f"{unit}: {exc.message}"
            if source.factor is None
            else f"{unit} cannot be converted to {source.factor.activity_unit}, the unit of the "
            f"factor of source {source.name!r}",
            record=source_id,
            hint="enter the quantity in a unit of the same kind as the source's factor",
        ) from exc


def _evidence(ctx: ServiceContext, sha256: str | None) -> tuple[str, str, int] | None:
    """(SHA-256, name, ledger index) of a kept evidence document, or None."""
    if sha256 is None:
        return None
    try:
        document = Store(ctx.engine).document(sha256)
    except StoreError as exc:
        raise InputError(
            f"no evidence document with SHA-256 {sha256}",
            record=sha256,
            hint="send the file to POST /api/v1/evidence first",
        ) from exc
    found = Ledger(ctx.engine).find(_subject(sha256))
    if not found:
        raise InputError(
            f"document {sha256} was not sent as evidence",
            record=sha256,
            hint="send the file to POST /api/v1/evidence first",
        )
    return sha256, document.name, found[0].index


def _refuse_locked_month(
    ctx: ServiceContext, caller: Principal, source_id: str, month: str
) -> None:
    """Refuse a value for a month of which a locked period covers a day."""
    if not PERIOD.match(month):
        return
    first = date(int(month[:4]), int(month[5:]), 1)
    record = f"source {source_id}, {month}"
    days = (first + timedelta(days=n) for n in range(31))
    refuse_locked(
        ctx.engine,
        caller.organization_id,
        ((day.isoformat(), record) for day in days if day.month == first.month),
    )


def _subject(sha256: str) -> str:
    return f"report:evidence-{sha256}"


@router.post(
    "/evidence", response_model=EvidenceOut, status_code=201, responses=WRITE, tags=["activity"]
)
async def send_evidence(
    caller: Writer, ctx: Context, file: Annotated[UploadFile, File()]
) -> EvidenceOut:
    """Keep a document (invoice, weighbridge ticket, lab report) as evidence of activity values.

    Stored under its SHA-256 and recorded in the ledger once; sending it again answers with the
    same entry.
    """
    name = (file.filename or "evidence").replace("/", "_").replace("\\", "_")[-200:]
    body = await file.read(MAX_EVIDENCE_BYTES + 1)
    if not body:
        raise InputError(f"{name} is empty", record=name, hint="choose the file again")
    if len(body) > MAX_EVIDENCE_BYTES:
        raise InputError(
            f"{name} is larger than 20 MB", record=name, hint="send a smaller scan or a PDF"
        )
    media = mimetypes.guess_type(name)[0] or "application/octet-stream"
    digest = Store(ctx.engine).save_document(name, body, media)
    ledger = Ledger(ctx.engine)
    found = ledger.find(_subject(digest))
    if found:
        index = found[0].index
    else:
        entry = report_entry(
            f"evidence-{digest}", report_kind="evidence", files={name: digest}, copies_kept=True
        )
        index = ledger.append(entry)
    return EvidenceOut(sha256=digest, name=name, size=len(body), ledger_index=index)


@router.get(
    "/activity-entries", response_model=list[ActivityOut], responses=READ, tags=["activity"]
)
def list_activity(caller: Reader, ctx: Context) -> list[ActivityOut]:
    """Every activity value entered by hand, corrections included, oldest first."""
    return [_out(ctx, e) for e in activity_history(ctx.engine, caller.organization_id)]


@router.post(
    "/activity-entries",
    response_model=ActivityOut,
    status_code=201,
    responses=WRITE,
    tags=["activity"],
)
def enter_activity(body: ActivityIn, caller: Writer, ctx: Context) -> ActivityOut:
    """Enter a source's activity for a month (fuel burnt, material used, tonnes produced).

    Refused for a month of a locked period: it is reopened for restatement first.
    """
    _check_unit(ctx, caller, body.source_id, body.unit)
    _refuse_locked_month(ctx, caller, body.source_id, body.period)
    entry = add_activity(
        ctx.engine,
        caller.organization_id,
        source_id=body.source_id,
        period=body.period,
        quantity=body.quantity,
        unit=body.unit,
        note=body.note,
        who=caller.display_name,
        evidence=_evidence(ctx, body.evidence_sha256),
    )
    return _out(ctx, entry)


@router.post(
    "/activity-entries/{entry_id}/corrections",
    response_model=ActivityOut,
    status_code=201,
    responses=WRITE,
    tags=["activity"],
)
def correct_activity(
    entry_id: EntryId, body: CorrectionIn, caller: Writer, ctx: Context
) -> ActivityOut:
    """Correct an entry: a new entry that supersedes it, with the reason; the old one stays."""
    old = activity_entry(ctx.engine, caller.organization_id, entry_id)
    if old is None:
        raise not_found("activity entry", str(entry_id))
    if is_superseded(ctx.engine, entry_id):
        raise InputError(
            f"entry {entry_id} was corrected already",
            record=str(entry_id),
            hint="correct the current value (reload the list)",
        )
    _check_unit(ctx, caller, old.source_id, body.unit)
    _refuse_locked_month(ctx, caller, old.source_id, old.period)
    evidence = _evidence(ctx, body.evidence_sha256)
    if evidence is None and old.evidence_sha256 is not None:
        evidence = (old.evidence_sha256, old.evidence_name or "", old.evidence_ledger_index or 0)
    entry = add_activity(
        ctx.engine,
        caller.organization_id,
        source_id=old.source_id,
        period=old.period,
        quantity=body.quantity,
        unit=body.unit,
        note=old.note,
        who=caller.display_name,
        evidence=evidence,
        supersedes=entry_id,
        reason=body.reason,
    )
    return _out(ctx, entry)


@router.get(
    "/activity-entries/{entry_id}/evidence",
    responses=READ_ONE,
    tags=["activity"],
    response_class=Response,
)
def activity_evidence(entry_id: EntryId, caller: Reader, ctx: Context) -> Response:
    """The evidence document of an entry, as it was sent."""
    entry = activity_entry(ctx.engine, caller.organization_id, entry_id)
    if entry is None or entry.evidence_sha256 is None:
        raise not_found("evidence of activity entry", str(entry_id))
    document = Store(ctx.engine).document(entry.evidence_sha256)
    return Response(
        document.body,
        media_type=document.media_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{_quoted(document.name)}"},
    )


def _quoted(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")
