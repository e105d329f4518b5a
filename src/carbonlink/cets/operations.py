"""China ETS month by month against the store: import, checks, deposit, calendar, allocation.

What the CLI (`carbonlink cets …`), the web pages and the demo share. The pure parts live in
`control_plan`, `monthly`, `plausibility`, `calendar`, `allocation`; this module reads and writes
the store (`carbonlink.store.cets`), keeps evidence in the store's documents, writes deposit packs
under ``<workspace>/cets/<entity>/`` and records them in the ledger.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from carbonlink.cets import calendar as cal
from carbonlink.cets.allocation import AllocationPosition, allocation_position
from carbonlink.cets.control_plan import ControlPlan, ProcessPlan, Role, SourceInfo, draft_plan
from carbonlink.cets.deposit import (
    DepositPack,
    EvidenceFile,
    build_deposit_pack,
    record_deposit_pack,
    verify_deposit_pack,
    zip_deposit_pack,
)
from carbonlink.cets.ledger_import import read_ledger
from carbonlink.cets.monthly import MonthEmissions, month_emissions, process_output, run_checks
from carbonlink.cets.plausibility import Finding, MonthTable
from carbonlink.cets.records import ParameterRecord
from carbonlink.domain.inventory import Inventory
from carbonlink.errors import CarbonlinkError, InputError
from carbonlink.ledger import Ledger
from carbonlink.ledger.note import Signer, Verifier
from carbonlink.ledger.receipt import VerifiedReceipt
from carbonlink.reports.cets_entities import PROCESS_NAMES, Entity
from carbonlink.store import cets as store
from carbonlink.store.repository import Store

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
DEPOSIT_FOLDER = "cets"
"""Deposit packs live in ``<workspace>/cets/<entity>/<month>-<n>/<pack id>/``."""


@dataclass
class ImportSummary:
    file_name: str
    stored: int = 0
    quarantined: list[tuple[int, str, dict[str, object], str]] = field(default_factory=list)
    evidence: int = 0


def plan_for_entity(entity: Entity, inventory: Inventory, *, laboratory: str = "") -> ControlPlan:
    """A draft control plan for ``entity`` from its processes (entities file) and the sources
    of its facilities (enterprise dataset); see `carbonlink.cets.control_plan.draft_plan`."""
    in_process = {s for p in entity.processes for s in p.sources}
    infos = [
        SourceInfo(
            id=source.id,
            method=str(source.method),
            fuel=source.fuel or source.material or source.product or "",
        )
        for facility in inventory.facilities
        if facility.id in entity.facilities
        for source in facility.sources
        if source.id in in_process or source.method in ("electricity", "heat")
    ]
    processes = [
        ProcessPlan(
            code=p.code,
            name=p.name or PROCESS_NAMES.get(p.code, p.code),
            units=p.units,
            sources=tuple(s for s in p.sources),
            output_unit=p.products[0].unit if p.products else "t",
        )
        for p in entity.processes
    ]
    return draft_plan(
        entity.id,
        entity.name,
        processes,
        infos,
        uscc=entity.uscc,
        boundary="、".join(entity.facility_names.get(f, f) for f in entity.facilities),
        laboratory=laboratory,
        roles=(
            Role(role="碳排放管理负责人", name=entity.legal_representative, duty="批准控制计划"),
            Role(role="碳排放管理员", name=entity.contact.name, duty="汇总月度参数，按月存证"),
            Role(role="能源计量员", duty="计量器具台账、检定校准"),
            Role(role="化验室主任", duty="采样、制样、化验，出具检测报告"),
        ),
    )


def plans_of(engine: sa.Engine, organization_id: str) -> dict[str, ControlPlan]:
    """The newest control plan of each entity of the organization."""
    out = {}
    for entity_id, _ in store.entities(engine, organization_id):
        latest = store.latest_control_plan(engine, organization_id, entity_id)
        if latest is not None:
            out[entity_id] = latest.plan
    return out


def import_ledger(
    engine: sa.Engine,
    organization_id: str,
    body: bytes,
    file_name: str,
    evidence: Mapping[str, bytes],
    who: str,
    *,
    origin: str = "ledger",
) -> ImportSummary:
    """Store a ledger workbook's rows (and the evidence files they cite); quarantine the rest.

    The workbook itself is kept in the store's documents. Importing it again stores the same
    records and quarantines the same rows once.
    """
    read = read_ledger(
        body, file_name, evidence=evidence, plans=plans_of(engine, organization_id), origin=origin
    )
    documents = Store(engine)
    documents.save_document(file_name, body, _media_type(file_name))
    for name, content in read.evidence.items():
        documents.save_document(name, content, _media_type(name))
    summary = ImportSummary(file_name)
    summary.stored = store.save_parameters(engine, organization_id, read.records, who)
    store.quarantine_rows(engine, organization_id, file_name, read.quarantined)
    summary.quarantined = read.quarantined
    summary.evidence = len(read.evidence)
    return summary


def save_form_record(
    engine: sa.Engine,
    organization_id: str,
    record: ParameterRecord,
    who: str,
    evidence: tuple[str, bytes] | None = None,
) -> ParameterRecord:
    """Store one value typed into the web form, with its evidence file when one is attached."""
    plan = plans_of(engine, organization_id).get(record.entity_id)
    if plan is None:
        raise InputError(
            f"entity {record.entity_id!r} has no control plan",
            record=record.entity_id,
            hint="save a control plan first (carbonlink cets plan)",
        )
    known = {s.id for s in plan.sources} | {p.code for p in plan.processes}
    if record.source not in known:
        raise InputError(
            f"source {record.source!r} is not in the control plan v{plan.version}",
            record=f"{record.entity_id} {record.month}",
            hint=f"use one of {', '.join(sorted(known))}",
        )
    if evidence is not None:
        name, body = evidence
        Store(engine).save_document(name, body, _media_type(name))
        record = ParameterRecord(
            **{
                **record.__dict__,
                "evidence_name": name,
                "evidence_sha256": hashlib.sha256(body).hexdigest(),
                "evidence_kind": "lab_report" if record.report_id else "ledger_scan",
            }
        )
    store.save_parameters(engine, organization_id, [record], who)
    return record


METER_UNITS = {
    ("kWh", "MWh"): 1e-3,
    ("MWh", "MWh"): 1.0,
    ("GJ", "GJ"): 1.0,
    ("MJ", "GJ"): 1e-3,
    ("t", "t"): 1.0,
    ("kg", "t"): 1e-3,
    ("Nm3", "10^4 Nm3"): 1e-4,
    ("m3", "10^4 Nm3"): 1e-4,
}
"""Unit of a meter's readings → unit the control plan gives the parameter: the factor."""


