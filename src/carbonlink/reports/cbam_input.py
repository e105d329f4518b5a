"""The CBAM input file (YAML): installation, processes, goods, precursors and emissions.

The file is validated with pydantic and turned into the plain domain objects of
``carbonlink.domain.cbam``; its layout is documented in docs/cbam.md.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from carbonlink.domain.cbam import (
    CarbonPrice,
    CbamInstallationData,
    DataQuality,
    Good,
    HeatFlow,
    Installation,
    PrecursorInput,
    ProductionProcess,
    PurchasedPrecursor,
    Verifier,
)
from carbonlink.domain.factors import default_library
from carbonlink.domain.units import to_unit
from carbonlink.errors import InputError, UnknownFactorError

CBAM_INPUT_MEDIA_TYPE = "application/vnd.carbonlink.cbam-input+yaml"
"""How the store keeps a CBAM input file, so that the service can write its communication."""

ElectricitySourceCode = Literal["D.4(a)", "D.4(b)", "D.4.1", "D.4.2", "D.4.3.1", "D.4.3.2", "Mix"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ContactIn(_Strict):
    name: str = ""
    email: str = ""
    phone: str = ""


class InstallationIn(_Strict):
    name: str
    operator: str
    street: str
    city: str
    post_code: str
    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2 code")
    unlocode: str
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    economic_activity: str = ""
    contact: ContactIn = ContactIn()


class PeriodIn(_Strict):
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> PeriodIn:
        if self.end < self.start:
            raise ValueError("period end is before its start")
        return self


class HeatIn(_Strict):
    imported_tj: float = Field(default=0.0, ge=0)
    imported_ef: float | None = Field(default=None, ge=0, description="t CO2/TJ; empty: no data")
    exported_tj: float = Field(default=0.0, ge=0)
    exported_ef: float | None = Field(default=None, ge=0, description="t CO2/TJ; empty: no data")


class WasteGasIn(_Strict):
    imported_tj: float = Field(default=0.0, ge=0)
    exported_tj: float = Field(default=0.0, ge=0)
    imported_ef: float | None = Field(default=None, ge=0, description="the gas's t CO2/TJ")
    exported_ef: float | None = Field(default=None, ge=0, description="the gas's t CO2/TJ")


class VerifierIn(_Strict):
    company: str
    street: str = ""
    city: str = ""
    post_code: str = ""
    country: str = ""
    representative: str = ""
    email: str = ""
    phone: str = ""
    fax: str = ""
    accreditation_state: str = ""
    accreditation_body: str = ""
    accreditation_number: str = ""


class DataQualityIn(_Strict):
    general: (
        Literal[
            "Mostly measurements & analyses",
            "Mostly measurements & national standard factors for e.g. the emission factor",
            "Mostly measurements & sector-specific standard factors for e.g. the emission factor",
            "Mostly measurements & international standard factors for e.g. the emission factor",
            "Mostly default values provided by the European Commission",
        ]
        | Literal[""]
    ) = ""
    default_justification: (
        Literal["Unreasonable costs for more accurate monitoring", "Data gaps", "Other"]
        | Literal[""]
    ) = ""
    quality_assurance: (
        Literal["Third-party verification", "Internal audits", "Four eyes principle", "None"]
        | Literal[""]
    ) = ""


class ElectricityIn(_Strict):
    consumed_mwh: float = Field(default=0.0, ge=0)
    ef_t_per_mwh: float = Field(default=0.0, ge=0)
    factor: str | None = Field(
        default=None, description="id of a factor in carbonlink's library instead of ef_t_per_mwh"
    )
    ef_source: str = ""
    ef_source_code: ElectricitySourceCode | Literal[""] = ""
    exported_mwh: float = Field(default=0.0, ge=0)
    exported_ef_t_per_mwh: float = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _one_factor(self) -> ElectricityIn:
        if self.factor and self.ef_t_per_mwh:
            raise ValueError("give either ef_t_per_mwh or factor, not both")
        return self


def _electricity_factor(electricity: ElectricityIn, record: str) -> tuple[float, str]:
    """The electricity factor in t CO2/MWh and its source text, from the library when pinned."""
    if not electricity.factor:
        return electricity.ef_t_per_mwh, electricity.ef_source
    factor = default_library().find(electricity.factor)
    value = to_unit(factor.quantity, "t/MWh", record=record)
    return value, electricity.ef_source or f"{factor.citation} [{factor.id}]"


class PrecursorUseIn(_Strict):
    source: str
    mass_t: float = Field(ge=0)


# Percent keys of earlier input files → the mass-fraction keys the template's cells expect.
PERCENT_KEYS = {
    "mn_pct": "mn_content",
    "cr_pct": "cr_content",
    "ni_pct": "ni_content",
    "other_alloys_pct": "other_alloys_content",
    "carbon_pct": "carbon_content",
    "other_materials_pct": "other_materials_content",
    "pre_consumer_scrap_pct": "pre_consumer_scrap_share",
    "non_aluminium_pct": "non_aluminium_content",
}


class GoodIn(_Strict):
    cn_code: str = Field(pattern=r"^\d{8}$")
    name: str
    qualifying_parameters: dict[str, float | str] = {}

    @field_validator("qualifying_parameters")
    @classmethod
    def _fractions(cls, given: dict[str, float | str]) -> dict[str, float | str]:
        """Percent values become fractions (4.3 % → 0.043): one unit for every content."""
        out: dict[str, float | str] = {}
        for key, value in given.items():
            if key in PERCENT_KEYS:
                if not isinstance(value, float | int):
                    raise ValueError(f"{key} must be a number (percent)")
                out[PERCENT_KEYS[key]] = float(value) / 100
            else:
                out[key] = value
        for key, value in out.items():
            if key.endswith(("_content", "_share")) and not (
                isinstance(value, float | int) and 0 <= value <= 1
            ):
                raise ValueError(f"{key} is a mass fraction between 0 and 1 (got {value!r})")
        return out


class ProcessIn(_Strict):
    id: str
    name: str
    goods_category: str
    route: str = "All production routes"
    activity_level_t: float = Field(gt=0)
    produced_for_market_t: float | None = Field(default=None, ge=0)
    non_cbam_use_t: float = Field(default=0.0, ge=0)
    direct_emissions_t: float
    heat: HeatIn = HeatIn()
    waste_gas: WasteGasIn = WasteGasIn()
    electricity: ElectricityIn = ElectricityIn()
    precursors: list[PrecursorUseIn] = []
    goods: list[GoodIn] = []


class PurchasedIn(_Strict):
    id: str
    name: str
    goods_category: str
    country: str = Field(min_length=2, max_length=2)
    route: str = ""
    purchased_t: float = Field(ge=0)
    see_direct: float = Field(ge=0, description="t CO2e/t; for defaults the value before mark-up")
    origin: Literal["measured", "supplier", "default"]
    specific_electricity_mwh_per_t: float = Field(default=0.0, ge=0)
    electricity_ef_t_per_mwh: float = Field(default=0.0, ge=0)
    electricity_ef_source: str = ""
    electricity_ef_source_code: ElectricitySourceCode | Literal[""] = ""
    supplier: str = ""
    default_source: str = ""
    default_justification: str = ""
    apply_markup: bool = True
    default_share: float = Field(
        default=0.0, ge=0, le=1, description="share of a supplier's direct SEE from defaults"
    )


class CarbonPriceIn(_Strict):
    instrument: str
    amount: float
    currency: str = Field(min_length=3, max_length=3, description="ISO 4217 code")
    description: str = ""
    instrument_type: (
        Literal[
            "Carbon Tax",
            "Carbon Levy",
            "Carbon Fee",
            "National Emissions Trading System",
            "Regional Emissions Trading System",
            "Combination",
            "Other",
        ]
        | Literal[""]
    ) = ""
    share_covered: float | None = Field(default=None, ge=0, le=1)
    price_due_per_t: float | None = Field(default=None, ge=0)
    rebate_type: (
        Literal[
            "Free allocation", "Financial compensation", "Tax deduction", "Combination", "Other"
        ]
        | Literal[""]
    ) = ""
    rebate_share: float | None = Field(default=None, ge=0, le=1)
    rebate_per_t: float | None = Field(default=None, ge=0)
    cn_codes: list[str] = []


class InstallationEmissionsIn(_Strict):
    direct_t: float | None = None
    indirect_t: float | None = None


class DatasetIn(_Strict):
    """The enterprise inventory the file's ``{inventory: …}`` references read from."""

    file: str
    facility: str


