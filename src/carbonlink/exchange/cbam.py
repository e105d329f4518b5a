"""CBAM communications published for customers and served on the PACT host with receipts.

An installation operator publishes its (verified) CBAM communication under a name of its
choosing; the store keeps carbonlink's communication JSON and the Catena-X CBAM JSON exactly as
it will be served. The PACT host answers a partner of the organization, authenticated as for
footprints (OAuth2 client credentials, bearer token), at

- ``GET /cbam/communications`` — the list (id, installation, period, status, CN codes);
- ``GET /cbam/communications/{id}`` — the Catena-X CBAM JSON, with its ledger receipt in the
  ``Carbonlink-Receipt`` header (base64 of the c2sp.org/tlog-proof file);
- ``GET /cbam/communications/{id}/receipt`` — the same receipt as a file.

Each version of a published document is one ``report`` ledger entry (kind ``cbam-catenax``)
naming the file ``{id}.catenax-cbam.json`` with its SHA-256; a customer checks what it received
with ``carbonlink verify RECEIPT {id}.catenax-cbam.json --key ledger.vkey``. Every active
partner of the organization may read its published communications: publishing is the operator's
decision to hand them to its customers.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine, select

from carbonlink.errors import InputError
from carbonlink.exchange.schema import cbam_communications
from carbonlink.ledger import ConcurrentWriterError, Ledger, make_receipt
from carbonlink.ledger.entries import report_entry
from carbonlink.ledger.note import Signer
from carbonlink.ledger.receipt import Receipt

COMMUNICATION_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,127}$")
RECEIPT_HEADER = "Carbonlink-Receipt"
INDEX_HEADER = "Carbonlink-Ledger-Index"
REPORT_KIND = "cbam-catenax"


@dataclass(frozen=True)
class PublishedCbam:
    """A published communication of one organization."""

    organization_id: str
    id: str
    installation: str
    period_start: str
    period_end: str
    status: str
    communication: str
    catenax: str
    catenax_sha256: str
    published_at: datetime

    @property
    def file_name(self) -> str:
        """The name the served JSON is receipted under."""
        return f"{self.id}.catenax-cbam.json"

    @property
    def report_id(self) -> str:
        return f"cbam-catenax:{self.organization_id}:{self.id}"

    def cn_codes(self) -> list[str]:
        try:
            return [g["cn_code"] for g in json.loads(self.communication).get("goods", [])]
        except (ValueError, AttributeError, TypeError, KeyError):
            return []


def publish(
    engine: Engine,
    organization_id: str,
    communication_id: str,
    communication: dict[str, Any],
    *,
    now: datetime | None = None,
) -> PublishedCbam:
    """Publish (or republish) a communication and its Catena-X JSON; idempotent on content."""
    from carbonlink.reports.cbam_catenax import to_catenax

    if not COMMUNICATION_ID.match(communication_id):
        raise InputError(
            f"communication id {communication_id!r} is not allowed",
            hint="use lower-case letters, digits, '.', '_' and '-' (at most 128)",
        )
    catenax = json.dumps(to_catenax(communication), ensure_ascii=False, sort_keys=True)
    row = {
        "organization_id": organization_id,
        "id": communication_id,
        "installation": communication["installation"]["name"],
        "period_start": communication["reporting_period"]["start"],
        "period_end": communication["reporting_period"]["end"],
        "status": communication.get("status") or "not verified",
        "communication": json.dumps(communication, ensure_ascii=False, sort_keys=True),
        "catenax": catenax,
        "catenax_sha256": hashlib.sha256(catenax.encode()).hexdigest(),
        "published_at": now or datetime.now(UTC),
    }
    table = cbam_communications
    with engine.begin() as connection:
        old = connection.execute(
            select(table.c.catenax_sha256, table.c.communication).where(
                table.c.organization_id == organization_id, table.c.id == communication_id
            )
        ).one_or_none()
        if old is None:
            connection.execute(table.insert().values(**row))
        elif (old.catenax_sha256, old.communication) != (
            row["catenax_sha256"],
            row["communication"],
        ):
            connection.execute(
                table.update()
                .where(table.c.organization_id == organization_id, table.c.id == communication_id)
                .values(**row)
            )
    found = published(engine, organization_id, communication_id)
    assert found is not None
    return found


def _row(row: Any) -> PublishedCbam:
    return PublishedCbam(**{name: getattr(row, name) for name in PublishedCbam.__annotations__})


def listed(engine: Engine, organization_id: str) -> list[PublishedCbam]:
    """The organization's published communications, by id."""
    table = cbam_communications
    query = select(table).where(table.c.organization_id == organization_id).order_by(table.c.id)
    with engine.connect() as connection:
        return [_row(r) for r in connection.execute(query)]


