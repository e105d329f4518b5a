"""The exporter's definitive-period CBAM communication: verified, with the carbon price paid.

An *exporter pack* (YAML, documented in docs/cbam-definitive-exporter.md) names the
installation's CBAM input file (docs/cbam.md) and adds what the definitive period asks of the
operator: the verifier's statement with its accreditation and the monitoring methodology it
checked against, and the China ETS position from which the carbon price paid per good follows
(``carbonlink.domain.cbam.exporter``). ``build_exporter_communication`` returns the ordinary
communication (schema ``carbonlink.cbam.communication/1``) with three more keys, ``status``,
``verification`` and ``carbon_price_paid``; the verifier also goes into the A_InstData verifier
fields of the workbooks, and the carbon price into the products' carbon-price columns.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from carbonlink.domain.cbam import CarbonPrice, CbamInstallationData, Verifier, compute_see
from carbonlink.domain.cbam.exporter import (
    Accreditation,
    CarbonPricePaid,
    CetsPosition,
    ExchangeRate,
    IndependentPerson,
    MonitoringMethodology,
    SampledDatum,
    VerificationStatement,
    carbon_price_paid,
)
from carbonlink.errors import InputError
from carbonlink.reports.cbam import build_communication
from carbonlink.reports.cbam_input import load_cbam_input

PRICE_SCHEMA = "carbonlink.cbam.carbon-price-paid/1"
VERIFICATION_SCHEMA = "carbonlink.cbam.verification/1"
EXPORTER_PACK_MEDIA_TYPE = "application/vnd.carbonlink.cbam-exporter+yaml"
RULES = {
    "verification": "Regulation (EU) 2023/956 Art. 8(1) and Annex VI; "
    "Implementing Regulation (EU) 2025/2546 (application of the verification principles)",
    "accreditation": "Regulation (EU) 2023/956 Art. 18 (verifiers accredited by a national "
    "accreditation body); Delegated Regulation (EU) 2025/2551 (conditions of accreditation)",
    "methodology": "Regulation (EU) 2023/956 Annex IV; Implementing Regulation (EU) 2025/2547 "
    "(methods for calculating embedded emissions)",
    "carbon_price": "Regulation (EU) 2023/956 Art. 9(1) (price actually paid, less rebates), "
    "Art. 9(2) (evidence certified by an independent person), Art. 9(3) (kept four years)",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AccreditationIn(_Strict):
    body: str
    number: str
    state: str = ""


class MethodologyIn(_Strict):
    reference: str
    version: str
    valid_from: date
    sections: list[str] = []
    document: str = Field(default="", description="the document file, relative to the pack")


class SampledIn(_Strict):
    item: str
    reported: float
    unit: str
    source: str
    checked: float | None = None


class VerifierAddressIn(_Strict):
    street: str = ""
    city: str = ""
    post_code: str = ""
    country: str = ""
    representative: str = ""
    email: str = ""
    phone: str = ""


class VerificationIn(_Strict):
    verifier: str
    accreditation: AccreditationIn
    address: VerifierAddressIn = VerifierAddressIn()
    report_reference: str
    report_date: date
    opinion: Literal[
        "verified as satisfactory", "verified with comments", "not verified", "not yet verified"
    ]
    site_visit: Literal["physical", "virtual", "waived", "none"]
    site_visit_date: date | None = None
    assurance: str = "reasonable"
    materiality: float | None = Field(default=None, gt=0, lt=1)
    methodology: MethodologyIn | None = None
    sampled: list[SampledIn] = []
    findings: list[str] = []
    demo: bool = False


class RateIn(_Strict):
    currency_per_eur: float = Field(gt=0)
    date: date
    source: str = Field(min_length=1)


class PersonIn(_Strict):
    name: str
    contact: str
    identifier: str = ""


class AllocationIn(_Strict):
    """The free allocation by the China ETS allocation rule (``carbonlink.cets.allocation``)."""

    output_t: dict[str, float]
    intensity: dict[str, float]
    source: str = Field(min_length=1, description="where the intensities come from")
    adjustment: float = Field(default=1.0, gt=0)


class CetsPositionIn(_Strict):
    scheme: str
    legal_act: str
    country: str = Field(min_length=2, max_length=2)
    year: int = Field(ge=2021, le=2100)
    currency: str = Field(min_length=3, max_length=3)
    verified_emissions_t: float = Field(gt=0)
    allocation: AllocationIn | None = None
    free_allocation_t: float | None = Field(default=None, ge=0)
    surrendered_t: float | None = Field(default=None, ge=0)
    bought_t: float | None = Field(default=None, ge=0)
    bought_price: float = Field(ge=0)
    rebates: float = Field(default=0.0, ge=0)
    covers: Literal["direct", "direct+indirect"] = "direct"
    exchange_rate: RateIn
    evidence: list[str] = []
    independent_person: PersonIn | None = None


class CatenaXIn(_Strict):
    operator_bpnl: str | None = Field(default=None, pattern=r"^BPNL[a-zA-Z0-9]{12}$")
    operator_cbam_id: str = ""
    installation_cbam_id: str = ""


class ExporterPackIn(_Strict):
    communication: str = Field(description="the installation's CBAM input file, relative")
    verification: VerificationIn | None = None
    carbon_price_paid: CetsPositionIn | None = None
    catena_x: CatenaXIn = CatenaXIn()


@dataclass(frozen=True)
class ExporterPack:
    """An exporter pack read and checked: the installation data and what the pack adds."""

    data: CbamInstallationData
    verification: VerificationStatement | None
    position: CetsPosition | None
    rate: ExchangeRate | None
    evidence: tuple[str, ...]
    independent_person: IndependentPerson | None
    catena_x: dict[str, Any]
    verifier_address: dict[str, str]
    source: str


def load_exporter_pack(path: Path) -> ExporterPack:
    """Read an exporter pack and the CBAM input it names."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}", file=str(path)) from exc
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"not a UTF-8 YAML file: {exc}", file=str(path)) from exc
    try:
        doc = ExporterPackIn.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InputError(
            f"{where}: {first['msg']} ({exc.error_count()} problem(s) in total)",
            file=str(path),
            hint="see docs/cbam-definitive-exporter.md for the layout of the exporter pack",
        ) from exc
    verification = None
    if doc.verification is not None:
        v = doc.verification
        methodology = None
        if v.methodology is not None:
            m = v.methodology
            digest = ""
            if m.document:
                try:
                    digest = hashlib.sha256((path.parent / m.document).read_bytes()).hexdigest()
                except OSError as exc:
                    raise InputError(
                        f"verification.methodology.document: cannot read {m.document}",
                        file=str(path),
                        hint="the path is relative to the pack file",
                    ) from exc
            methodology = MonitoringMethodology(
                m.reference, m.version, m.valid_from, tuple(m.sections), digest
            )
        verification = VerificationStatement(
            verifier=v.verifier,
            accreditation=Accreditation(**v.accreditation.model_dump()),
            report_reference=v.report_reference,
            report_date=v.report_date,
            opinion=v.opinion,
            site_visit=v.site_visit,
            assurance=v.assurance,
            materiality=v.materiality,
            site_visit_date=v.site_visit_date,
            methodology=methodology,
            sampled=tuple(SampledDatum(**s.model_dump()) for s in v.sampled),
            findings=tuple(v.findings),
            demo=v.demo,
        )
    position = rate = person = None
    evidence: tuple[str, ...] = ()
    if doc.carbon_price_paid is not None:
        p = doc.carbon_price_paid
        fields = p.model_dump(
            exclude={"exchange_rate", "evidence", "independent_person", "allocation"}
        )
        fields["country"] = p.country.upper()
        fields["currency"] = p.currency.upper()
        fields |= _allocated(p, path)
        position = CetsPosition(**fields)
        rate = ExchangeRate(
            p.exchange_rate.currency_per_eur, p.exchange_rate.date, p.exchange_rate.source
        )
        evidence = tuple(p.evidence)
        person = (
            IndependentPerson(**p.independent_person.model_dump()) if p.independent_person else None
        )
    # The pack's own sections are checked first: their errors name the pack, not the input.
    data = load_cbam_input(path.parent / doc.communication)
    return ExporterPack(
        data=data,
        verification=verification,
        position=position,
        rate=rate,
        evidence=evidence,
        independent_person=person,
        catena_x=doc.catena_x.model_dump(),
        verifier_address=doc.verification.address.model_dump() if doc.verification else {},
        source=path.name,
    )


