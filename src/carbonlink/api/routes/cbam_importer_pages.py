"""The EU importer's CBAM page: customs lines and their matching, the declaration, certificates.

``GET /cbam/importer`` shows the organization's customs lines with how each was matched (the
supplier's communication or a default value, and why), the quarantined rows, the declaration of
the chosen year (embedded emissions, free allocation adjustment, carbon price deduction,
certificates to surrender), the quarterly holding and the cost at the entered prices and under a
price the user sets. The forms post a customs file, a communication and a quarter's price.
Stored values that no longer read give a message on the page, never a server error.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from carbonlink.api.deps import Context
from carbonlink.api.routes.pages import _form_writer, _page_caller, _render
from carbonlink.api.security import Principal
from carbonlink.errors import CarbonlinkError, InputError

router = APIRouter(include_in_schema=False)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
PAGE = "/cbam/importer"
T = TypeVar("T")
DEFINITIVE_FROM = 2026
"""The first year declared; earlier years went into the transitional quarterly reports."""


Writer = Annotated[Principal, Depends(_form_writer)]
"""The caller, refused (403) for a wrong CSRF token or without write before fields validate."""


async def _read_upload(upload: UploadFile) -> bytes:
    content = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise InputError(
            "the file is larger than 5 MB", record=upload.filename or "upload", hint="split it"
        )
    return content


@router.get(PAGE)
def importer_page(
    request: Request,
    ctx: Context,
    year: Annotated[int | None, Query(ge=2023, le=2100)] = None,
    price: Annotated[float | None, Query(ge=0, le=10_000)] = None,
    imported: Annotated[str | None, Query(max_length=300)] = None,
    error: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    from carbonlink.cbam_import.declaration import (
        Communication,
        PriceEntry,
        declare,
        prices_with_shipped,
    )
    from carbonlink.cbam_import.lines import QuarantinedLine
    from carbonlink.cbam_import.store import (
        LineRecord,
        communications,
        load_lines,
        prices,
        quarantined,
    )

    caller = _page_caller(request, ctx)
    org = caller.organization_id
    problems: list[str] = []

    def safely(read: Callable[[], T], empty: T, what: str) -> T:
        # A value edited by hand in the database shows as a message, never as a server error.
        try:
            return read()
        except (CarbonlinkError, ValueError, KeyError, TypeError) as exc:
            problems.append(f"{what} could not be read: {exc}")
            return empty

    records = safely(
        lambda: load_lines(ctx.engine, org), list[LineRecord](), "stored customs lines"
    )
    found = safely(
        lambda: communications(ctx.engine, org),
        dict[str, Communication](),
        "a stored communication",
    )
    entered = safely(
        lambda: prices(ctx.engine, org), list[PriceEntry](), "a stored certificate price"
    )
    held = safely(
        lambda: quarantined(ctx.engine, org), list[QuarantinedLine](), "a quarantined row"
    )
    all_prices = prices_with_shipped(entered)
    years = sorted({r.line.year for r in records})
    chosen = year or (years[-1] if years else max(2026, date.today().year))
    declaration: Any = None
    if chosen >= DEFINITIVE_FROM:
        try:
            declaration = declare(
                chosen, [r.line for r in records], found, all_prices, projected_price_eur=price
            )
        except CarbonlinkError as exc:
            problems.append(str(exc))
    transitional = sorted({(r.line.year, r.line.quarter) for r in records if r.line.year <= 2025})
    return _render(
        request,
        ctx,
        "cbam_importer.html",
        caller,
        nav="cbam-importer",
        records=records,
        by_key={g.line.key: g for g in declaration.lines} if declaration else {},
        quarantine=held,
        communications=found,
        prices=all_prices,
        entered={(p.year, p.quarter) for p in entered},
        years=years,
        year=chosen,
        price=price,
        declaration=declaration,
        transitional=transitional,
        imported=imported,
        error=error,
        problems=problems,
    )


@router.post(f"{PAGE}/lines")
async def upload_lines(
    caller: Writer,
    ctx: Context,
    file: UploadFile,
) -> Response:
    from carbonlink.cbam_import.lines import read_lines
    from carbonlink.cbam_import.store import save_lines

    name = Path(file.filename or "lines.csv").name
    try:
        content = await _read_upload(file)
        with tempfile.TemporaryDirectory(prefix="carbonlink-cbam-") as tmp:
            path = Path(tmp) / name
            path.write_bytes(content)
            summary = save_lines(ctx.engine, caller.organization_id, read_lines(path))
    except CarbonlinkError as exc:
        return RedirectResponse(f"{PAGE}?error={_q(str(exc))}", status_code=303)
    text = (
        f"{summary.source}: {summary.inserted} / {summary.unchanged} / {summary.changed} / "
        f"{summary.quarantined}"
    )
    return RedirectResponse(f"{PAGE}?imported={_q(text)}", status_code=303)


@router.post(f"{PAGE}/communications")
async def upload_communication(
    caller: Writer,
    ctx: Context,
    installation_id: Annotated[str, Form(min_length=1, max_length=128)],
    file: UploadFile,
) -> Response:
    from carbonlink.cbam_import.store import save_communication

    try:
        content = await _read_upload(file)
        try:
            document = json.loads(content)
        except ValueError:
            raise InputError(
                "the communication is not JSON",
                record=file.filename or "upload",
                hint="upload the JSON communication carbonlink wrote",
            ) from None
        if not isinstance(document, dict):
            raise InputError("the communication is not a JSON object", record=installation_id)
        save_communication(ctx.engine, caller.organization_id, installation_id.strip(), document)
    except CarbonlinkError as exc:
        return RedirectResponse(f"{PAGE}?error={_q(str(exc))}", status_code=303)
    return RedirectResponse(PAGE, status_code=303)


@router.post(f"{PAGE}/prices")
def enter_price(
    caller: Writer,
    ctx: Context,
    year: Annotated[int, Form(ge=2026, le=2100)],
    quarter: Annotated[int, Form(ge=1, le=4)],
    price_eur: Annotated[float, Form(gt=0, le=10_000)],
    published: Annotated[str, Form(max_length=10)] = "",
    source: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    from carbonlink.cbam_import.declaration import PriceEntry
    from carbonlink.cbam_import.store import save_price

    try:
        day = date.fromisoformat(published) if published else None
    except ValueError:
        return RedirectResponse(
            f"{PAGE}?error={_q(f'publication date {published!r} is not YYYY-MM-DD')}",
            status_code=303,
        )
    save_price(
        ctx.engine, caller.organization_id, PriceEntry(year, quarter, price_eur, day, source)
    )
    return RedirectResponse(f"{PAGE}?year={year}", status_code=303)


def _q(text: str) -> str:
    from urllib.parse import quote

    return quote(text[:450], safe="")
