"""The batch passport: what a batch is, who made it, its footprint, and the ledger's proof.

A passport has two parts, each an RFC 8785 canonical JSON object:

- **public** — for anyone who scans the coil: the batch and its identifiers (GS1 Digital Link,
  Handle), the product (URNs, classification), the producer and facility, the declared unit and
  the PCF (with and without biogenic uptake, the fossil/biogenic split, the breakdown by kind of
  input, the primary-data share and the data quality ratings), the EU CBAM specific embedded
  emissions where the product is a CBAM good, the predecessor batches, the number of supplier
  footprints it rests on, and an attestation slot for a credential issued later;
- **restricted** — for signed-in users of the producing organization: the batch's quantity and
  total, the contribution of every input, the supplier footprints in detail (PACT id, supplier,
  SHA-256 of the received document) and where the record came from.

On issue, the SHA-256 of both parts is recorded in the ledger as a report entry (kind
``batch-passport``, one file name per part) and a checkpoint is signed; the receipt
(c2sp.org/tlog-proof) is kept with the passport. Anyone holding the public part and the receipt
can check, offline and with the log's public key only, that this exact document was issued
(`verify_passport`). `passport_document` returns the document as a plain dict, so another
module can wrap it (e.g. in a verifiable credential) as it is.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from carbonlink.batches.identifiers import handle_path
from carbonlink.batches.store import Batch, BatchStore, StoredPassport
from carbonlink.domain.cbam import CbamInstallationData, CbamResult
from carbonlink.domain.footprint import Product
from carbonlink.errors import InputError
from carbonlink.exchange.pact import parse_product_footprint, supplier_footprint
from carbonlink.exchange.repository import ExchangeRepository
from carbonlink.footprints.store import ProductStore, StoredFootprint
from carbonlink.ledger.entries import canonical_json, report_entry, sha256_bytes
from carbonlink.ledger.errors import ReceiptError
from carbonlink.ledger.log import Ledger
from carbonlink.ledger.note import Signer, Verifier
from carbonlink.ledger.receipt import Receipt, VerifiedReceipt, make_receipt, verify_receipt

PASSPORT_TYPE = "carbonlink.batch-passport"
PASSPORT_VERSION = 1
REPORT_KIND = "batch-passport"
PUBLIC_SUFFIX = ".passport.json"
RESTRICTED_SUFFIX = ".passport-restricted.json"
PASSPORT_JSON_TYPE = "application/vnd.carbonlink.batch-passport+json"


@dataclass(frozen=True, slots=True)
class Producer:
    """The organization that made the batch, as the passport names it."""

    name: str
    ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CbamSee:
    """Specific embedded emissions of the CBAM good a product is (t CO2e per t of good)."""

    cn_code: str
    good: str
    installation: str
    unlocode: str
    process: str
    see_direct: float
    see_indirect: float
    period_start: str
    period_end: str

    def as_json(self) -> dict[str, Any]:
        return {
            "cnCode": self.cn_code,
            "good": self.good,
            "installation": self.installation,
            "unlocode": self.unlocode,
            "productionProcess": self.process,
            "seeDirect": self.see_direct,
            "seeIndirect": self.see_indirect,
            "seeTotal": self.see_direct + self.see_indirect,
            "unit": "t CO2e / t",
            "reportingPeriod": {"start": self.period_start, "end": self.period_end},
        }


def cbam_see_for(
    product: Product, results: Sequence[tuple[CbamInstallationData, CbamResult]]
) -> CbamSee | None:
    """The SEE of the CBAM good whose CN code falls under the product's HS classification.

    The product's ``urn:pact:productclassification:hs:<code>`` (6 digits) is compared with the
    first six digits of each good's 8-digit CN code; None when no installation makes such a good.
    """
    prefix = "urn:pact:productclassification:hs:"
    codes = [c.removeprefix(prefix)[:6] for c in product.classifications if c.startswith(prefix)]
    for data, result in results:
        for process in data.processes:
            for good in process.goods:
                if good.cn_code[:6] in codes and process.id in result.processes:
                    see = result.processes[process.id]
                    return CbamSee(
                        cn_code=good.cn_code,
                        good=good.name,
                        installation=data.installation.name,
                        unlocode=data.installation.unlocode,
                        process=process.name,
                        see_direct=see.see_direct,
                        see_indirect=see.see_indirect,
                        period_start=data.period_start.isoformat(),
                        period_end=data.period_end.isoformat(),
                    )
    return None


@dataclass(frozen=True, slots=True)
class Passport:
    """The two parts of a passport, before they are issued."""

    batch_id: str
    public: dict[str, Any]
    restricted: dict[str, Any]


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(float(value), digits)


def _footprint(
    product: Product | None, stored: StoredFootprint | None, batch: Batch
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(public, restricted) footprint sections of a batch, or (None, None) without one."""
    if product is None or stored is None:
        return None, None
    excluding = stored.pcf_excluding_biogenic_uptake
    including = stored.pcf_including_biogenic_uptake
    by_kind: dict[str, float] = {}
    for child in stored.contributions.get("children", []):
        by_kind[child["kind"]] = by_kind.get(child["kind"], 0.0) + float(child["kgco2e"])
    rest = excluding - sum(by_kind.values())
    if abs(rest) > 1e-9 * max(1.0, abs(excluding)):
        by_kind["rest"] = rest
    dqr = None
    if stored.dqr is not None:
        dqr = dict(zip(("technological", "geographical", "temporal"), stored.dqr, strict=True))
    public = {
        "declaredUnit": str(product.declared_unit),
        "declaredUnitAmount": product.declared_unit_amount,
        "unit": "kg CO2e per declared unit",
        "pcfExcludingBiogenicUptake": _round(excluding),
        "pcfIncludingBiogenicUptake": _round(including),
        "fossil": _round(stored.fossil),
        "biogenicEmissions": _round(excluding - stored.fossil),
        "biogenicUptake": _round(including - excluding),
        "stages": {kind: _round(value) for kind, value in sorted(by_kind.items())},
        "primaryDataShare": _round(stored.primary_data_share, 3),
        "dqr": dqr,
        "referencePeriod": {"start": stored.period_start, "end": stored.period_end},
        "boundary": "cradle-to-gate",
        "pactFootprintId": stored.pf_id,
    }
    units = product.declared_units(batch.quantity, batch.unit)
    restricted = {
        "declaredUnits": _round(units),
        "batchTotalKgCO2e": _round(units * excluding, 3),
        "contributions": stored.contributions,
        "allocationRule": stored.allocation_rule,
        "run": stored.run_id,
        "inputsSha256": stored.content_hash,
    }
    return public, restricted


