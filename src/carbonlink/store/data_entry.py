"""Files received through the service and activity values entered by hand, per organization.

Every function takes the organization first where a caller could name another's record, and
returns nothing of another organization. Activity values are only ever inserted: a correction
is a new row naming the one it supersedes (`correct_activity`), never an update.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from carbonlink.errors import InputError
from carbonlink.store import schema as t
from carbonlink.store.data_entry_schema import activity_entries, file_imports
from carbonlink.store.repository import QuarantinedRecord, Store
from carbonlink.store.results_schema import quarantine_owners


@dataclass(frozen=True, slots=True)
class FileImport:
    """A file received for import, and how far its import has come."""

    id: str
    organization_id: str
    name: str
    kind: str
    document_sha256: str
    size: int
    uploaded_by: str
    uploaded_at: datetime
    status: str
    mapping: str | None
    rows_total: int | None
    rows_done: int
    stored: int
    duplicates: int
    quarantined: int
    batch_id: str | None
    error: str | None
    finished_at: datetime | None


def receive_file(
    engine: sa.Engine, organization_id: str, name: str, kind: str, body: bytes, who: str
) -> FileImport:
    """Keep the received file under its SHA-256 (before anything reads it) and register it."""
    digest = Store(engine).save_document(name, body, _media_type(kind))
    import_id = str(uuid.uuid4())
    with engine.begin() as conn:
        conn.execute(
            file_imports.insert().values(
                id=import_id,
                organization_id=organization_id,
                name=name,
                kind=kind,
                document_sha256=digest,
                size=len(body),
                uploaded_by=who,
                uploaded_at=datetime.now(UTC),
                status="received",
            )
        )
    found = file_import(engine, organization_id, import_id)
    assert found is not None
    return found


def _media_type(kind: str) -> str:
    if kind == "xlsx":
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return "text/csv"


def file_import(engine: sa.Engine, organization_id: str, import_id: str) -> FileImport | None:
    """One received file of the organization, or None."""
    query = sa.select(file_imports).where(
        file_imports.c.id == import_id, file_imports.c.organization_id == organization_id
    )
    with engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    return FileImport(**dict(row)) if row else None


def recent_file_imports(
    engine: sa.Engine, organization_id: str, limit: int = 20
) -> list[FileImport]:
    """The organization's latest received files, newest first."""
    query = (
        sa.select(file_imports)
        .where(file_imports.c.organization_id == organization_id)
        .order_by(file_imports.c.uploaded_at.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        return [FileImport(**dict(row)) for row in conn.execute(query).mappings()]


def received_body(engine: sa.Engine, found: FileImport) -> bytes:
    """The kept bytes of a received file."""
    return Store(engine).document(found.document_sha256).body


def claim_file_import(engine: sa.Engine, import_id: str, mapping: str, rows_total: int) -> bool:
    """Mark a received file as being imported with ``mapping``; False when it already runs or ran
    (two clicks start one import)."""
    statement = (
        file_imports.update()
        .where(file_imports.c.id == import_id, file_imports.c.status == "received")
        .values(status="running", mapping=mapping, rows_total=rows_total)
    )
    with engine.begin() as conn:
        return conn.execute(statement).rowcount == 1


def update_file_import(engine: sa.Engine, import_id: str, **values: Any) -> None:
    """Record progress or the outcome of an import."""
    with engine.begin() as conn:
        conn.execute(file_imports.update().where(file_imports.c.id == import_id).values(**values))


def _record(row: Any) -> QuarantinedRecord:
    return QuarantinedRecord(
        id=row["id"],
        received_at=row["received_at"],
        batch_id=row["batch_id"],
        source_ref=row["source_ref"],
        line=row["line"],
        meter_id=row["meter_id"],
        reason=row["reason"],
        raw=bytes(row["raw"]),
        resolved_at=row["resolved_at"],
        resolution=row["resolution"],
    )


def batch_quarantine(engine: sa.Engine, batch_id: str, limit: int = 500) -> list[QuarantinedRecord]:
    """The records an import batch quarantined, in file order."""
    q = t.quarantine
    query = sa.select(q).where(q.c.batch_id == batch_id).order_by(q.c.line, q.c.id).limit(limit)
    with engine.connect() as conn:
        return [_record(row) for row in conn.execute(query).mappings()]


def own_batch_quarantine(engine: sa.Engine, batch_id: str, organization_id: str) -> int:
    """Give the organization the records its import batch quarantined (so its data-quality page
    lists them with the rest); return how many were new to it."""
    q, owners = t.quarantine, quarantine_owners
    ids = (
        sa.select(q.c.id)
        .where(q.c.batch_id == batch_id)
        .where(~sa.exists().where(owners.c.quarantine_id == q.c.id))
    )
    with engine.begin() as conn:
        rows = [
            {"quarantine_id": i, "organization_id": organization_id}
            for i in conn.execute(ids).scalars()
        ]
        if rows:
            conn.execute(owners.insert(), rows)
    return len(rows)


def batch_quarantined_record(
    engine: sa.Engine, batch_id: str, record_id: int
) -> QuarantinedRecord | None:
    """One record an import batch quarantined, or None."""
    q = t.quarantine
    query = sa.select(q).where(q.c.batch_id == batch_id, q.c.id == record_id)
    with engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    return _record(row) if row else None


# activity values ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ActivityEntry:
    """An activity value entered by hand for a source and a month, or a correction of one."""

    id: int
    organization_id: str
    source_id: str
    period: str
    quantity: float
    unit: str
    note: str
    evidence_sha256: str | None
    evidence_name: str | None
    evidence_ledger_index: int | None
    supersedes: int | None
    reason: str | None
    entered_by: str
    entered_at: datetime


def add_activity(
    engine: sa.Engine,
    organization_id: str,
    *,
    source_id: str,
    period: str,
    quantity: float,
    unit: str,
    note: str,
    who: str,
    evidence: tuple[str, str, int] | None = None,
    supersedes: int | None = None,
    reason: str | None = None,
) -> ActivityEntry:
    """Insert an activity value; ``evidence`` is (SHA-256, file name, ledger index) of a kept
    document. With ``supersedes`` it corrects that entry, which must be the current one."""
    values = {
        "organization_id": organization_id,
        "source_id": source_id,
        "period": period,
        "quantity": quantity,
        "unit": unit,
        "note": note,
        "evidence_sha256": evidence[0] if evidence else None,
        "evidence_name": evidence[1] if evidence else None,
        "evidence_ledger_index": evidence[2] if evidence else None,
        "supersedes": supersedes,
        "reason": reason,
        "entered_by": who,
        "entered_at": datetime.now(UTC),
    }
    try:
        with engine.begin() as conn:
            new_id = conn.execute(activity_entries.insert().values(**values)).inserted_primary_key
    except sa.exc.IntegrityError as exc:
        raise InputError(
            f"entry {supersedes} was corrected already",
            record=str(supersedes),
            hint="reload the page and correct the current value",
        ) from exc
    assert new_id is not None
    found = activity_entry(engine, organization_id, int(new_id[0]))
    assert found is not None
    return found


def activity_entry(engine: sa.Engine, organization_id: str, entry_id: int) -> ActivityEntry | None:
    """One activity entry of the organization, or None."""
    query = sa.select(activity_entries).where(
        activity_entries.c.id == entry_id, activity_entries.c.organization_id == organization_id
    )
    with engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    return ActivityEntry(**dict(row)) if row else None


def activity_history(engine: sa.Engine, organization_id: str) -> list[ActivityEntry]:
    """Every activity entry of the organization, corrections included, oldest first."""
    query = (
        sa.select(activity_entries)
        .where(activity_entries.c.organization_id == organization_id)
        .order_by(activity_entries.c.id)
    )
    with engine.connect() as conn:
        return [ActivityEntry(**dict(row)) for row in conn.execute(query).mappings()]


def is_superseded(engine: sa.Engine, entry_id: int) -> bool:
    """Whether a correction of the entry exists."""
    query = sa.select(activity_entries.c.id).where(activity_entries.c.supersedes == entry_id)
    with engine.connect() as conn:
        return conn.execute(query).first() is not None