class CbamInputFile(_Strict):
    """Top level of the CBAM input YAML."""

    installation: InstallationIn
    period: PeriodIn
    installation_emissions: InstallationEmissionsIn = InstallationEmissionsIn()
    processes: list[ProcessIn] = Field(min_length=1)
    purchased_precursors: list[PurchasedIn] = []
    carbon_prices: list[CarbonPriceIn] = []
    default_markup_year: int | None = Field(default=None, ge=2023, le=2100)
    verifier: VerifierIn | None = None
    data_quality: DataQualityIn = DataQualityIn()
    remarks: str = ""


def _heat(amount: float, ef: float | None) -> HeatFlow | None:
    return HeatFlow(amount, ef) if amount else None


def _process(p: ProcessIn) -> ProductionProcess:
    ef, ef_source = _electricity_factor(p.electricity, p.id)
    return ProductionProcess(
        id=p.id,
        name=p.name,
        goods_category=p.goods_category,
        route=p.route,
        activity_level_t=p.activity_level_t,
        direct_emissions_t=p.direct_emissions_t,
        produced_for_market_t=p.produced_for_market_t,
        heat_imported=_heat(p.heat.imported_tj, p.heat.imported_ef),
        heat_exported=_heat(p.heat.exported_tj, p.heat.exported_ef),
        waste_gas_imported_tj=p.waste_gas.imported_tj,
        waste_gas_exported_tj=p.waste_gas.exported_tj,
        waste_gas_imported_ef=p.waste_gas.imported_ef,
        waste_gas_exported_ef=p.waste_gas.exported_ef,
        electricity_mwh=p.electricity.consumed_mwh,
        electricity_ef=ef,
        electricity_ef_source=ef_source,
        electricity_ef_source_code=p.electricity.ef_source_code,
        electricity_exported_mwh=p.electricity.exported_mwh,
        electricity_exported_ef=p.electricity.exported_ef_t_per_mwh,
        non_cbam_use_t=p.non_cbam_use_t,
        precursors=tuple(PrecursorInput(u.source, u.mass_t) for u in p.precursors),
        goods=tuple(Good(g.cn_code, g.name, dict(g.qualifying_parameters)) for g in p.goods),
    )