def build_passport(
    batch: Batch,
    *,
    lineage: Sequence[Batch],
    product: Product | None,
    footprint: StoredFootprint | None,
    producer: Producer,
    received: Mapping[str, dict[str, Any]],
    cbam: CbamSee | None,
    resolver: str,
) -> Passport:
    """The passport of ``batch`` from plain values (``received``: PACT id → received row)."""
    gs1 = batch.gs1
    public_footprint, restricted_footprint = _footprint(product, footprint, batch)
    suppliers = []
    for pf_id in sorted({pf for item in (batch, *lineage) for pf in item.supplier_footprints}):
        row = received.get(pf_id)
        if row is None:
            raise InputError(
                f"supplier footprint {pf_id} is no longer received",
                record=batch.batch_id,
                hint="receive it again before issuing the passport",
            )
        document = parse_product_footprint(row["document"])
        per_unit = supplier_footprint(document).per_unit
        suppliers.append(
            {
                "pfId": pf_id,
                "supplier": document.company_name,
                "productIds": sorted(document.product_ids),
                "product": document.product_name_company,
                "declaredUnit": document.pcf.declared_unit_of_measurement,
                "pcfExcludingBiogenicUptake": _round(per_unit.pcf_excluding_biogenic_uptake),
                "receivedFrom": row["source"],
                "documentSha256": row["sha256"],
                "usedBy": sorted(
                    item.batch_id for item in (batch, *lineage) if pf_id in item.supplier_footprints
                ),
            }
        )
    public = {
        "type": PASSPORT_TYPE,
        "version": PASSPORT_VERSION,
        "batch": {
            "id": batch.batch_id,
            "stage": batch.stage,
            "producedOn": batch.produced_on,
        },
        "identifiers": {
            "gs1DigitalLink": gs1.uri(resolver) if gs1 else None,
            "gtin": batch.gtin,
            "serial": batch.serial,
            "handle": batch.handle,
            "handleResolution": (
                f"{resolver.rstrip('/')}/api/handles/{handle_path(batch.handle)}"
                if batch.handle
                else None
            ),
        },
        "product": None
        if product is None
        else {
            "key": product.key,
            "name": product.name,
            "identifiers": list(product.identifiers),
            "classifications": list(product.classifications),
        },
        "producer": {"name": producer.name, "identifiers": list(producer.ids)},
        "facility": {"id": batch.facility_id},
        "footprint": public_footprint,
        "cbam": None if cbam is None else cbam.as_json(),
        "predecessors": [
            {"id": item.batch_id, "stage": item.stage, "handle": item.handle} for item in lineage
        ],
        "supplierFootprints": len(suppliers),
        "attestation": {"credential": None},
    }
    restricted = {
        "batch": {
            "quantity": batch.quantity,
            "unit": batch.unit,
            "record": {"file": batch.source_ref, "line": batch.line},
        },
        "footprint": restricted_footprint,
        "predecessors": [
            {
                "id": item.batch_id,
                "stage": item.stage,
                "quantity": item.quantity,
                "unit": item.unit,
                "producedOn": item.produced_on,
                "madeFrom": list(item.made_from),
            }
            for item in lineage
        ],
        "supplierFootprints": suppliers,
    }
    return Passport(batch.batch_id, public, restricted)


