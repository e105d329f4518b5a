"""PACT v3.0.3 data model: ProductFootprint, CarbonFootprint and their parts, as pydantic models.

Each model follows ``components/schemas`` of the official OpenAPI document (PACT Technical
Specification v3.0.3): the same property names on the wire, the same required properties, enums
and patterns. Decimals stay JSON strings. Properties the schema does not name are kept (the schema
allows them) and written back unchanged; a property sent as ``null`` counts as undefined, as the
specification says ("Undefined Properties"), except where the property is required.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from carbonlink.exchange.pact.types import (
    DateTime,
    Decimal,
    NegativeOrZeroDecimal,
    NonEmptyString,
    PositiveNonZeroDecimal,
    PositiveOrZeroDecimal,
    Text,
    Uri,
    Urn,
    Uuid,
    parse_decimal,
    unique,
)

DeclaredUnitOfMeasurement = Literal[
    "liter",
    "kilogram",
    "cubic meter",
    "kilowatt hour",
    "megajoule",
    "ton kilometer",
    "square meter",
    "piece",
    "hour",
    "megabit second",
]
RegionOrSubregion = Literal[
    "Africa",
    "Americas",
    "Asia",
    "Europe",
    "Oceania",
    "Australia and New Zealand",
    "Central Asia",
    "Eastern Asia",
    "Eastern Europe",
    "Latin America and the Caribbean",
    "Melanesia",
    "Micronesia",
    "Northern Africa",
    "Northern America",
    "Northern Europe",
    "Polynesia",
    "South-eastern Asia",
    "Southern Asia",
    "Southern Europe",
    "Sub-Saharan Africa",
    "Western Asia",
    "Western Europe",
]
Status = Literal["Active", "Deprecated"]
ErrorCode = Literal[
    "BadRequest", "AccessDenied", "TokenExpired", "NotFound", "InternalError", "NotImplemented"
]

UrnSet = Annotated[list[Urn], Field(min_length=1), AfterValidator(unique)]
CountryCode = Annotated[Text, Field(pattern=r"^[A-Z]{2}$")]
SubdivisionCode = Annotated[Text, Field(pattern=r"^[A-Z]{2}-[A-Z0-9]{1,3}$")]
SpecVersion = Annotated[Text, Field(pattern=r"^\d+\.\d+\.\d+(-\d{8})?$")]
IpccReport = Annotated[Text, Field(pattern=r"^AR\d+$")]


def _one_to_five(text: str) -> str:
    if not 1.0 <= parse_decimal(text) <= 5.0:
        raise ValueError(f"{text!r} must be between 1 and 5 inclusive")
    return text


Rating = Annotated[Decimal, AfterValidator(_one_to_five)]


class PactModel(BaseModel):
    """Common configuration: wire names as aliases, unknown properties kept, nulls undefined.

    Input is read by the wire (camelCase) names only; Python attributes are snake_case.
    """

    model_config = ConfigDict(
        extra="allow",
        validate_by_alias=True,
        validate_by_name=False,
        serialize_by_alias=True,
        frozen=True,
    )

    @model_validator(mode="before")
    @classmethod
    def _null_is_undefined(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        required = {
            field.alias or name for name, field in cls.model_fields.items() if field.is_required()
        }
        return {k: v for k, v in data.items() if v is not None or k in required}

    def to_json(self) -> dict[str, Any]:
        """The JSON object (dict) of this model, undefined properties left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class DataQualityIndicators(PactModel):
    """Data-quality ratings, each a decimal between 1 and 5 (PACT Methodology §4.2.3)."""

    technological_dqr: Rating = Field(alias="technologicalDQR")
    geographical_dqr: Rating = Field(alias="geographicalDQR")
    temporal_dqr: Rating = Field(alias="temporalDQR")


class Verification(PactModel):
    """Whether and how the carbon footprint was verified."""

    coverage: Literal["PCF calculation model", "PCF program", "product level"] | None = None
    provider_name: Text | None = Field(default=None, alias="providerName")
    completed_at: DateTime | None = Field(default=None, alias="completedAt")
    standard_name: Text | None = Field(default=None, alias="standardName")
    comments: Text | None = None


class EmissionFactorSource(PactModel):
    """A secondary emission-factor database and its version."""

    name: NonEmptyString
    version: NonEmptyString