def _allocated(p: CetsPositionIn, path: Path) -> dict[str, Any]:
    """Free allocation, allowances surrendered and bought: stated, or by the allocation rule.

    With ``allocation`` the China ETS rule of the year gives the free allocation A
    (``carbonlink.cets.allocation.allocation_position``); the entity surrenders its verified
    emissions E and buys the shortfall ``max(E − A, 0)``. Without it all three are stated.
    """
    stated = (p.free_allocation_t, p.surrendered_t, p.bought_t)
    if p.allocation is None:
        if None in stated:
            raise InputError(
                "carbon_price_paid: give free_allocation_t, surrendered_t and bought_t, or the "
                "allocation (output_t, intensity, source) to compute them",
                file=str(path),
            )
        return {}
    if stated != (None, None, None):
        raise InputError(
            "carbon_price_paid: give either the allocation rule's inputs or the stated "
            "free_allocation_t/surrendered_t/bought_t, not both",
            file=str(path),
        )
    from carbonlink.cets.allocation import allocation_position

    a = p.allocation
    position = allocation_position(
        p.year,
        p.verified_emissions_t,
        p.bought_price,
        output_t=a.output_t,
        intensity=a.intensity,
        intensity_source=a.source,
        adjustment=a.adjustment,
    )
    return {
        "free_allocation_t": position.allocation_t,
        "surrendered_t": p.verified_emissions_t,
        "bought_t": max(-position.surplus_t, 0.0),
        "allocation_basis": position.basis,
    }


