"""Files of readings under /api/v1: upload, map, preview, import in the background, then
correct or discard each quarantined row.

The import page calls these routes; so can any client. A file is kept as received (SHA-256 in
the documents) before it is read; the import runs with the same parser as ``carbonlink ingest
csv`` against the caller's organization's meters only.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, File, UploadFile
from pydantic import Field, ValidationError

from carbonlink.api import file_imports as jobs
from carbonlink.api.deps import Context, Reader, ServiceContext, Writer
from carbonlink.api.routes.conflicts import ConflictId
from carbonlink.api.routes.readings import ReadingIn, accept_rows, store_posted
from carbonlink.api.routes.v1 import NO_NUL, PREFIX, READ_ONE, WRITE, ApiModel, not_found
from carbonlink.api.security import Principal
from carbonlink.domain import metering
from carbonlink.errors import CarbonlinkError, InputError
from carbonlink.ingest.file_import import reason_kind
from carbonlink.ingest.mapping import FileMapping
from carbonlink.store import Store
from carbonlink.store.data_entry import (
    FileImport,
    batch_quarantine,
    batch_quarantined_record,
    file_import,
    receive_file,
)
from carbonlink.store.repository import CONFLICT, QuarantinedRecord

router = APIRouter(prefix=PREFIX)
SUFFIXES = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx"}


class ColumnIn(ApiModel):
    column: str = Field(max_length=200, examples=["Usage_kWh"])
    meter_id: str = Field(max_length=64, examples=["mtr-0a1b2c3d4e5f"])
    unit: str = Field(max_length=32, examples=["kWh"])


class MappingIn(ApiModel):
    """Which columns hold what, and how to read times and numbers."""

    layout: Literal["wide", "long"] = Field(
        examples=["long"], description="wide: one column per meter; long: a meter column."
    )
    time_column: str = Field(max_length=200, examples=["time"])
    time_format: str | None = Field(
        default=None, max_length=64, examples=["%d/%m/%Y %H:%M"], description="Empty: guess."
    )
    day_first: bool = Field(default=False, examples=[True])
    time_zone: str = Field(default="Asia/Shanghai", max_length=64, examples=["Asia/Shanghai"])
    labelling: Literal["start", "end"] = Field(
        default="end", examples=["end"], description="Rows stamped with the interval's end."
    )
    midnight_is_end_of_day: bool = Field(default=False, examples=[False])
    columns: list[ColumnIn] = Field(default=[], max_length=200, description="wide layout")
    meter_column: str | None = Field(default=None, max_length=200, examples=["meter"])
    value_column: str | None = Field(default=None, max_length=200, examples=["value"])
    unit_column: str | None = Field(default=None, max_length=200, examples=["unit"])
    unit: str | None = Field(default=None, max_length=32, examples=["MWh"])
    decimal_comma: bool = Field(default=False, examples=[False])
    delimiter: str = Field(default=",", min_length=1, max_length=1, examples=[","])
    encoding: str = Field(default="auto", max_length=32, examples=["auto"])
    header_row: int = Field(default=1, ge=1, le=1000, examples=[1])
    sheet: str | None = Field(default=None, max_length=100, examples=[None])

    def to_mapping(self) -> FileMapping:
        """The file importer's mapping; InputError naming the field when it is not valid."""
        timestamp = {
            "column": self.time_column,
            "format": self.time_format or None,
            "day_first": self.day_first,
            "time_zone": self.time_zone,
            "labelling": self.labelling,
            "midnight_is_end_of_day": self.midnight_is_end_of_day,
        }
        body: dict[str, object] = {
            "delimiter": self.delimiter,
            "encoding": self.encoding,
            "header_row": self.header_row,
            "sheet": self.sheet or None,
            "timestamp": timestamp,
        }
        if self.layout == "wide":
            body["values"] = [
                {
                    "column": c.column,
                    "meter": c.meter_id,
                    "unit": c.unit,
                    "decimal_comma": self.decimal_comma,
                }
                for c in self.columns
            ]
        else:
            body["long"] = {
                "meter_column": self.meter_column or "",
                "value_column": self.value_column or "",
                "unit_column": self.unit_column or None,
                "unit": self.unit or None,
                "decimal_comma": self.decimal_comma,
            }
        try:
            return FileMapping.model_validate(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise InputError(
                f"mapping: {where}: {first['msg']}", hint="correct the mapping and try again"
            ) from exc


class ImportOut(ApiModel):
    id: str = Field(examples=["6f1c2d3e-0000-4000-8000-000000000001"])
    name: str = Field(examples=["readings-2026-11.csv"])
    kind: str = Field(examples=["csv"])
    size: int = Field(examples=[20480])
    sha256: str = Field(
        examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]
    )
    uploaded_by: str = Field(examples=["Li Wei"])
    uploaded_at: datetime = Field(examples=["2026-12-07T08:00:00Z"])
    status: Literal["received", "running", "finished", "failed"] = Field(examples=["running"])
    rows_total: int | None = Field(examples=[8760])
    rows_done: int = Field(examples=[4000])
    stored: int = Field(examples=[3990])
    duplicates: int = Field(examples=[0])
    quarantined: int = Field(examples=[10])
    error: str | None = Field(examples=[None])
    header: list[str] = Field(default=[], examples=[["time", "meter", "value", "unit"]])
    sample: list[list[str]] = Field(
        default=[], examples=[[["2026-11-01 01:00", "mtr-0a1b2c3d4e5f", "12.5", "MWh"]]]
    )


