"""Between carbonlink's computed footprints and PACT documents.

`to_product_footprint` publishes a solved footprint as a PACT v3 ProductFootprint;
`supplier_footprint` turns a supplier's PACT footprint into a BOM input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from carbonlink.domain.footprint import (
    DataQuality,
    EmissionProfile,
    ProductFootprintResult,
    SupplierFootprint,
)
from carbonlink.errors import InputError
from carbonlink.exchange.pact.models import (
    CarbonFootprint,
    EmissionFactorSource,
    ProductFootprint,
)
from carbonlink.exchange.pact.types import format_decimal, parse_decimal

SPEC_VERSION = "3.0.3"


@dataclass(frozen=True, slots=True)
class DataOwner:
    """The company publishing footprints: its name and URN identifiers (e.g. urn:lei:…)."""

    name: str
    ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PublicationContext:
    """What a PACT footprint says beyond the numbers: period, geography, standards, provenance.

    ``geography`` is an ISO 3166-1 alpha-2 country (``CN``), an ISO 3166-2 subdivision
    (``CN-JS``) or a UN region name; None for a global footprint.
    """

    reference_period_start: datetime
    reference_period_end: datetime
    geography: str | None = None
    ipcc_characterization_factors: tuple[str, ...] = ("AR6",)
    cross_sectoral_standards: tuple[str, ...] = ("ISO14067", "PACT-3.0")
    exempted_emissions_percent: float = 0.0
    secondary_emission_factor_sources: tuple[tuple[str, str], ...] = ()
    allocation_rules_description: str | None = None
    boundary_processes_description: str | None = None
    validity_period_start: datetime | None = None
    validity_period_end: datetime | None = None
    packaging_emissions_included: bool = False
    comment: str | None = None


def to_product_footprint(
    result: ProductFootprintResult,
    *,
    owner: DataOwner,
    context: PublicationContext,
    pf_id: UUID,
    created: datetime,
    preceding_pf_ids: Sequence[UUID] = (),
    status: str = "Active",
) -> ProductFootprint:
    """A PACT v3 ProductFootprint for one solved product footprint.

    Emissions are kg CO2e per declared unit, as carbonlink computes them. The product must have
    at least one identifier URN (PACT requires ``productIds``).
    """
    product = result.product
    if not product.identifiers:
        raise InputError(
            "PACT needs at least one product identifier",
            record=product.key,
            hint="give the product a GTIN, Handle or company URN (see carbonlink.domain.footprint)",
        )
    p = result.profile
    ccs = p.ccs_technological_co2_capture != 0 or p.technological_co2_removals != 0
    pcf: dict[str, object] = {
        "declaredUnitOfMeasurement": str(product.declared_unit),
        "declaredUnitAmount": format_decimal(product.declared_unit_amount),
        "productMassPerDeclaredUnit": format_decimal(product.mass_per_declared_unit),
        "referencePeriodStart": _timestamp(context.reference_period_start),
        "referencePeriodEnd": _timestamp(context.reference_period_end),
        **_geography(context.geography),
        "pcfExcludingBiogenicUptake": format_decimal(result.pcf_excluding_biogenic_uptake),
        "pcfIncludingBiogenicUptake": format_decimal(result.pcf_including_biogenic_uptake),
        "fossilCarbonContent": format_decimal(product.fossil_carbon_content),
        "fossilGhgEmissions": format_decimal(p.fossil),
        "landUseChangeGhgEmissions": format_decimal(p.land_use_change),
        "landManagementBiogenicCO2Emissions": format_decimal(
            p.land_management_biogenic_co2_emissions
        ),
        "landManagementBiogenicCO2Removals": format_decimal(
            p.land_management_biogenic_co2_removals
        ),
        "biogenicCO2Uptake": format_decimal(p.biogenic_co2_uptake),
        "biogenicNonCO2Emissions": format_decimal(p.biogenic_non_co2),
        "packagingEmissionsIncluded": context.packaging_emissions_included,
        "ccsTechnologicalCO2CaptureIncluded": ccs,
        "ipccCharacterizationFactors": list(context.ipcc_characterization_factors),
        "crossSectoralStandards": list(context.cross_sectoral_standards),
        "exemptedEmissionsPercent": format_decimal(context.exempted_emissions_percent),
    }
    if product.biogenic_carbon_content is not None:
        pcf["biogenicCarbonContent"] = format_decimal(product.biogenic_carbon_content)
    if ccs:
        pcf["ccsTechnologicalCO2Capture"] = format_decimal(p.ccs_technological_co2_capture)
        pcf["technologicalCO2Removals"] = format_decimal(p.technological_co2_removals)
    if context.boundary_processes_description:
        pcf["boundaryProcessesDescription"] = context.boundary_processes_description
    if context.allocation_rules_description:
        pcf["allocationRulesDescription"] = context.allocation_rules_description
    if context.secondary_emission_factor_sources:
        pcf["secondaryEmissionFactorSources"] = [
            EmissionFactorSource(name=name, version=version).to_json()
            for name, version in context.secondary_emission_factor_sources
        ]
    if result.primary_data_share is not None:
        pcf["primaryDataShare"] = format_decimal(result.primary_data_share, significant=6)
    if result.quality is not None:
        q = result.quality
        pcf["dqi"] = {
            "technologicalDQR": format_decimal(q.technological, significant=4),
            "geographicalDQR": format_decimal(q.geographical, significant=4),
            "temporalDQR": format_decimal(q.temporal, significant=4),
        }
    document: dict[str, object] = {
        "id": str(pf_id),
        "specVersion": SPEC_VERSION,
        "created": _timestamp(created),
        "status": status,
        "companyName": owner.name,
        "companyIds": list(owner.ids),
        "productDescription": product.description,
        "productIds": list(product.identifiers),
        "productNameCompany": product.name,
        "pcf": CarbonFootprint.model_validate(pcf).to_json(),
    }
    if preceding_pf_ids:
        document["precedingPfIds"] = [str(u) for u in preceding_pf_ids]
    if product.classifications:
        document["productClassifications"] = list(product.classifications)
    if context.validity_period_start:
        document["validityPeriodStart"] = _timestamp(context.validity_period_start)
    if context.validity_period_end:
        document["validityPeriodEnd"] = _timestamp(context.validity_period_end)
    if context.comment:
        document["comment"] = context.comment
    return ProductFootprint.model_validate(document)


def supplier_footprint(footprint: ProductFootprint) -> SupplierFootprint:
    """A supplier's PACT footprint as a purchased-input footprint for a bill of materials.

    Undefined optional emission properties count as 0; the primary data share as 0 % and the
    data quality as unrated when they are missing.
    """
    pcf = footprint.pcf

    def value(text: str | None) -> float:
        return parse_decimal(text) if text is not None else 0.0

    profile = EmissionProfile(
        fossil=value(pcf.fossil_ghg_emissions),
        land_use_change=value(pcf.land_use_change_ghg_emissions),
        land_management_biogenic_co2_emissions=value(pcf.land_management_biogenic_co2_emissions),
        land_management_biogenic_co2_removals=value(pcf.land_management_biogenic_co2_removals),
        biogenic_non_co2=value(pcf.biogenic_non_co2_emissions),
        technological_co2_removals=value(pcf.technological_co2_removals),
        ccs_technological_co2_capture=value(pcf.ccs_technological_co2_capture),
        biogenic_co2_uptake=value(pcf.biogenic_co2_uptake),
    )
    quality = None
    if pcf.dqi is not None:
        quality = DataQuality(
            parse_decimal(pcf.dqi.technological_dqr),
            parse_decimal(pcf.dqi.geographical_dqr),
            parse_decimal(pcf.dqi.temporal_dqr),
        )
    share = value(pcf.primary_data_share)
    return SupplierFootprint(
        reference=footprint.id,
        supplier=footprint.company_name,
        declared_unit=pcf.declared_unit_of_measurement,
        profile=profile,
        declared_unit_amount=parse_decimal(pcf.declared_unit_amount),
        primary_data_share=min(max(share, 0.0), 100.0),
        quality=quality,
    )


def _timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise InputError(
            f"{moment.isoformat()} has no time zone", hint="use an aware datetime (UTC)"
        )
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _geography(geography: str | None) -> dict[str, str]:
    if geography is None:
        return {}
    if len(geography) == 2 and geography.isupper():
        return {"geographyCountry": geography}
    if len(geography) > 3 and geography[2] == "-" and geography[:2].isupper():
        return {"geographyCountrySubdivision": geography}
    return {"geographyRegionOrSubregion": geography}