def derive_from_meter(
    engine: sa.Engine,
    organization_id: str,
    entity_id: str,
    source: str,
    parameter: str,
    meter_id: str,
    month: str,
    who: str,
) -> ParameterRecord:
    """The month's value of a metered parameter summed from an interval meter's readings.

    The month is the meter's local calendar month; an end-labelled reading stamped at local
    midnight on the 1st belongs to the month before. Readings × the meter's multiplier, in the
    plan's unit (`METER_UNITS`). The record names the meter and the count of readings; the
    readings keep their own import receipts in the ledger.
    """
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    latest = store.latest_control_plan(engine, organization_id, entity_id)
    planned = latest.plan.parameter(source, parameter) if latest else None
    if latest is None or planned is None:
        raise InputError(
            f"{source}/{parameter} is not in {entity_id}'s control plan",
            record=f"{entity_id} {month}",
            hint="save a control plan that meters this parameter first",
        )
    documents = Store(engine)
    meter = documents.meter(meter_id)
    facility = documents.facility(meter.facility_id) if meter and meter.facility_id else None
    if meter is None or (facility is not None and facility.organization_id != organization_id):
        raise InputError(f"no meter {meter_id!r}", record=meter_id)
    if meter.kind != "interval":
        raise InputError(
            f"meter {meter_id} is a {meter.kind} meter",
            record=meter_id,
            hint="derive from an interval meter (each reading the consumption of its interval)",
        )
    factor = METER_UNITS.get((meter.unit, planned.unit))
    if factor is None:
        raise InputError(
            f"meter {meter_id} reads {meter.unit}, the plan gives {parameter} in {planned.unit}",
            record=meter_id,
            hint="meter units carbonlink converts: "
            + ", ".join(sorted({a for a, _ in METER_UNITS})),
        )
    if not _MONTH.match(month):
        raise InputError(f"month {month!r} is not YYYY-MM", record=meter_id)
    zone = ZoneInfo(meter.time_zone)
    year, number = int(month[:4]), int(month[5:])
    start = datetime(year, number, 1, tzinfo=zone)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    if meter.labelling == "end":
        start, end = start + timedelta(microseconds=1), end + timedelta(microseconds=1)
    _, values = documents.series_values(meter_id, start, end)
    if len(values) == 0:
        raise InputError(
            f"meter {meter_id} has no readings in {month}",
            record=meter_id,
            hint="import the month's readings first",
        )
    total = float(np.sum(values)) * meter.multiplier * factor
    record = ParameterRecord(
        entity_id=entity_id,
        month=month,
        source=source,
        parameter=parameter,
        value=total,
        unit=planned.unit,
        standard=f"meter {meter_id}: {len(values)} readings summed over {month} "
        f"({meter.time_zone})",
        origin="meter",
    )
    store.save_parameters(engine, organization_id, [record], who)
    return record


