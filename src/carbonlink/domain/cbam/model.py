"""The CBAM installation model: installation → production processes → goods, plus precursors.

Plain frozen data in the units the EU communication template asks for: masses in tonnes,
emissions in t CO2e, heat and waste gas in TJ, electricity in MWh, factors per those units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

SeeOrigin = Literal["measured", "supplier", "default"]


@dataclass(frozen=True)
class Installation:
    """The installation (site) whose goods are communicated, with the identity importers need."""

    name: str
    operator: str
    street: str
    city: str
    post_code: str
    country: str
    unlocode: str
    latitude: float
    longitude: float
    economic_activity: str = ""
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""


@dataclass(frozen=True)
class Good:
    """A good (one CN code) that leaves a production process, with its qualifying parameters."""

    cn_code: str
    name: str
    qualifying_parameters: dict[str, float | str] = field(default_factory=dict)


@dataclass(frozen=True)
class PrecursorInput:
    """Mass of a precursor (own process or purchased precursor id) consumed by a process, t."""

    source: str
    mass_t: float


@dataclass(frozen=True)
class HeatFlow:
    """Net measurable heat imported into or exported from a process.

    ``emission_factor`` in t CO2/TJ; ``None`` means no data, and the Annex III default
    (EF_NG / 0.90) applies.
    """

    amount_tj: float
    emission_factor: float | None = None


@dataclass(frozen=True)
class ProductionProcess:
    """A production process with its directly attributable emissions and energy flows.

    ``direct_emissions`` is DirEm* of Implementing Regulation 2023/1773 Annex III F.1:
    source streams and emission sources attributable to the process, before the heat,
    waste-gas and exported-electricity corrections.
    """

    id: str
    name: str
    goods_category: str
    route: str
    activity_level_t: float
    direct_emissions_t: float
    produced_for_market_t: float | None = None
    heat_imported: HeatFlow | None = None
    heat_exported: HeatFlow | None = None
    waste_gas_imported_tj: float = 0.0
    waste_gas_exported_tj: float = 0.0
    waste_gas_imported_ef: float | None = None
    waste_gas_exported_ef: float | None = None
    """The waste gas's own factors (t CO2/TJ), for the record; corrections use EF_NG."""
    electricity_mwh: float = 0.0
    electricity_ef: float = 0.0
    electricity_ef_source: str = ""
    electricity_ef_source_code: str = ""
    electricity_exported_mwh: float = 0.0
    electricity_exported_ef: float = 0.0
    non_cbam_use_t: float = 0.0
    precursors: tuple[PrecursorInput, ...] = ()
    goods: tuple[Good, ...] = ()


@dataclass(frozen=True)
class PurchasedPrecursor:
    """A precursor bought from another installation, with its SEE and where it came from.

    For ``origin == "default"`` the SEE given is the default value *before* any mark-up;
    the calculation applies the mark-up of the year and records it, and
    ``default_justification`` must say why no actual data was available.
    """

    id: str
    name: str
    goods_category: str
    country: str
    route: str
    purchased_t: float
    see_direct: float
    origin: SeeOrigin
    specific_electricity_mwh_per_t: float = 0.0
    electricity_ef: float = 0.0
    electricity_ef_source: str = ""
    electricity_ef_source_code: str = ""
    supplier: str = ""
    default_source: str = ""
    default_justification: str = ""
    apply_markup: bool = True
    default_share: float = 0.0
    """For actual (supplier) SEE: the share of it that stems from default values upstream."""


@dataclass(frozen=True)
class CarbonPrice:
    """A carbon price paid in the country of origin for the installation's emissions.

    ``amount`` is what was paid for the period; the per-product fields follow the template's
    Summary_Products columns: the instrument type, the share of the embedded emissions it
    covers, the price due per tonne of product and any rebate. ``cn_codes`` limits the price to
    some goods (empty: all goods of the installation).
    """

    instrument: str
    amount: float
    currency: str
    description: str = ""
    instrument_type: str = ""
    share_covered: float | None = None
    price_due_per_t: float | None = None
    rebate_type: str = ""
    rebate_share: float | None = None
    rebate_per_t: float | None = None
    cn_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verifier:
    """The verifier of the installation's data (template A_InstData section 3), if any."""

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


@dataclass(frozen=True)
class DataQuality:
    """Data quality and quality assurance (template C_Emissions&Energy section 2(c)).

    Each field takes the template's wording (its drop-down lists); ``default_justification``
    is the category when default values were used.
    """

    general: str = ""
    default_justification: str = ""
    quality_assurance: str = ""


@dataclass(frozen=True)
class CbamInstallationData:
    """Everything needed to compute and communicate SEE for one installation and period.

    ``markup_year`` is the year whose default-value mark-up applies (the year the goods are
    imported); empty means the year the reporting period ends in.
    """

    installation: Installation
    period_start: date
    period_end: date
    processes: tuple[ProductionProcess, ...]
    purchased_precursors: tuple[PurchasedPrecursor, ...] = ()
    carbon_prices: tuple[CarbonPrice, ...] = ()
    installation_direct_emissions_t: float | None = None
    installation_indirect_emissions_t: float | None = None
    remarks: str = ""
    markup_year: int | None = None
    verifier: Verifier | None = None
    data_quality: DataQuality = DataQuality()
    inventory_basis: dict[str, Any] | None = None
    """Which figures were read from the enterprise's inventory, and from which sources."""