class ProductOrSectorSpecificRule(PactModel):
    """Product or sector rules (PCR, PEFCR) applied, by operator."""

    operator: Literal["PEF", "EPD International", "Other"]
    rule_names: Annotated[
        list[Annotated[Text, Field(min_length=1)]], Field(min_length=1), AfterValidator(unique)
    ] = Field(alias="ruleNames")
    other_operator_name: Annotated[Text, Field(min_length=1)] | None = Field(
        default=None, alias="otherOperatorName"
    )


class DataModelExtension(PactModel):
    """Additional data conforming to a published extension schema."""

    spec_version: Text = Field(alias="specVersion")
    data_schema: Uri = Field(alias="dataSchema")
    documentation: Uri | None = None
    data: dict[str, Any]


class CarbonFootprint(PactModel):
    """The carbon footprint of a product per declared unit (kg CO2e), PACT v3 ``CarbonFootprint``.

    At most one of the geography properties may be given (schema ``oneOf``).
    """

    declared_unit_of_measurement: DeclaredUnitOfMeasurement = Field(
        alias="declaredUnitOfMeasurement"
    )
    declared_unit_amount: PositiveNonZeroDecimal = Field(alias="declaredUnitAmount")
    product_mass_per_declared_unit: Decimal = Field(alias="productMassPerDeclaredUnit")
    reference_period_start: DateTime = Field(alias="referencePeriodStart")
    reference_period_end: DateTime = Field(alias="referencePeriodEnd")
    geography_region_or_subregion: RegionOrSubregion | None = Field(
        default=None, alias="geographyRegionOrSubregion"
    )
    geography_country: CountryCode | None = Field(default=None, alias="geographyCountry")
    geography_country_subdivision: SubdivisionCode | None = Field(
        default=None, alias="geographyCountrySubdivision"
    )
    boundary_processes_description: Text | None = Field(
        default=None, alias="boundaryProcessesDescription"
    )
    pcf_excluding_biogenic_uptake: Decimal = Field(alias="pcfExcludingBiogenicUptake")
    pcf_including_biogenic_uptake: Decimal = Field(alias="pcfIncludingBiogenicUptake")
    fossil_carbon_content: PositiveOrZeroDecimal = Field(alias="fossilCarbonContent")
    biogenic_carbon_content: PositiveOrZeroDecimal | None = Field(
        default=None, alias="biogenicCarbonContent"
    )
    recycled_carbon_content: PositiveOrZeroDecimal | None = Field(
        default=None, alias="recycledCarbonContent"
    )
    fossil_ghg_emissions: PositiveOrZeroDecimal = Field(alias="fossilGhgEmissions")
    land_use_change_ghg_emissions: PositiveOrZeroDecimal | None = Field(
        default=None, alias="landUseChangeGhgEmissions"
    )
    land_carbon_leakage: PositiveOrZeroDecimal | None = Field(
        default=None, alias="landCarbonLeakage"
    )
    land_management_fossil_ghg_emissions: PositiveOrZeroDecimal | None = Field(
        default=None, alias="landManagementFossilGhgEmissions"
    )
    land_management_biogenic_co2_emissions: PositiveOrZeroDecimal | None = Field(
        default=None, alias="landManagementBiogenicCO2Emissions"
    )
    land_management_biogenic_co2_removals: NegativeOrZeroDecimal | None = Field(
        default=None, alias="landManagementBiogenicCO2Removals"
    )
    biogenic_co2_uptake: NegativeOrZeroDecimal | None = Field(
        default=None, alias="biogenicCO2Uptake"
    )
    biogenic_non_co2_emissions: PositiveOrZeroDecimal | None = Field(
        default=None, alias="biogenicNonCO2Emissions"
    )
    land_area_occupation: PositiveOrZeroDecimal | None = Field(
        default=None, alias="landAreaOccupation"
    )
    aircraft_ghg_emissions: PositiveOrZeroDecimal | None = Field(
        default=None, alias="aircraftGhgEmissions"
    )
    packaging_emissions_included: bool | None = Field(
        default=None, alias="packagingEmissionsIncluded", strict=True
    )
    packaging_ghg_emissions: PositiveOrZeroDecimal | None = Field(
        default=None, alias="packagingGhgEmissions"
    )
    packaging_biogenic_carbon_content: PositiveOrZeroDecimal | None = Field(
        default=None, alias="packagingBiogenicCarbonContent"
    )
    outbound_logistics_ghg_emissions: PositiveOrZeroDecimal | None = Field(
        default=None, alias="outboundLogisticsGhgEmissions"
    )
    ccs_technological_co2_capture_included: bool | None = Field(
        default=None, alias="ccsTechnologicalCO2CaptureIncluded", strict=True
    )
    ccs_technological_co2_capture: NegativeOrZeroDecimal | None = Field(
        default=None, alias="ccsTechnologicalCO2Capture"
    )
    technological_co2_capture_origin: Text | None = Field(
        default=None, alias="technologicalCO2CaptureOrigin"
    )
    technological_co2_removals: NegativeOrZeroDecimal | None = Field(
        default=None, alias="technologicalCO2Removals"
    )
    ccu_carbon_content: PositiveOrZeroDecimal | None = Field(default=None, alias="ccuCarbonContent")
    ccu_calculation_approach: Literal["Cut-off", "Credit"] | None = Field(
        default=None, alias="ccuCalculationApproach"
    )
    ccu_credit_certification: Uri | None = Field(default=None, alias="ccuCreditCertification")
    ipcc_characterization_factors: Annotated[
        list[IpccReport], Field(min_length=1), AfterValidator(unique)
    ] = Field(alias="ipccCharacterizationFactors")
    cross_sectoral_standards: Annotated[list[Text], Field(min_length=1), AfterValidator(unique)] = (
        Field(alias="crossSectoralStandards")
    )
    product_or_sector_specific_rules: (
        Annotated[list[ProductOrSectorSpecificRule], Field(min_length=1), AfterValidator(unique)]
        | None
    ) = Field(default=None, alias="productOrSectorSpecificRules")
    exempted_emissions_percent: Decimal = Field(alias="exemptedEmissionsPercent")
    exempted_emissions_description: Text | None = Field(
        default=None, alias="exemptedEmissionsDescription"
    )
    allocation_rules_description: Text | None = Field(
        default=None, alias="allocationRulesDescription"
    )
    secondary_emission_factor_sources: (
        Annotated[list[EmissionFactorSource], Field(min_length=1)] | None
    ) = Field(default=None, alias="secondaryEmissionFactorSources")
    primary_data_share: Decimal | None = Field(default=None, alias="primaryDataShare")
    dqi: DataQualityIndicators | None = None
    verification: Verification | None = None

    @model_validator(mode="after")
    def _one_geography(self) -> CarbonFootprint:
        given = [
            name
            for name, value in (
                ("geographyRegionOrSubregion", self.geography_region_or_subregion),
                ("geographyCountry", self.geography_country),
                ("geographyCountrySubdivision", self.geography_country_subdivision),
            )
            if value is not None
        ]
        if len(given) > 1:
            raise ValueError(
                f"{' and '.join(given)} are both given; a footprint has at most one geography "
                "(leave out all but the most specific)"
            )
        return self