def _verifier(pack: ExporterPack) -> Verifier | None:
    """The verifier for the template's A_InstData section, with a "(demo)" mark when it is one."""
    v = pack.verification
    if v is None:
        return None
    a = pack.verifier_address
    return Verifier(
        company=f"{v.verifier} (demo verifier, not accredited)" if v.demo else v.verifier,
        street=a.get("street", ""),
        city=a.get("city", ""),
        post_code=a.get("post_code", ""),
        country=a.get("country", ""),
        representative=a.get("representative", ""),
        email=a.get("email", ""),
        phone=a.get("phone", ""),
        accreditation_state=v.accreditation.state,
        accreditation_body=v.accreditation.body,
        accreditation_number=v.accreditation.number,
    )


def _price_rows(price: CarbonPricePaid) -> tuple[CarbonPrice, ...]:
    """The price as the template's per-product carbon-price columns (one row per good)."""
    p = price.position
    free_share = (p.surrendered_t - p.bought_t) / p.verified_emissions_t
    return tuple(
        CarbonPrice(
            instrument=p.scheme,
            amount=round(price.amount_paid, 2),
            currency=p.currency,
            description=f"{p.legal_act}; effective {price.local_per_t_co2e:.4f} {p.currency}/t "
            f"CO2e = {price.eur_per_t_co2e:.4f} EUR/t CO2e at {price.rate.currency_per_eur:g} "
            f"{p.currency}/EUR ({price.rate.on.isoformat()}, {price.rate.source})",
            instrument_type="National Emissions Trading System",
            share_covered=1.0,
            price_due_per_t=round(good.local_per_t_good, 6),
            rebate_type="Free allocation",
            rebate_share=round(free_share, 6),
            cn_codes=(good.cn_code,),
        )
        for good in price.goods
    )