def _media_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return {
        ".pdf": "application/pdf",
        ".png": "image/png",
        ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg",
        ".html": "text/html",
        ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }.get(suffix, "application/octet-stream")


def _rows(records: Sequence[ParameterRecord]) -> list[dict[str, object]]:
    return [r.as_table_row() | {"sample_count": r.sample_count} for r in records]


def year_records(
    engine: sa.Engine, organization_id: str, entity_id: str, year: int
) -> list[ParameterRecord]:
    months = [f"{year:04d}-{m:02d}" for m in range(1, 13)]
    return store.parameters_of(engine, organization_id, entity_id, months)


def findings_of(
    engine: sa.Engine, organization_id: str, entity_id: str, year: int
) -> list[Finding]:
    """Every check's findings over the entity's records of ``year`` (and December before, so
    January's month-to-month change is checked too)."""
    plan = store.latest_control_plan(engine, organization_id, entity_id)
    records = year_records(engine, organization_id, entity_id, year)
    before = store.parameters_of(engine, organization_id, entity_id, [f"{year - 1:04d}-12"])
    found = run_checks(plan.plan if plan else None, _rows(before + records))
    return [f for f in found if f.month.startswith(f"{year:04d}-")]


def deposit_month(
    engine: sa.Engine,
    workspace: Path,
    signer: Signer,
    organization_id: str,
    entity_id: str,
    month: str,
    *,
    deposited_on: date,
    summary_pdf: bool = True,
) -> store.Deposit:
    """Build the month's deposit pack from the store, receipt it in the ledger, save it.

    Checks run over the year up to the month (so the month-to-month rule sees the month
    before); the pack holds the month's findings. A month deposited again (a correction) gets a
    new pack in a new folder; the first stays as it was receipted.
    """
    year = int(month[:4])
    records = store.parameters_of(engine, organization_id, entity_id, [month])
    if not records:
        raise InputError(
            f"no parameters recorded for {entity_id} {month}",
            record=f"{entity_id} {month}",
            hint="import the month's ledger or enter its values first",
        )
    found = [f for f in findings_of(engine, organization_id, entity_id, year) if f.month == month]
    table = MonthTable.from_records(_rows(records))
    documents = Store(engine)
    earlier = [d for d in store.deposits_of(engine, organization_id, entity_id) if d.month == month]
    base = workspace / DEPOSIT_FOLDER / entity_id / f"{month}-{len(earlier) + 1}"
    with tempfile.TemporaryDirectory() as scratch:
        evidence = _evidence_files(documents, records, Path(scratch))
        extra = _summary(entity_id, month, records, found, Path(scratch), pdf=summary_pdf)
        pack = build_deposit_pack(
            base,
            entity=entity_id,
            month=month,
            table=table,
            evidence=evidence,
            findings=found,
            documents=extra,
        )
    index, _ = record_deposit_pack(Ledger(engine), signer, pack)
    zip_deposit_pack(pack.folder)
    deposit = store.Deposit(
        pack.pack_id,
        entity_id,
        month,
        str(pack.folder.relative_to(workspace)),
        index,
        pack.files,
        len(found),
        deposited_on,
    )
    store.save_deposit(engine, organization_id, deposit)
    return deposit