def to_domain(doc: CbamInputFile, basis: dict[str, Any] | None = None) -> CbamInstallationData:
    """The validated file as domain objects."""
    site = doc.installation
    installation = Installation(
        name=site.name,
        operator=site.operator,
        street=site.street,
        city=site.city,
        post_code=site.post_code,
        country=site.country.upper(),
        unlocode=site.unlocode,
        latitude=site.latitude,
        longitude=site.longitude,
        economic_activity=site.economic_activity,
        contact_name=site.contact.name,
        contact_email=site.contact.email,
        contact_phone=site.contact.phone,
    )
    processes = tuple(_process(p) for p in doc.processes)
    purchased = tuple(
        PurchasedPrecursor(
            id=p.id,
            name=p.name,
            goods_category=p.goods_category,
            country=p.country.upper(),
            route=p.route,
            purchased_t=p.purchased_t,
            see_direct=p.see_direct,
            origin=p.origin,
            specific_electricity_mwh_per_t=p.specific_electricity_mwh_per_t,
            electricity_ef=p.electricity_ef_t_per_mwh,
            electricity_ef_source=p.electricity_ef_source,
            electricity_ef_source_code=p.electricity_ef_source_code,
            supplier=p.supplier,
            default_source=p.default_source,
            default_justification=p.default_justification,
            apply_markup=p.apply_markup,
            default_share=p.default_share,
        )
        for p in doc.purchased_precursors
    )
    return CbamInstallationData(
        installation=installation,
        period_start=doc.period.start,
        period_end=doc.period.end,
        processes=processes,
        purchased_precursors=purchased,
        carbon_prices=tuple(
            CarbonPrice(
                instrument=c.instrument,
                amount=c.amount,
                currency=c.currency.upper(),
                description=c.description,
                instrument_type=c.instrument_type,
                share_covered=c.share_covered,
                price_due_per_t=c.price_due_per_t,
                rebate_type=c.rebate_type,
                rebate_share=c.rebate_share,
                rebate_per_t=c.rebate_per_t,
                cn_codes=tuple(c.cn_codes),
            )
            for c in doc.carbon_prices
        ),
        installation_direct_emissions_t=doc.installation_emissions.direct_t,
        installation_indirect_emissions_t=doc.installation_emissions.indirect_t,
        remarks=doc.remarks,
        markup_year=doc.default_markup_year,
        verifier=Verifier(**doc.verifier.model_dump()) if doc.verifier else None,
        data_quality=DataQuality(**doc.data_quality.model_dump()),
        inventory_basis=basis,
    )