class RowOut(ApiModel):
    meter_id: str = Field(examples=["mtr-0a1b2c3d4e5f"])
    ts: datetime = Field(examples=["2026-11-01T00:00:00Z"], description="Stored instant (UTC).")
    value: float = Field(examples=[12.5])
    unit: str = Field(examples=["MWh"])


class HeldOut(ApiModel):
    id: int | None = Field(examples=[41], description="Quarantine record (after the import).")
    line: int | None = Field(examples=[7])
    meter_id: str | None = Field(examples=["mtr-0a1b2c3d4e5f"])
    kind: str = Field(examples=["text in a number"])
    reason: str = Field(examples=["value 'n/a' of meter 'mtr-0a1b2c3d4e5f' is not a number"])
    raw: str = Field(examples=["2026-11-01 03:00,mtr-0a1b2c3d4e5f,n/a,MWh"])
    resolved_at: datetime | None = Field(default=None, examples=[None])
    resolution: str | None = Field(default=None, examples=[None])


class PreviewOut(ApiModel):
    rows: list[RowOut]
    rejected: list[HeldOut]


class CorrectionIn(ApiModel):
    meter_id: str = Field(max_length=64, pattern=NO_NUL, examples=["mtr-0a1b2c3d4e5f"])
    ts: datetime = Field(examples=["2026-11-01T03:00:00+08:00"], description="With its offset.")
    value: float = Field(allow_inf_nan=False, examples=[12.1])
    unit: str = Field(max_length=32, pattern=NO_NUL, examples=["MWh"])
    note: str = Field(min_length=1, max_length=2000, pattern=r"\S", examples=["typo in the log"])


class DiscardIn(ApiModel):
    note: str = Field(
        min_length=1, max_length=2000, pattern=r"\S", examples=["test row of the logger"]
    )


class ResolvedOut(ApiModel):
    record: HeldOut
    stored: int = Field(examples=[1], description="Readings the correction stored.")


def _out(
    found: FileImport, header: list[str] | None = None, sample: list[list[str]] | None = None
) -> ImportOut:
    return ImportOut(
        id=found.id,
        name=found.name,
        kind=found.kind,
        size=found.size,
        sha256=found.document_sha256,
        uploaded_by=found.uploaded_by,
        uploaded_at=found.uploaded_at,
        status=found.status,  # type: ignore[arg-type]
        rows_total=found.rows_total,
        rows_done=found.rows_done,
        stored=found.stored,
        duplicates=found.duplicates,
        quarantined=found.quarantined,
        error=found.error,
        header=header or [],
        sample=sample or [],
    )


def held_kind(reason: str) -> str:
    """The kind of a quarantine reason, conflicts with a stored value included."""
    return "conflict with a stored value" if reason.startswith(CONFLICT) else reason_kind(reason)


