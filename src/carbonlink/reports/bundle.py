"""Every accounting report of one inventory in every format (the demo and dashboard offer them)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from carbonlink.domain.engine import Computation
from carbonlink.domain.inventory import Inventory
from carbonlink.reports.cets_entities import Entity
from carbonlink.reports.china import build_china_report
from carbonlink.reports.china_2025 import build_china_2025_reports
from carbonlink.reports.inventory import build_inventory_report
from carbonlink.reports.iso_statement import Statement
from carbonlink.reports.reconcile import build_reconciliation
from carbonlink.reports.render import ReportFormat, write_report

REPORT_NAMES = {
    "inventory": "GHG inventory",
    "china": "China guideline report",
    "reconcile": "reconciliation",
}


def build_reports(
    inventory: Inventory,
    result: Computation,
    *,
    source_file: str | None = None,
    uncertainty: dict[str, Any] | None = None,
    cbam: dict[str, Any] | Sequence[dict[str, Any]] | None = None,
    statement: Statement | None = None,
    entities: tuple[Entity, ...] = (),
) -> dict[str, dict[str, Any]]:
    """The inventory, China and reconciliation documents of one computation.

    ``uncertainty`` is an inventory report's uncertainty section (`uncertainty_section`),
    ``cbam`` the CBAM communication of one of the inventory's facilities (or one per
    installation, each reconciled with its facility), ``statement`` what
    the organization states for ISO 14064-1. With ``entities`` the China report follows the
    2025 steel guideline, one report per legal entity (``china-<entity id>``); without, the
    2013 guideline's report of the whole inventory.
    """
    documents = {
        "inventory": build_inventory_report(
            inventory,
            result,
            source_file=source_file,
            uncertainty=uncertainty,
            statement=statement,
        )
    }
    if entities:
        for document in build_china_2025_reports(
            entities, inventory, result, source_file=source_file
        ):
            documents[f"china-{document['entity_id']}"] = document
    else:
        documents["china"] = build_china_report(inventory, result, source_file=source_file)
    documents["reconcile"] = build_reconciliation(
        inventory, result, source_file=source_file, cbam=cbam, entities=entities
    )
    return documents


def write_reports(
    inventory: Inventory,
    result: Computation,
    folder: Path,
    *,
    source_file: str | None = None,
    uncertainty: dict[str, Any] | None = None,
    cbam: dict[str, Any] | Sequence[dict[str, Any]] | None = None,
    entities: tuple[Entity, ...] = (),
    formats: tuple[ReportFormat, ...] = tuple(ReportFormat),
    statement: Statement | None = None,
) -> dict[str, Path]:
    """Write every report in every format into ``folder``; label → path of each file."""
    written: dict[str, Path] = {}
    documents = build_reports(
        inventory,
        result,
        source_file=source_file,
        uncertainty=uncertainty,
        cbam=cbam,
        statement=statement,
        entities=entities,
    )
    for kind, document in documents.items():
        name = REPORT_NAMES.get(kind) or f"China national ETS report, {document['organization']}"
        for fmt in formats:
            path = write_report(document, folder / f"{kind}.{fmt.value}", fmt)
            written[f"{name} ({fmt.value.upper()})"] = path
    return written
