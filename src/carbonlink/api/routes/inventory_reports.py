"""POST /api/v1/inventories/report: an inventory's report (ISO 14064-1, China, reconciliation).

The same report `carbonlink report inventory|china|reconcile` writes, from the same checks: an
inventory without sources or with every emission zero is refused (422), a period beyond the
factor vintages is warned of in the report. Sources whose activity names a meter take the sum of
that meter's stored readings over the period; the meter must belong to the caller's
organization (else 404, as for any record of another organization).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from carbonlink.api.deps import Context, Reader
from carbonlink.api.problems import NotFoundError, problem_responses
from carbonlink.api.routes.inventories import INVENTORY_EXAMPLE
from carbonlink.api.routes.v1 import PREFIX
from carbonlink.domain.inventory import Inventory

router = APIRouter(prefix=PREFIX)

MEDIA_TYPES = {
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class ReportRequest(BaseModel):
    """An inventory document and, for the ISO 14064-1 report, what the organization states."""

    model_config = ConfigDict(extra="forbid")

    inventory: Inventory
    statement: dict[str, Any] | None = Field(
        default=None,
        examples=[{"responsible": {"name": "Wang Li", "role": "Head of energy"}}],
        description="The ISO 14064-1 statement (the fields of the statement YAML, see "
        "docs/reports.md); items left out are printed as 'not provided'.",
    )


REPORT_EXAMPLE = {
    "inventory": INVENTORY_EXAMPLE,
    "statement": {
        "responsible": {"name": "Wang Li", "role": "Head of energy and environment"},
        "report": {"date": "2026-03-31", "version": "1.0"},
        "conformity": "Prepared in accordance with ISO 14064-1:2018, clause 9.",
        "verification": {"status": "verification planned", "level_of_assurance": "limited"},
    },
}


def _check_meters(ctx: Context, organization_id: str, inventory: Inventory) -> None:
    """Every meter named by the inventory must be one of the caller's organization."""
    for facility in inventory.facilities:
        for source in facility.sources:
            meter = source.activity.meter if source.activity else None
            if meter is not None and ctx.data.meter(organization_id, meter) is None:
                raise NotFoundError(
                    f"meter '{meter}' not found in your organization",
                    record=f"facility {facility.id}, source {source.id}",
                    hint="name one of your meters (GET /api/v1/meters) or give a quantity",
                )


@router.post(
    "/inventories/report",
    response_class=Response,
    responses={
        200: {
            "description": "The report file in the format asked for.",
            "content": {media: {} for media in MEDIA_TYPES.values()},
        },
        **problem_responses(400, 401, 403, 404, 422),
    },
    tags=["inventory"],
)
def inventory_report(
    body: Annotated[ReportRequest, Body(openapi_examples={"one plant": {"value": REPORT_EXAMPLE}})],
    caller: Reader,
    ctx: Context,
    kind: Annotated[
        Literal["inventory", "china", "reconcile"],
        Query(description="Which report.", examples=["inventory"]),
    ] = "inventory",
    output_format: Annotated[
        Literal["json", "html", "pdf", "xlsx"],
        Query(alias="format", description="File format of the report.", examples=["pdf"]),
    ] = "json",
    base_year: Annotated[
        int | None,
        Query(description="Base year (inventory report; a year after the period is refused).",
              examples=[2025]),
    ] = None,
    allow_zero: Annotated[
        bool,
        Query(description="Report an inventory whose every emission is zero, with a warning.",
              examples=[False]),
    ] = False,
) -> Response:  # fmt: skip
    """Account an inventory (metered sources from the organization's readings) and report it.

    Returns the report file. Warnings (factor vintages the period has outrun, facilities
    without sources, a zero inventory reported with ``allow_zero``) are printed in the report.
    """
    from carbonlink.domain.engine import account
    from carbonlink.domain.factors import default_library
    from carbonlink.ingest.metered_activity import has_metered_activity, resolve_metered_activity
    from carbonlink.reports.checks import (
        attach_checks,
        check_not_empty,
        check_not_zero,
        factor_vintages,
    )
    from carbonlink.reports.china import build_china_report
    from carbonlink.reports.inventory import build_inventory_report
    from carbonlink.reports.iso_statement import Statement, parse_statement
    from carbonlink.reports.reconcile import build_reconciliation
    from carbonlink.reports.render import write_report
    from carbonlink.store import Store

    where = "request body"
    inventory = body.inventory
    warnings = check_not_empty(inventory, file=where)
    if has_metered_activity(inventory):
        _check_meters(ctx, caller.organization_id, inventory)
        inventory, _ = resolve_metered_activity(inventory, Store(ctx.engine), save=False)
    result = account(inventory, file=where)
    warnings += check_not_zero(result, file=where, allow_zero=allow_zero)
    vintages = factor_vintages(inventory, result, default_library())
    if kind == "inventory":
        statement: Statement | None = None
        if body.statement is not None:
            statement = parse_statement(json.dumps(body.statement), file="statement")
        document = build_inventory_report(
            inventory, result, base_year=base_year, statement=statement, source_file=where
        )
    elif kind == "china":
        document = build_china_report(inventory, result, source_file=where)
    else:
        document = build_reconciliation(inventory, result, source_file=where)
    attach_checks(document, warnings, vintages)
    with tempfile.TemporaryDirectory(prefix="carbonlink-report-") as folder:
        path = write_report(document, Path(folder) / f"{kind}.{output_format}", output_format)
        content = path.read_bytes()
    return Response(
        content,
        media_type=MEDIA_TYPES[output_format],
        headers={"Content-Disposition": f'attachment; filename="{kind}.{output_format}"'},
    )