def _supplier_figure(node: Any, folder: Path, where: str) -> Any:
    """Replace ``{cbam: FILE, cn_code: CODE, value: FIELD}`` by a figure of that good's SEE.

    A precursor bought from another installation of the same enterprise takes its SEE from
    that installation's communication, computed here from its own input file. ``value`` is a
    field of the good (``see_direct``, ``embedded_electricity_mwh_per_t``…) or
    ``electricity_ef`` (indirect SEE per MWh of embedded electricity).
    """
    if isinstance(node, dict):
        if "cbam" in node:
            from carbonlink.reports.cbam import build_communication

            other = folder / str(node["cbam"])
            communication = build_communication(load_cbam_input(other))
            good = next(
                (g for g in communication["goods"] if g["cn_code"] == str(node.get("cn_code"))),
                None,
            )
            if good is None:
                raise InputError(
                    f"{where}: {other.name} communicates no good {node.get('cn_code')!r}",
                    file=str(other),
                )
            name = str(node.get("value", ""))
            if name == "electricity_ef":
                mwh = good["embedded_electricity_mwh_per_t"]
                return good["see_indirect"] / mwh if mwh else 0.0
            if name not in good or not isinstance(good[name], float):
                raise InputError(f"{where}: a good has no figure {name!r}", file=str(other))
            return good[name]
        return {k: _supplier_figure(v, folder, f"{where}/{k}") for k, v in node.items()}
    if isinstance(node, list):
        return [_supplier_figure(v, folder, f"{where}/{i}") for i, v in enumerate(node)]
    return node


def _from_dataset(raw: dict[str, Any], path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The file with its ``{inventory: …}`` references read from the linked inventory."""
    from carbonlink.domain.engine import account
    from carbonlink.domain.inventory import parse_inventory
    from carbonlink.reports.enterprise import EnterpriseFacts, resolve, source_streams

    raw = dict(raw)
    try:
        link = DatasetIn.model_validate(raw.pop("dataset"))
    except ValidationError as exc:
        raise InputError(
            f"dataset: {exc.errors()[0]['msg']}",
            file=str(path),
            hint="give dataset: {file: INVENTORY.yaml, facility: FACILITY-ID}",
        ) from exc
    inventory_path = path.parent / link.file
    try:
        text = inventory_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(
            f"cannot read the dataset's inventory {inventory_path}: {exc.strerror}",
            file=str(path),
            hint="dataset.file is relative to the CBAM input file",
        ) from exc
    inventory = parse_inventory(text, file=str(inventory_path))
    facts = EnterpriseFacts(
        inventory,
        account(inventory, file=str(inventory_path)),
        facility=link.facility,
        file=str(path),
    )
    facts.facility_of(link.facility, "dataset.facility")
    resolved = _supplier_figure(resolve(raw, facts), path.parent, "")
    direct = facts.used.get("installation_emissions/direct_t")
    streams = source_streams(facts, link.facility, direct["exclude"] if direct else [])
    return resolved, {
        "file": link.file,
        "facility": link.facility,
        "figures": facts.used,
        "source_streams": streams,
    }


def load_cbam_input(path: Path, *, text: str | None = None) -> CbamInstallationData:
    """Read and validate a CBAM input YAML file (``text``: its content, already decoded)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8") if text is None else text)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}", file=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise InputError(
            f"cannot read {path}: not UTF-8 text",
            file=str(path),
            hint="save the file as UTF-8 (`carbonlink report` also reads GB18030/GBK)",
        ) from exc
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", file=str(path)) from exc
    basis = None
    if isinstance(raw, dict) and "dataset" in raw:
        raw, basis = _from_dataset(raw, path)
    try:
        doc = CbamInputFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InputError(
            f"{where}: {first['msg']} ({exc.error_count()} problem(s) in total)",
            file=str(path),
            hint="see docs/cbam.md for the layout of the CBAM input file",
        ) from exc
    try:
        return to_domain(doc, basis)
    except UnknownFactorError as exc:
        raise InputError(exc.message, file=str(path), record=exc.record, hint=exc.hint) from exc