def _evidence_files(
    documents: Store, records: Sequence[ParameterRecord], folder: Path
) -> list[EvidenceFile]:
    """One evidence file per name, written from the store, naming every value it backs."""
    backs: dict[str, list[ParameterRecord]] = defaultdict(list)
    for r in records:
        if r.evidence_sha256:
            backs[r.evidence_name].append(r)
    out = []
    for name, items in sorted(backs.items()):
        kept = documents.document(items[0].evidence_sha256)
        path = folder / Path(name).name
        path.write_bytes(kept.body)
        first = items[0]
        out.append(
            EvidenceFile(
                path=path,
                source=";".join(sorted({r.source for r in items})),
                parameter=";".join(sorted({r.parameter for r in items})),
                kind=first.evidence_kind or "ledger_scan",
                report_id=first.report_id,
                accreditation=first.accreditation,
                sample_id=";".join(sorted({r.sample_id for r in items if r.sample_id})),
                sample_date=first.sample_date,
                standard=";".join(sorted({r.standard for r in items if r.standard})),
            )
        )
    return out


def _summary(
    entity_id: str,
    month: str,
    records: Sequence[ParameterRecord],
    findings: Sequence[Finding],
    folder: Path,
    *,
    pdf: bool,
) -> list[Path]:
    """The pack's summary in Chinese: ``summary.html`` always, ``summary.pdf`` when asked
    (a PDF costs about a second to lay out; the HTML page is the same content)."""
    from carbonlink.reports.cets_reports import deposit_summary_document
    from carbonlink.reports.render import write_report

    document = deposit_summary_document(entity_id, month, records, findings)
    paths = [write_report(document, folder / "summary.html", "html")]
    if pdf:
        paths.append(write_report(document, folder / "summary.pdf", "pdf"))
    return paths


def pack_folder(workspace: Path, deposit: store.Deposit) -> Path:
    """The deposit's folder, refused when the stored path leaves the workspace's cets folder."""
    root = (workspace / DEPOSIT_FOLDER).resolve()
    folder = (workspace / deposit.folder).resolve()
    if not folder.is_relative_to(root):
        raise InputError(f"deposit folder {deposit.folder} lies outside {root}")
    return folder


def verify_deposit(workspace: Path, deposit: store.Deposit, log_key: Verifier) -> VerifiedReceipt:
    """Check a stored deposit's pack against its receipt (ReceiptError naming a changed file)."""
    return verify_deposit_pack(pack_folder(workspace, deposit), log_key)


def calendar_status(
    engine: sa.Engine,
    organization_id: str,
    entity_id: str,
    year: int,
    today: date,
    *,
    sector: str = "steel",
    extra_done: Mapping[tuple[cal.ObligationKind, str], date] | None = None,
) -> tuple[cal.ObligationStatus, ...]:
    """The entity's obligations for ``year`` with what is done (its deposits) on ``today``."""
    obligations = cal.compliance_calendar(entity_id, sector, year)
    kind_of = {o.period: o.kind for o in obligations if len(o.period) == 7}
    done: dict[tuple[cal.ObligationKind, str], date] = dict(extra_done or {})
    for deposit in store.deposits_of(engine, organization_id, entity_id):
        kind = kind_of.get(deposit.month)
        if kind is not None:
            key = (kind, deposit.month)
            done[key] = min(done.get(key, deposit.deposited_on), deposit.deposited_on)
    return cal.compliance_status(obligations, done, today)


