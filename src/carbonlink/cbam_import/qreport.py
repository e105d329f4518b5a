"""Transitional-period quarterly CBAM reports (2023 Q4 – 2025 Q4) as QReport XML.

Regulation (EU) 2023/956 Art. 35 and Implementing Regulation (EU) 2023/1773 Art. 3–5 and
Annex I: each quarter the reporting declarant reports the goods imported, per CN code and
country of origin, with the installations' specific embedded emissions (direct and indirect).
No mark-up applies in the transitional period. Lines without a supplier communication carry the
definitive-period default value as an estimate (the transitional defaults the Commission
published in December 2023 do not ship with carbonlink [check]) and are flagged as defaults.

The XML follows the structure of the registry's QReport schema (namespace
``http://xmlns.ec.eu/BusinessObjects/CBAM/Types/V1``) and is validated, with lxml, against
``data/cbam_import/qreport_carbonlink.xsd`` — a schema carbonlink wrote from that published
structure, not the official XSD (see the header of that file).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from pathlib import Path

from carbonlink.cbam_import.declaration import Communication, match_line
from carbonlink.cbam_import.lines import CustomsLine
from carbonlink.cbam_import.reference import default_value
from carbonlink.errors import InputError

__all__ = [
    "NAMESPACE",
    "Declarant",
    "SchemaError",
    "quarterly_report",
    "transitional_quarters",
    "validate",
]

NAMESPACE = "http://xmlns.ec.eu/BusinessObjects/CBAM/Types/V1"
SCHEMA_FILE = "qreport_carbonlink.xsd"
FIRST_QUARTER = (2023, 4)
LAST_QUARTER = (2025, 4)


class SchemaError(InputError):
    """The report does not validate against the schema; ``errors`` lists each problem."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__(
            f"{len(errors)} schema error(s): " + "; ".join(errors[:5]),
            hint="the report was not written; correct the data named above",
        )


@dataclass(frozen=True)
class Declarant:
    """The reporting declarant (importer or indirect customs representative)."""

    eori: str
    name: str
    country: str
    city: str
    street: str = ""
    postcode: str = ""
    role: str = "01"
    competent_authority_reference: str = "NCA"
    signatory: str = ""
    position: str = "CBAM manager"


def transitional_quarters() -> list[tuple[int, int]]:
    """The reportable quarters, 2023 Q4 to 2025 Q4."""
    quarters = []
    year, quarter = FIRST_QUARTER
    while (year, quarter) <= LAST_QUARTER:
        quarters.append((year, quarter))
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return quarters


def _dec(value: float, digits: int = 7) -> str:
    return format(Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP), "f")