def published(engine: Engine, organization_id: str, communication_id: str) -> PublishedCbam | None:
    """One published communication, or None."""
    table = cbam_communications
    query = select(table).where(
        table.c.organization_id == organization_id, table.c.id == communication_id
    )
    with engine.connect() as connection:
        row = connection.execute(query).one_or_none()
    return None if row is None else _row(row)


def receipt_of(
    ledger: Ledger, document: PublishedCbam, signer: Signer | None
) -> tuple[int, Receipt]:
    """The ledger entry of the served JSON (appended once per version) and its receipt."""
    subject = f"report:{document.report_id}"
    index = next(
        (
            e.index
            for e in reversed(ledger.find(subject))
            if e.content().get("files", {}).get(document.file_name) == document.catenax_sha256
        ),
        None,
    )
    if index is None:
        index = ledger.append(
            report_entry(
                document.report_id,
                report_kind=REPORT_KIND,
                files={document.file_name: document.catenax_sha256},
            )
        )
    return index, make_receipt(ledger, index, signer)


def add_cbam_routes(
    app: FastAPI,
    engine: Engine,
    authorised: Callable[[Request], Any],
    signer: Callable[[], Signer | None],
    error: type[Exception],
) -> None:
    """Add the CBAM routes to a PACT host (``error`` is the host's PactError)."""

    def receipted(document: PublishedCbam) -> tuple[int, Receipt]:
        ledger = Ledger(engine)
        for _attempt in range(3):
            try:
                return receipt_of(ledger, document, signer())
            except ConcurrentWriterError:
                continue
        raise error("InternalError", "the ledger is busy; try again")

    async def owned(request: Request, communication_id: str) -> PublishedCbam:
        partner = await asyncio.to_thread(authorised, request)
        found = await asyncio.to_thread(published, engine, partner.owner, communication_id)
        if found is None:
            raise error("NotFound", f"no CBAM communication {communication_id}")
        return found

    @app.get("/cbam/communications")
    async def cbam_list(request: Request) -> JSONResponse:
        partner = await asyncio.to_thread(authorised, request)
        rows = await asyncio.to_thread(listed, engine, partner.owner)
        return JSONResponse(
            {
                "data": [
                    {
                        "id": r.id,
                        "installation": r.installation,
                        "periodStart": r.period_start,
                        "periodEnd": r.period_end,
                        "status": r.status,
                        "cnCodes": r.cn_codes(),
                        "sha256": r.catenax_sha256,
                    }
                    for r in rows
                ]
            }
        )

    @app.get("/cbam/communications/{communication_id}")
    async def cbam_document(request: Request, communication_id: str) -> Response:
        document = await owned(request, communication_id)
        index, receipt = await asyncio.to_thread(receipted, document)
        return Response(
            document.catenax.encode(),
            media_type="application/json",
            headers={
                RECEIPT_HEADER: base64.b64encode(receipt.to_bytes()).decode("ascii"),
                INDEX_HEADER: str(index),
                "Content-Disposition": f'inline; filename="{document.file_name}"',
            },
        )

    @app.get("/cbam/communications/{communication_id}/receipt")
    async def cbam_receipt(request: Request, communication_id: str) -> Response:
        document = await owned(request, communication_id)
        _index, receipt = await asyncio.to_thread(receipted, document)
        return Response(
            receipt.to_bytes(),
            media_type="text/plain; charset=us-ascii",
            headers={"Content-Disposition": f'attachment; filename="{document.id}.tlog-proof"'},
        )
