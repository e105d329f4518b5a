"""EU CBAM: installation → processes → goods; attribution and specific embedded emissions."""

from carbonlink.domain.cbam.calculation import (
    AttributedEmissions,
    CbamResult,
    PrecursorCycleError,
    PrecursorSee,
    ProcessSee,
    UnknownPrecursorError,
    attribute_emissions,
    compute_see,
    precursor_see,
    topological_order,
)
from carbonlink.domain.cbam.model import (
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

__all__ = [
    "AttributedEmissions",
    "CarbonPrice",
    "CbamInstallationData",
    "CbamResult",
    "DataQuality",
    "Good",
    "HeatFlow",
    "Installation",
    "PrecursorCycleError",
    "PrecursorInput",
    "PrecursorSee",
    "ProcessSee",
    "ProductionProcess",
    "PurchasedPrecursor",
    "UnknownPrecursorError",
    "Verifier",
    "attribute_emissions",
    "compute_see",
    "precursor_see",
    "topological_order",
]