class ProductFootprint(PactModel):
    """A product's footprint, its data owner and identifiers (PACT ``ProductFootprint``)."""

    id: Uuid
    spec_version: SpecVersion = Field(alias="specVersion")
    preceding_pf_ids: Annotated[list[Uuid], Field(min_length=1), AfterValidator(unique)] | None = (
        Field(default=None, alias="precedingPfIds")
    )
    created: DateTime
    status: Status
    validity_period_start: DateTime | None = Field(default=None, alias="validityPeriodStart")
    validity_period_end: DateTime | None = Field(default=None, alias="validityPeriodEnd")
    company_name: NonEmptyString = Field(alias="companyName")
    company_ids: UrnSet = Field(alias="companyIds")
    product_description: Text = Field(alias="productDescription")
    product_ids: UrnSet = Field(alias="productIds")
    product_classifications: UrnSet | None = Field(default=None, alias="productClassifications")
    product_name_company: NonEmptyString = Field(alias="productNameCompany")
    comment: Text | None = None
    pcf: CarbonFootprint
    extensions: list[DataModelExtension] | None = None


class Error(PactModel):
    """The error body of every failed PACT action."""

    code: ErrorCode
    message: Text


class ListFootprintsResponse(PactModel):
    """Body of ``GET /3/footprints`` (an empty list is ``[]``, never null)."""

    data: list[ProductFootprint]


class GetFootprintResponse(PactModel):
    """Body of ``GET /3/footprints/{id}``."""

    data: ProductFootprint
