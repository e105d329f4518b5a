"""PACT Methodology reporting rules: what a footprint should say beyond what the schema requires.

The PACT v3 specification separates two layers of validation: the OpenAPI schema (enforced by the
models, for machine-to-machine exchange) and the Methodology's reporting rules (``x-rule`` in the
OpenAPI document: SHALL, SHOULD, BIO, CCS …), meant to help people filling in a footprint. This
module reports the second layer as a list of findings; it never rejects a document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from carbonlink.exchange.pact.models import CarbonFootprint, PactModel, ProductFootprint

# Properties every footprint SHALL report although the schema leaves them optional.
_SHALL = ("packagingEmissionsIncluded", "ccsTechnologicalCO2CaptureIncluded", "primaryDataShare")
_SHOULD = ("boundaryProcessesDescription", "allocationRulesDescription")
_GEOGRAPHY = ("geographyRegionOrSubregion", "geographyCountry", "geographyCountrySubdivision")
_CCS = ("ccsTechnologicalCO2Capture", "technologicalCO2Removals", "technologicalCO2CaptureOrigin")


@dataclass(frozen=True, slots=True)
class Finding:
    """One reporting-rule finding: where, how binding, and what to do."""

    path: str
    level: Literal["SHALL", "SHOULD"]
    message: str


def reporting_findings(footprint: ProductFootprint) -> list[Finding]:
    """Reporting-rule findings for ``footprint`` (empty when it follows them all)."""
    pcf = footprint.pcf
    given = pcf.model_dump(by_alias=True, exclude_none=True)
    findings = [
        Finding(f"pcf.{name}", "SHALL", f"{name} must be reported")
        for name in _SHALL
        if name not in given
    ]
    findings += [
        Finding(f"pcf.{name}", "SHOULD", f"{name} should be reported")
        for name in _SHOULD
        if name not in given
    ]
    if not any(name in given for name in _GEOGRAPHY):
        findings.append(
            Finding("pcf", "SHOULD", "no geography: give a country, subdivision or UN region")
        )
    if pcf.packaging_emissions_included is not True and pcf.packaging_ghg_emissions is not None:
        findings.append(
            Finding(
                "pcf.packagingGhgEmissions",
                "SHALL",
                "packagingGhgEmissions is given but packagingEmissionsIncluded is not true",
            )
        )
    if pcf.ccs_technological_co2_capture_included is not True:
        findings += [
            Finding(
                f"pcf.{name}",
                "SHALL",
                f"{name} is given but ccsTechnologicalCO2CaptureIncluded is not true",
            )
            for name in _CCS
            if name in given
        ]
    findings += _unknown(footprint, "", ProductFootprint)
    findings += _unknown(pcf, "pcf.", CarbonFootprint)
    return findings


def _unknown(model: PactModel, prefix: str, kind: type[PactModel]) -> list[Finding]:
    known = {field.alias or name for name, field in kind.model_fields.items()}
    return [
        Finding(
            f"{prefix}{name}",
            "SHOULD",
            f"{name} is not a PACT v3 property (an older version?); recipients may ignore it",
        )
        for name in (model.model_extra or {})
        if name not in known
    ]