def _held(record: QuarantinedRecord) -> HeldOut:
    return HeldOut(
        id=record.id,
        line=record.line,
        meter_id=record.meter_id,
        kind=held_kind(record.reason),
        reason=record.reason,
        raw=record.raw.decode("utf-8", "replace"),
        resolved_at=record.resolved_at,
        resolution=record.resolution,
    )


def own_import(ctx: ServiceContext, caller: Principal, import_id: str) -> FileImport:
    found = file_import(ctx.engine, caller.organization_id, import_id)
    if found is None:
        raise not_found("import", import_id)
    return found


def _meters(ctx: ServiceContext, caller: Principal) -> dict[str, metering.Meter]:
    return jobs.organization_meters(Store(ctx.engine), ctx.data.meters(caller.organization_id))


@router.post(
    "/imports", response_model=ImportOut, status_code=201, responses=WRITE, tags=["imports"]
)
async def upload(caller: Writer, ctx: Context, file: Annotated[UploadFile, File()]) -> ImportOut:
    """Receive a CSV or XLSX file of readings: kept as received, then shown by its columns.

    Nothing is imported yet: map the columns (``/preview``, then ``/run``).
    """
    name = (file.filename or "upload.csv").replace("/", "_").replace("\\", "_")[-200:]
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    if suffix not in SUFFIXES:
        raise InputError(
            f"{name}: only CSV and XLSX files are imported",
            record=name,
            hint="save the sheet as .csv or .xlsx",
        )
    body = await file.read()
    if not body:
        raise InputError(f"{name} is empty", record=name, hint="choose the file again")
    found = receive_file(
        ctx.engine, caller.organization_id, name, SUFFIXES[suffix], body, caller.display_name
    )
    return _out(found, *_columns(found, body))


def _columns(found: FileImport, body: bytes) -> tuple[list[str], list[list[str]]]:
    try:
        table = jobs.open_received(found, body, jobs.layout_only(), chunk_rows=8)
    except CarbonlinkError:
        return [], []  # an encoding or delimiter the mapping step sets; the file is kept
    try:
        return table.header, jobs.first_rows(table, 8)
    except UnicodeError:
        return [], []
    finally:
        table.close()


@router.get("/imports/{import_id}", response_model=ImportOut, responses=READ_ONE, tags=["imports"])
def import_status(import_id: str, caller: Reader, ctx: Context) -> ImportOut:
    """A received file and how far its import has come (poll it while ``status`` is running)."""
    return _out(own_import(ctx, caller, import_id))


@router.post(
    "/imports/{import_id}/columns", response_model=ImportOut, responses=WRITE, tags=["imports"]
)
def import_columns(import_id: str, body: MappingIn, caller: Writer, ctx: Context) -> ImportOut:
    """The file's columns and first rows read with the mapping's delimiter, encoding, header
    row and sheet (the rest of the mapping is not used)."""
    found = own_import(ctx, caller, import_id)
    layout = jobs.layout_only(body.delimiter, body.encoding, body.header_row, body.sheet or None)
    table = jobs.open_received(found, jobs.received_body(ctx.engine, found), layout, chunk_rows=8)
    try:
        return _out(found, table.header, jobs.first_rows(table, 8))
    except UnicodeError as exc:
        raise jobs.unreadable(found, layout, exc) from exc
    finally:
        table.close()


@router.post(
    "/imports/{import_id}/preview", response_model=PreviewOut, responses=WRITE, tags=["imports"]
)
def import_preview(import_id: str, body: MappingIn, caller: Writer, ctx: Context) -> PreviewOut:
    """The first 20 rows as they will be stored (UTC), and those that would be quarantined."""
    found = own_import(ctx, caller, import_id)
    shown = jobs.preview(ctx.engine, found, body.to_mapping(), _meters(ctx, caller))
    return PreviewOut(
        rows=[
            RowOut(meter_id=r.meter_id, ts=r.ts, value=r.value, unit=r.unit) for r in shown.readings
        ],
        rejected=[
            HeldOut(
                id=None,
                line=getattr(r, "line", None),
                meter_id=r.meter_id,
                kind=held_kind(r.reason),
                reason=r.reason,
                raw=r.raw.decode("utf-8", "replace"),
            )
            for r in shown.rejected
        ],
    )