def verification_document(statement: VerificationStatement | None) -> dict[str, Any]:
    """The verification in machine form (schema ``carbonlink.cbam.verification/1``)."""
    if statement is None:
        return {"schema": VERIFICATION_SCHEMA, "status": "not verified", "rules": RULES}
    m = statement.methodology
    return {
        "schema": VERIFICATION_SCHEMA,
        "status": "verified" if statement.verified else "not verified",
        "demo": statement.demo,
        "verifier": {
            "name": statement.verifier,
            "accreditation": asdict(statement.accreditation),
        },
        "report": {
            "reference": statement.report_reference,
            "date": statement.report_date.isoformat(),
            "opinion": statement.opinion,
            "assurance": statement.assurance,
            "materiality": statement.materiality,
            "site_visit": statement.site_visit,
            "site_visit_date": statement.site_visit_date.isoformat()
            if statement.site_visit_date
            else None,
            "findings": list(statement.findings),
        },
        "monitoring_methodology": {
            "reference": m.reference,
            "version": m.version,
            "valid_from": m.valid_from.isoformat(),
            "sections": list(m.sections),
            "document_sha256": m.document_sha256,
        }
        if m
        else None,
        "sampled_data": [
            {
                "item": s.item,
                "reported": s.reported,
                "unit": s.unit,
                "source": s.source,
                "checked": s.checked,
                "deviation": None if s.deviation is None else round(s.deviation, 6),
            }
            for s in statement.sampled
        ],
        "rules": RULES,
    }


def price_document(price: CarbonPricePaid | None) -> dict[str, Any] | None:
    """The carbon price paid as the importer reads it (``carbonlink.cbam.carbon-price-paid/1``).

    Field names are documented in docs/cbam-definitive-exporter.md.
    """
    if price is None:
        return None
    p = price.position
    return {
        "schema": PRICE_SCHEMA,
        "scheme": p.scheme,
        "instrument_type": "National Emissions Trading System",
        "legal_act": p.legal_act,
        "country": p.country,
        "year": p.year,
        "currency": p.currency,
        "covers": p.covers,
        "position": {
            "verified_emissions_t": p.verified_emissions_t,
            "free_allocation_t": p.free_allocation_t,
            "surrendered_t": p.surrendered_t,
            "bought_t": p.bought_t,
            "bought_price": p.bought_price,
            "rebates": p.rebates,
        },
        "allocation_basis": p.allocation_basis,
        "amount_paid": round(price.amount_paid, 2),
        "price_per_t_co2e": round(price.local_per_t_co2e, 6),
        "exchange_rate": {
            "currency_per_eur": price.rate.currency_per_eur,
            "date": price.rate.on.isoformat(),
            "source": price.rate.source,
        },
        "eur_per_t_co2e": round(price.eur_per_t_co2e, 6),
        "goods": [
            {
                "cn_code": g.cn_code,
                "see_covered_t_per_t": round(g.see_covered, 6),
                "price_per_t_good": round(g.local_per_t_good, 6),
                "eur_per_t_good": round(g.eur_per_t_good, 6),
            }
            for g in price.goods
        ],
        "evidence": list(price.evidence),
        "independent_person": asdict(price.independent_person)
        if price.independent_person
        else None,
        "rule": RULES["carbon_price"],
    }


def build_exporter_communication(pack: ExporterPack) -> dict[str, Any]:
    """The communication with verification status, the verifier and the carbon price paid."""
    data = replace(pack.data, verifier=_verifier(pack))
    if pack.verification is not None and pack.verification.verified:
        # The template's quality-assurance field (C_Emissions&Energy) says how the data were
        # assured: a positive verifier's opinion is third-party verification.
        data = replace(
            data,
            data_quality=replace(data.data_quality, quality_assurance="Third-party verification"),
        )
    result = compute_see(data)
    price = None
    if pack.position is not None and pack.rate is not None:
        see: dict[str, tuple[float, float]] = {}
        for process in data.processes:
            for good in process.goods:
                s = result.processes[process.id]
                see[good.cn_code] = (s.see_direct, s.see_indirect)
        price = carbon_price_paid(
            pack.position,
            pack.rate,
            see,
            evidence=pack.evidence,
            independent_person=pack.independent_person,
        )
        # The computed price replaces any price stated by hand in the CBAM input.
        data = replace(data, carbon_prices=_price_rows(price))
    communication = build_communication(data, result)
    verification = verification_document(pack.verification)
    communication["status"] = verification["status"]
    communication["verification"] = verification
    communication["carbon_price_paid"] = price_document(price)
    communication["catena_x"] = pack.catena_x
    return communication