def _lineage_received(
    exchange: ExchangeRepository, batch: Batch, lineage: Sequence[Batch]
) -> dict[str, dict[str, Any]]:
    out = {}
    for item in (batch, *lineage):
        for pf_id in item.supplier_footprints:
            rows = exchange.received(pf_id)
            if rows:
                out[pf_id] = rows[-1]
    return out


def prepare_passport(
    engine: Engine,
    organization_id: str,
    batch_id: str,
    *,
    producer: Producer,
    resolver: str,
    cbam: Sequence[tuple[CbamInstallationData, CbamResult]] = (),
) -> Passport:
    """The passport of a stored batch, from the store's batches, products and footprints."""
    batches = BatchStore(engine, organization_id)
    batch = batches.batch(batch_id)
    if batch is None:
        raise InputError(f"no batch {batch_id}", hint="import its production record first")
    lineage = batches.lineage(batch_id)
    products = ProductStore(engine, organization_id)
    product = products.product(batch.product_key) if batch.product_key else None
    footprint = products.latest().get(batch.product_key) if batch.product_key else None
    exchange = ExchangeRepository(engine, organization_id=organization_id)
    return build_passport(
        batch,
        lineage=lineage,
        product=product,
        footprint=footprint,
        producer=producer,
        received=_lineage_received(exchange, batch, lineage),
        cbam=None if product is None else cbam_see_for(product, cbam),
        resolver=resolver,
    )


def issue_passport(
    engine: Engine,
    organization_id: str,
    passport: Passport,
    *,
    signer: Signer,
    issued_at: datetime | None = None,
) -> StoredPassport:
    """Record the passport in the ledger, sign a checkpoint, keep it with its receipt.

    Issuing the same content again returns the passport kept already (no new entry).
    """
    batches = BatchStore(engine, organization_id)
    public = canonical_json(passport.public).decode()
    restricted = canonical_json(passport.restricted).decode()
    latest = batches.passport(passport.batch_id)
    if latest is not None and (latest.public, latest.restricted) == (public, restricted):
        return latest
    version = 1 if latest is None else latest.version + 1
    ledger = Ledger(engine)
    index = ledger.append(
        report_entry(
            f"passport:{organization_id}:{passport.batch_id}:v{version}",
            report_kind=REPORT_KIND,
            files={
                passport.batch_id + PUBLIC_SUFFIX: sha256_bytes(public.encode()),
                passport.batch_id + RESTRICTED_SUFFIX: sha256_bytes(restricted.encode()),
            },
        )
    )
    ledger.sign_checkpoint(signer)
    receipt = make_receipt(ledger, index)
    stored = StoredPassport(
        batch_id=passport.batch_id,
        version=version,
        issued_at=issued_at or datetime.now(UTC),
        public=public,
        restricted=restricted,
        ledger_index=index,
        receipt=receipt.to_bytes(),
        organization_id=organization_id,
    )
    batches.save_passport(stored)
    return stored


def passport_document(stored: StoredPassport, *, restricted: bool = False) -> dict[str, Any]:
    """The passport as a JSON object: the public part, the restricted part when asked, and
    ``ledger`` (entry index, file names and the receipt, base64) to check it with."""
    document: dict[str, Any] = json.loads(stored.public)
    if restricted:
        document["restricted"] = json.loads(stored.restricted)
    document["ledger"] = {
        "entry": stored.ledger_index,
        "version": stored.version,
        "issuedAt": stored.issued_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "publicFile": stored.batch_id + PUBLIC_SUFFIX,
        "restrictedFile": stored.batch_id + RESTRICTED_SUFFIX,
        "receipt": base64.b64encode(stored.receipt).decode("ascii"),
    }
    return document


def verify_passport(document: Mapping[str, Any], log_key: Verifier) -> VerifiedReceipt:
    """Check a passport document offline against the log's key; raise `ReceiptError` if not.

    The receipt must verify, and the SHA-256 of the document's public part (the document less
    ``ledger`` and ``restricted``, in RFC 8785 form) must be the one the entry recorded; a
    restricted part, when present, is checked the same way.
    """
    ledger = document.get("ledger")
    if not isinstance(ledger, Mapping) or "receipt" not in ledger:
        raise ReceiptError("the passport carries no ledger receipt")
    try:
        receipt = Receipt.parse(base64.b64decode(ledger["receipt"], validate=True))
    except (ValueError, TypeError) as exc:
        raise ReceiptError("the passport's receipt is not base64") from exc
    verified = verify_receipt(receipt, log_key)
    files = verified.content.get("files", {})
    if verified.content.get("report_kind") != REPORT_KIND:
        raise ReceiptError("the receipt is not for a batch passport")
    public = {k: v for k, v in document.items() if k not in ("ledger", "restricted")}
    parts = [(str(ledger.get("publicFile")), public)]
    if "restricted" in document:
        parts.append((str(ledger.get("restrictedFile")), document["restricted"]))
    for name, part in parts:
        if files.get(name) != sha256_bytes(canonical_json(part)):
            raise ReceiptError(
                f"the passport's {name} differs from the one the ledger recorded",
                hint="the document was changed after it was issued; ask the producer for it",
            )
    return verified