@router.post(
    "/imports/{import_id}/run",
    response_model=ImportOut,
    status_code=202,
    responses=WRITE,
    tags=["imports"],
)
def import_run(import_id: str, body: MappingIn, caller: Writer, ctx: Context) -> ImportOut:
    """Start the import in the background; poll ``GET /imports/{id}`` for its progress.

    A file is imported once: a second start answers with the running (or finished) import.
    """
    found = own_import(ctx, caller, import_id)
    if found.status == "received":
        add = partial(ctx.alerting.add_readings, ctx.engine, ctx.data, caller.organization_id)
        jobs.start_import(ctx.engine, found, body.to_mapping(), _meters(ctx, caller), add)
    return _out(own_import(ctx, caller, import_id))


@router.get(
    "/imports/{import_id}/quarantine",
    response_model=list[HeldOut],
    responses=READ_ONE,
    tags=["imports"],
)
def import_quarantine(import_id: str, caller: Reader, ctx: Context) -> list[HeldOut]:
    """The rows the import quarantined, with the reason and what was decided about each."""
    found = own_import(ctx, caller, import_id)
    if found.batch_id is None:
        return []
    return [_held(record) for record in batch_quarantine(ctx.engine, found.batch_id)]


def _open_record(
    ctx: ServiceContext, caller: Principal, import_id: str, record_id: int
) -> QuarantinedRecord:
    found = own_import(ctx, caller, import_id)
    record = (
        batch_quarantined_record(ctx.engine, found.batch_id, record_id) if found.batch_id else None
    )
    if record is None:
        raise not_found("quarantined row", str(record_id))
    if record.resolved_at is not None:
        raise InputError(
            f"row {record.line} was dealt with already: {record.resolution}",
            record=str(record_id),
            hint="reload the page",
        )
    return record


@router.post(
    "/imports/{import_id}/quarantine/{record_id}/correct",
    response_model=ResolvedOut,
    responses=WRITE,
    tags=["imports"],
)
def correct_row(
    import_id: str, record_id: ConflictId, body: CorrectionIn, caller: Writer, ctx: Context
) -> ResolvedOut:
    """Store a corrected reading for a quarantined row, checked as a posted reading is.

    The quarantined row stays as received, marked corrected with the note, who and the value.
    """
    record = _open_record(ctx, caller, import_id, record_id)
    row = ReadingIn(meter_id=body.meter_id, ts=body.ts, value=body.value, unit=body.unit)
    label = f"correction-{import_id[:8]}-{record_id}"
    good, errors, _rejected = accept_rows([row], label, caller, ctx)
    if errors:
        raise InputError(errors[0].error, record=str(record_id), hint="correct the value and retry")
    stored = store_posted([row], label, good, [], caller, ctx)
    resolution = (
        f"corrected by {caller.display_name}: {body.meter_id} {body.ts.isoformat()} "
        f"{body.value:g} {body.unit} — {body.note}"
    )
    Store(ctx.engine).resolve_quarantined(record.id, resolution)
    resolved = batch_quarantined_record(ctx.engine, record.batch_id or "", record.id)
    assert resolved is not None
    return ResolvedOut(record=_held(resolved), stored=stored)


@router.post(
    "/imports/{import_id}/quarantine/{record_id}/discard",
    response_model=ResolvedOut,
    responses=WRITE,
    tags=["imports"],
)
def discard_row(
    import_id: str, record_id: ConflictId, body: DiscardIn, caller: Writer, ctx: Context
) -> ResolvedOut:
    """Mark a quarantined row as not to be stored, with the reason (it stays as received)."""
    record = _open_record(ctx, caller, import_id, record_id)
    Store(ctx.engine).resolve_quarantined(
        record.id, f"discarded by {caller.display_name} — {body.note}"
    )
    resolved = batch_quarantined_record(ctx.engine, record.batch_id or "", record.id)
    assert resolved is not None
    return ResolvedOut(record=_held(resolved), stored=0)
