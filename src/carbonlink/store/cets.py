"""Store of China ETS operations: control plan versions, monthly parameters, quarantine, deposits.

The queries the CLI, the web pages and the demo share (one data-access layer). Tables in
`carbonlink.store.cets_schema`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from carbonlink.cets.control_plan import ControlPlan
from carbonlink.cets.records import PARAMETERS, ParameterRecord
from carbonlink.errors import InputError
from carbonlink.store.cets_schema import (
    cets_control_plans,
    cets_deposits,
    cets_parameters,
    cets_quarantine,
)


@dataclass(frozen=True)
class StoredControlPlan:
    plan: ControlPlan
    content_hash: str
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class Deposit:
    pack_id: str
    entity_id: str
    month: str
    folder: str
    ledger_index: int
    files: dict[str, str]
    findings: int
    deposited_on: date


@dataclass(frozen=True)
class QuarantinedRow:
    id: int
    entity_id: str
    file_name: str
    row_number: int
    record: dict[str, Any]
    error: str


def _insert(engine: sa.Engine) -> Any:
    return sqlite.insert if engine.dialect.name == "sqlite" else postgresql.insert


# control plans ----------------------------------------------------------------------------------
def save_control_plan(
    engine: sa.Engine, organization_id: str, plan: ControlPlan, who: str
) -> ControlPlan:
    """Save ``plan`` as the entity's next version unless this content is saved already.

    Returns the plan as stored: the same content saved again is the version already there; a
    changed content becomes version n+1 replacing the latest (whatever version it was given).
    """
    latest = latest_control_plan(engine, organization_id, plan.entity_id)
    if latest is not None and latest.content_hash == plan.content_hash:
        return latest.plan
    if latest is not None:
        plan = plan.model_copy(
            update={"version": latest.plan.version + 1, "replaces": latest.content_hash}
        )
    else:
        plan = plan.model_copy(update={"version": 1, "replaces": None})
    with engine.begin() as conn:
        conn.execute(
            cets_control_plans.insert().values(
                organization_id=organization_id,
                entity_id=plan.entity_id,
                version=plan.version,
                content_hash=plan.content_hash,
                replaces=plan.replaces,
                plan=json.dumps(plan.model_dump(mode="json"), ensure_ascii=False),
                created_at=datetime.now(UTC),
                created_by=who,
            )
        )
    return plan


def control_plan_versions(
    engine: sa.Engine, organization_id: str, entity_id: str
) -> list[StoredControlPlan]:
    """Every saved version of the entity's control plan, newest first."""
    query = (
        sa.select(cets_control_plans)
        .where(
            cets_control_plans.c.organization_id == organization_id,
            cets_control_plans.c.entity_id == entity_id,
        )
        .order_by(cets_control_plans.c.version.desc())
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        StoredControlPlan(
            ControlPlan.model_validate(json.loads(row.plan)),
            row.content_hash,
            row.created_at,
            row.created_by,
        )
        for row in rows
    ]


def latest_control_plan(
    engine: sa.Engine, organization_id: str, entity_id: str
) -> StoredControlPlan | None:
    versions = control_plan_versions(engine, organization_id, entity_id)
    return versions[0] if versions else None


def entities(engine: sa.Engine, organization_id: str) -> list[tuple[str, str]]:
    """(entity id, name) of every entity with a control plan or records, by id."""
    names: dict[str, str] = {}
    with engine.connect() as conn:
        for row in conn.execute(
            sa.select(cets_control_plans.c.entity_id, cets_control_plans.c.plan)
            .where(cets_control_plans.c.organization_id == organization_id)
            .order_by(cets_control_plans.c.version)
        ):
            names[row.entity_id] = str(json.loads(row.plan).get("entity_name", row.entity_id))
        for entity_id in conn.execute(
            sa.select(cets_parameters.c.entity_id)
            .where(cets_parameters.c.organization_id == organization_id)
            .distinct()
        ).scalars():
            names.setdefault(entity_id, entity_id)
    return sorted(names.items())