def quarterly_report(
    year: int,
    quarter: int,
    lines: Sequence[CustomsLine],
    communications: Mapping[str, Communication],
    declarant: Declarant,
    *,
    submitted: datetime | None = None,
) -> bytes:
    """The QReport XML of one transitional quarter, validated before it is returned."""
    from lxml import etree

    if (year, quarter) not in transitional_quarters():
        raise InputError(
            f"{year} Q{quarter} is not a transitional-period quarter",
            hint="quarterly reports cover 2023 Q4 to 2025 Q4; from 2026 file the annual "
            "declaration",
        )
    chosen = [ln for ln in lines if ln.year == year and ln.quarter == quarter]
    if not chosen:
        raise InputError(f"no customs lines in {year} Q{quarter}", hint="import the lines first")
    groups: dict[tuple[str, str], list[CustomsLine]] = defaultdict(list)
    for line in chosen:
        groups[(line.cn_code, line.country)].append(line)

    def sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
        element = etree.SubElement(parent, f"{{{NAMESPACE}}}{name}")
        if text is not None:
            element.text = text
        return element

    root = etree.Element(f"{{{NAMESPACE}}}QReport", nsmap={None: NAMESPACE})
    when = submitted or datetime.now(UTC)
    sub(root, "SubmissionDate", when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    sub(root, "ReportId", f"{declarant.eori}-{year}Q{quarter}")
    sub(root, "ReportingPeriod", f"Q{quarter}")
    sub(root, "Year", str(year))
    sub(root, "TotalImported", str(len(groups)))
    totals = sub(root, "TotalEmissions")
    declarant_el = sub(root, "Declarant")
    sub(declarant_el, "IdentificationNumber", declarant.eori)
    sub(declarant_el, "Name", declarant.name[:70])
    sub(declarant_el, "Role", declarant.role)
    address = sub(declarant_el, "ActorAddress")
    sub(address, "Country", declarant.country)
    sub(address, "City", declarant.city)
    if declarant.street:
        sub(address, "Street", declarant.street[:70])
    if declarant.postcode:
        sub(address, "Postcode", declarant.postcode)
    sub(
        sub(root, "NationalCompetentAuth"),
        "ReferenceNumber",
        declarant.competent_authority_reference,
    )
    confirmation = sub(sub(root, "Signatures"), "ReportConfirmation")
    sub(confirmation, "GlobalDataConfirmation", "true")
    sub(confirmation, "UseOfDataConfirmation", "true")
    sub(confirmation, "SignatureDate", when.date().isoformat())
    sub(confirmation, "SignaturePlace", declarant.city)
    sub(confirmation, "Signature", declarant.signatory or declarant.name[:128])
    sub(confirmation, "PositionOfPersonSending", declarant.position)

    all_direct = all_indirect = 0.0
    for item, ((cn_code, country), group) in enumerate(sorted(groups.items()), start=1):
        good = sub(root, "ImportedGood")
        sub(good, "ItemNumber", str(item))
        commodity = sub(good, "CommodityCode")
        sub(commodity, "HsCode", cn_code[:6])
        sub(commodity, "CnCode", cn_code[6:8])
        try:
            description = default_value(cn_code, country).description
        except LookupError:
            description = f"CN {cn_code}"
        sub(sub(commodity, "CommodityDetails"), "Description", description[:512])
        sub(sub(good, "OriginCountry"), "Country", country)
        mass = sum(ln.net_mass_t for ln in group)
        imported = sub(good, "ImportedQuantity")
        sub(imported, "SequenceNumber", "1")
        sub(sub(imported, "Procedure"), "RequestedProc", group[0].procedure[:2].zfill(2))
        sub(sub(imported, "ImportArea"), "ImportArea", "EU")
        measure = sub(imported, "MeasureProcedureImported")
        sub(measure, "Indicator", "0")
        sub(measure, "NetMass", _dec(mass))
        sub(measure, "MeasurementUnit", "01")
        measure = sub(good, "MeasureImported")
        sub(measure, "NetMass", _dec(mass))
        sub(measure, "MeasurementUnit", "01")
        good_totals = sub(good, "TotalEmissions")
        by_installation: dict[str, list[CustomsLine]] = defaultdict(list)
        for line in group:
            by_installation[line.installation_id].append(line)
        direct_total = indirect_total = 0.0
        emission_elements = []
        for sequence, (installation_id, inst_lines) in enumerate(
            sorted(by_installation.items()), start=1
        ):
            match = match_line(inst_lines[0], communications)
            reason, matched = match.reason, match.good
            if matched is not None:
                see_direct, see_indirect = matched.see_direct, matched.see_indirect
                determination = "01"
            else:
                value = default_value(cn_code, country, record=inst_lines[0].key)
                see_direct, see_indirect = value.see_direct, value.see_indirect
                determination = "02"
            inst_mass = sum(ln.net_mass_t for ln in inst_lines)
            direct_total += inst_mass * see_direct
            indirect_total += inst_mass * see_indirect
            emission_elements.append(
                (
                    sequence,
                    installation_id,
                    inst_mass,
                    see_direct,
                    see_indirect,
                    determination,
                    reason,
                )
            )
        sub(good_totals, "EmissionsPerUnit", _dec((direct_total + indirect_total) / mass))
        sub(good_totals, "OverallEmissions", _dec(direct_total + indirect_total))
        sub(good_totals, "TotalDirect", _dec(direct_total))
        sub(good_totals, "TotalIndirect", _dec(indirect_total))
        sub(good_totals, "MeasurementUnit", "EMB01")
        all_direct += direct_total
        all_indirect += indirect_total
        for (
            sequence,
            installation_id,
            inst_mass,
            direct,
            indirect,
            determination,
            reason,
        ) in emission_elements:
            emissions = sub(good, "GoodsEmissions")
            sub(emissions, "SequenceNumber", str(sequence))
            sub(emissions, "ProductionCountry", country)
            communication = communications.get(installation_id)
            installation = sub(emissions, "Installation")
            sub(installation, "InstallationId", installation_id[:17])
            sub(
                installation,
                "InstallationName",
                (communication.installation_name if communication else installation_id)[:128],
            )
            sub(sub(installation, "Address"), "EstablishmentCountry", country)
            produced = sub(emissions, "ProducedMeasure")
            sub(produced, "NetMass", _dec(inst_mass))
            sub(produced, "MeasurementUnit", "01")
            for name, specific in (("DirectEmissions", direct), ("IndirectEmissions", indirect)):
                element = sub(emissions, name)
                sub(element, "DeterminationType", determination)
                sub(element, "ApplicableReportingTypeMethodology", "TOM01")
                sub(element, "SpecificEmbeddedEmissions", _dec(specific))
                sub(element, "MeasurementUnit", "EMB01")
                if determination == "02":
                    sub(element, "Justification", reason[:512])
    sub(totals, "OverallEmissions", _dec(all_direct + all_indirect))
    sub(totals, "TotalDirect", _dec(all_direct))
    sub(totals, "TotalIndirect", _dec(all_indirect))
    sub(totals, "MeasurementUnit", "EMB01")
    document = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    validate(document)
    return bytes(document)


def schema_path() -> Path:
    """Path of carbonlink's QReport schema (not the official one; see its header)."""
    return Path(str(resources.files("carbonlink.data.cbam_import").joinpath(SCHEMA_FILE)))


def validate(document: bytes, schema: Path | None = None) -> None:
    """Validate a QReport against ``schema`` (default: carbonlink's); raise :class:`SchemaError`.

    Give the official ``QReport_ver23.00.xsd`` (with its ``stypes`` beside it) as ``schema``
    where you have it.
    """
    from lxml import etree

    xsd = etree.XMLSchema(etree.parse(str(schema or schema_path())))
    try:
        tree = etree.fromstring(document, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise SchemaError([f"not well-formed XML: {exc}"]) from exc
    if not xsd.validate(tree):
        raise SchemaError([f"line {e.line}: {e.message}" for e in xsd.error_log])


def write_quarterly_reports(
    lines: Sequence[CustomsLine],
    communications: Mapping[str, Communication],
    declarant: Declarant,
    out: Path,
    *,
    submitted: datetime | None = None,
) -> list[Path]:
    """One validated XML per transitional quarter that has lines, into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    present = {(ln.year, ln.quarter) for ln in lines}
    for year, quarter in transitional_quarters():
        if (year, quarter) in present:
            path = out / f"cbam-qreport-{year}Q{quarter}.xml"
            path.write_bytes(
                quarterly_report(
                    year, quarter, lines, communications, declarant, submitted=submitted
                )
            )
            written.append(path)
    return written


def first_day(year: int, quarter: int) -> date:
    """The first day of a quarter."""
    return date(year, 3 * quarter - 2, 1)