def deadline_events(
    entity_id: str, statuses: Sequence[cal.ObligationStatus], days: int, today: date
) -> list[object]:
    """Alert events for obligations not done whose deadline is ``days`` days away or less."""
    from carbonlink.monitor.rules import AlertEvent

    out: list[object] = []
    for status in cal.due_within(tuple(statuses), days):
        o = status.obligation
        overdue = status.days_left < 0
        out.append(
            AlertEvent(
                rule_id=f"cets-{o.kind.value}-{o.period}",
                meter_id=entity_id,
                action="opened",
                ts=np.datetime64(today.isoformat(), "ns"),
                value=float(status.days_left),
                severity="critical" if overdue else "warning",
                message=(
                    f"China ETS {o.kind.value.replace('_', ' ')} {o.period} of {entity_id}: "
                    + (
                        f"overdue since {o.due.isoformat()}"
                        if overdue
                        else f"due {o.due.isoformat()} ({status.days_left} days left)"
                    )
                ),
            )
        )
    return out


def notify_deadlines(
    engine: sa.Engine, organization_id: str, events: Sequence[object], *, key: bytes
) -> list[tuple[str, str, str]]:
    """Send the events through every enabled alert channel, whose secrets open with the
    service ``key``; (channel, event, error or "")."""
    from carbonlink.api.notifications import SEVERITY_RANK, deliver
    from carbonlink.monitor.notify import NotificationError
    from carbonlink.monitor.rules import AlertEvent
    from carbonlink.store import operations

    sent = []
    for channel in operations.alert_channels_of(engine, organization_id, key=key):
        if not channel.enabled:
            continue
        for event in events:
            assert isinstance(event, AlertEvent)
            if SEVERITY_RANK.get(event.severity, 1) < SEVERITY_RANK.get(channel.min_severity, 1):
                continue
            try:
                deliver(engine, organization_id, channel, event, key=key)
                sent.append((channel.name, event.rule_id, ""))
            except NotificationError as exc:
                sent.append((channel.name, event.rule_id, str(exc)))
    return sent


@dataclass(frozen=True)
class EntityYear:
    """What the year's records give: emissions per month, output per process, allocation."""

    emissions: list[MonthEmissions]
    output_t: dict[str, float]
    position: AllocationPosition | None
    position_error: str


def entity_year(
    engine: sa.Engine,
    organization_id: str,
    entity_id: str,
    year: int,
    *,
    price: float,
    intensity: Mapping[str, float] | None = None,
    intensity_source: str = "",
) -> EntityYear:
    """Direct CO2 and output from the year's records, and the allocation position at ``price``.

    The position is None (with the reason) when the rule needs intensities not given.
    """
    latest = store.latest_control_plan(engine, organization_id, entity_id)
    if latest is None:
        return EntityYear([], {}, None, "no control plan")
    rows = _rows(year_records(engine, organization_id, entity_id, year))
    emissions = month_emissions(latest.plan, rows)
    output = process_output(latest.plan, rows)
    total = sum(m.tco2 for m in emissions)
    covered = {k: v for k, v in output.items() if intensity is None or k in intensity}
    try:
        position = allocation_position(
            year,
            total,
            price,
            output_t=covered,
            intensity=intensity,
            intensity_source=intensity_source,
        )
    except CarbonlinkError as exc:
        return EntityYear(emissions, output, None, str(exc))
    return EntityYear(emissions, output, position, "")


__all__ = [
    "DepositPack",
    "ImportSummary",
    "calendar_status",
    "deposit_month",
    "entity_year",
    "findings_of",
    "import_ledger",
    "verify_deposit",
]