# monthly parameters -----------------------------------------------------------------------------
def save_parameters(
    engine: sa.Engine, organization_id: str, records: Sequence[ParameterRecord], who: str
) -> int:
    """Insert or replace the records (key: entity, month, source, parameter); returns the count.

    Saving the same records twice leaves the table as after the first save.
    """
    if not records:
        return 0
    now = datetime.now(UTC)
    rows = [asdict(r) | {"organization_id": organization_id} for r in records]
    for row in rows:
        row.update(entered_by=who, entered_at=now)
        if row["parameter"] not in PARAMETERS:
            raise InputError(
                f"unknown parameter {row['parameter']!r}",
                record=f"{row['entity_id']} {row['month']} {row['source']}",
                hint=f"use one of {', '.join(PARAMETERS)}",
            )
    insert = _insert(engine)(cets_parameters)
    keys = ("organization_id", "entity_id", "month", "source", "parameter")
    statement = insert.on_conflict_do_update(
        index_elements=list(keys),
        set_={c.name: insert.excluded[c.name] for c in cets_parameters.c if c.name not in keys},
    )
    with engine.begin() as conn:
        conn.execute(statement, rows)
    return len(rows)


def parameters_of(
    engine: sa.Engine,
    organization_id: str,
    entity_id: str,
    months: Iterable[str] | None = None,
) -> list[ParameterRecord]:
    """The entity's records (of ``months`` when given), by month, source and parameter."""
    query = sa.select(cets_parameters).where(
        cets_parameters.c.organization_id == organization_id,
        cets_parameters.c.entity_id == entity_id,
    )
    if months is not None:
        query = query.where(cets_parameters.c.month.in_(list(months)))
    query = query.order_by(
        cets_parameters.c.month, cets_parameters.c.source, cets_parameters.c.parameter
    )
    fields = ParameterRecord.__dataclass_fields__
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [ParameterRecord(**{k: row[k] for k in fields}) for row in rows]


# quarantine -------------------------------------------------------------------------------------
def quarantine_rows(
    engine: sa.Engine,
    organization_id: str,
    file_name: str,
    rows: Sequence[tuple[int, str, Mapping[str, Any], str]],
) -> int:
    """Keep rows that could not be stored: (row number, entity id, row as read, why)."""
    if not rows:
        return 0
    now = datetime.now(UTC)
    with engine.begin() as conn:
        # The same file imported again quarantines its bad rows once, not once per import.
        conn.execute(
            cets_quarantine.delete().where(
                cets_quarantine.c.organization_id == organization_id,
                cets_quarantine.c.file_name == file_name,
            )
        )
        conn.execute(
            cets_quarantine.insert(),
            [
                {
                    "organization_id": organization_id,
                    "entity_id": entity,
                    "file_name": file_name,
                    "row_number": number,
                    "record": json.dumps(dict(record), ensure_ascii=False, default=str),
                    "error": error,
                    "created_at": now,
                }
                for number, entity, record, error in rows
            ],
        )
    return len(rows)


def quarantined(
    engine: sa.Engine, organization_id: str, entity_id: str | None = None
) -> list[QuarantinedRow]:
    query = sa.select(cets_quarantine).where(cets_quarantine.c.organization_id == organization_id)
    if entity_id is not None:
        query = query.where(cets_quarantine.c.entity_id.in_([entity_id, ""]))
    query = query.order_by(cets_quarantine.c.file_name, cets_quarantine.c.row_number)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        QuarantinedRow(r.id, r.entity_id, r.file_name, r.row_number, json.loads(r.record), r.error)
        for r in rows
    ]


# deposits ---------------------------------------------------------------------------------------
def save_deposit(engine: sa.Engine, organization_id: str, deposit: Deposit) -> None:
    with engine.begin() as conn:
        conn.execute(
            cets_deposits.insert().values(
                organization_id=organization_id,
                pack_id=deposit.pack_id,
                entity_id=deposit.entity_id,
                month=deposit.month,
                folder=deposit.folder,
                ledger_index=deposit.ledger_index,
                files=json.dumps(deposit.files, sort_keys=True),
                findings=deposit.findings,
                deposited_on=deposit.deposited_on.isoformat(),
                created_at=datetime.now(UTC),
            )
        )


def deposits_of(engine: sa.Engine, organization_id: str, entity_id: str) -> list[Deposit]:
    """The entity's deposit packs, by month (a month deposited twice lists both)."""
    query = (
        sa.select(cets_deposits)
        .where(
            cets_deposits.c.organization_id == organization_id,
            cets_deposits.c.entity_id == entity_id,
        )
        .order_by(cets_deposits.c.month, cets_deposits.c.created_at)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        Deposit(
            r.pack_id,
            r.entity_id,
            r.month,
            r.folder,
            int(r.ledger_index),
            json.loads(r.files),
            int(r.findings),
            date.fromisoformat(r.deposited_on),
        )
        for r in rows
    ]