def write_exporter_outputs(
    pack: ExporterPack,
    folder: Path,
    stem: str,
    *,
    template: Path | None = None,
    communication: dict[str, Any] | None = None,
) -> dict[str, Path]:
    """Write the verified communication (JSON, XLSX, official template when given) and its
    Catena-X CBAM aspect into ``folder``; returns label → path. ``communication``: the pack's,
    when already built."""
    import json

    from carbonlink.reports.cbam import write_json, write_xlsx
    from carbonlink.reports.cbam_catenax import to_catenax

    communication = communication or build_exporter_communication(pack)
    outputs = {
        "communication (JSON)": write_json(communication, folder / f"{stem}.json"),
        "communication (XLSX)": add_exporter_sheet(
            communication, write_xlsx(communication, folder / f"{stem}.xlsx")
        ),
    }
    catenax = folder / f"{stem}.catenax-cbam.json"
    catenax.write_text(
        json.dumps(to_catenax(communication), ensure_ascii=False, indent=2) + "\n", "utf-8"
    )
    outputs["Catena-X CBAM (JSON)"] = catenax
    if template is not None:
        from carbonlink.reports.cbam_template import fill_official_template

        outputs["communication (official template)"] = fill_official_template(
            template, communication, folder / f"{stem}.official.xlsx"
        )
    return outputs


def add_exporter_sheet(communication: dict[str, Any], path: Path) -> Path:
    """Add a sheet with the verification and the carbon price paid to carbonlink's workbook."""
    from openpyxl import load_workbook

    wb = load_workbook(path)
    ws = wb.create_sheet("Verification_CarbonPrice")
    v = communication["verification"]
    rows: list[list[Any]] = [["Verification status", v["status"]]]
    if "report" in v:
        rows += [
            ["Verifier", v["verifier"]["name"] + (" (DEMO, not accredited)" if v["demo"] else "")],
            ["Accreditation body", v["verifier"]["accreditation"]["body"]],
            ["Accreditation number", v["verifier"]["accreditation"]["number"]],
            ["Verification report", v["report"]["reference"]],
            ["Report date", v["report"]["date"]],
            ["Opinion", v["report"]["opinion"]],
            ["Site visit", v["report"]["site_visit"]],
            ["Materiality applied", v["report"]["materiality"]],
        ]
        if v["monitoring_methodology"]:
            m = v["monitoring_methodology"]
            rows.append(["Monitoring methodology", f"{m['reference']} v{m['version']}"])
    price = communication.get("carbon_price_paid")
    if price:
        rows += [
            [],
            ["Carbon price paid", price["scheme"]],
            ["Year", price["year"]],
            [f"Amount paid ({price['currency']})", price["amount_paid"]],
            [f"Price per t CO2e ({price['currency']})", price["price_per_t_co2e"]],
            [
                f"Exchange rate ({price['currency']}/EUR)",
                f"{price['exchange_rate']['currency_per_eur']} on "
                f"{price['exchange_rate']['date']} ({price['exchange_rate']['source']})",
            ],
            ["Price per t CO2e (EUR)", price["eur_per_t_co2e"]],
        ]
        rows += [
            [f"CN {g['cn_code']}: EUR per t of good", g["eur_per_t_good"]] for g in price["goods"]
        ]
        rows.append(["Rule", price["rule"]])
    for row in rows:
        ws.append(row)
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 80
    wb.save(path)
    return path
