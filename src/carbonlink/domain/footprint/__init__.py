"""Product carbon footprints: products, bills of materials, allocation and the system solve.

Pure computation on plain objects and numpy/scipy arrays; see `system` for the data layout and
`solve` for the mathematics.
"""

from carbonlink.domain.footprint.allocation import (
    Allocation,
    AllocationRule,
    CoProductOutput,
    allocate,
)
from carbonlink.domain.footprint.errors import (
    DuplicateProductError,
    SeriesDivergedError,
    UnknownProductError,
    UnsolvableLoopError,
)
from carbonlink.domain.footprint.identifiers import (
    cn_code_urn,
    company_product_urn,
    gtin_urn,
    handle_urn,
    hs_code_urn,
    is_urn,
)
from carbonlink.domain.footprint.inputs import (
    BillOfMaterials,
    BomInput,
    DataQuality,
    DirectEmissions,
    EmissionProfile,
    OwnInput,
    PurchasedInput,
    SecondaryFactor,
    SecondaryInput,
    SupplierFootprint,
)
from carbonlink.domain.footprint.products import DeclaredUnit, Product
from carbonlink.domain.footprint.solve import SeriesSolver, SolveStatistics, TopologicalSolver
from carbonlink.domain.footprint.system import (
    COLUMNS,
    Contribution,
    FootprintResult,
    ProductFootprintResult,
    ProductSystem,
)

__all__ = [
    "COLUMNS",
    "Allocation",
    "AllocationRule",
    "BillOfMaterials",
    "BomInput",
    "CoProductOutput",
    "Contribution",
    "DataQuality",
    "DeclaredUnit",
    "DirectEmissions",
    "DuplicateProductError",
    "EmissionProfile",
    "FootprintResult",
    "OwnInput",
    "Product",
    "ProductFootprintResult",
    "ProductSystem",
    "PurchasedInput",
    "SecondaryFactor",
    "SecondaryInput",
    "SeriesDivergedError",
    "SeriesSolver",
    "SolveStatistics",
    "SupplierFootprint",
    "TopologicalSolver",
    "UnknownProductError",
    "UnsolvableLoopError",
    "allocate",
    "cn_code_urn",
    "company_product_urn",
    "gtin_urn",
    "handle_urn",
    "hs_code_urn",
    "is_urn",
]
