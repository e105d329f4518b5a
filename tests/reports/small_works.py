"""A small hand-checkable works (one facility, China defaults) and its figures by hand."""

from __future__ import annotations

from typing import Any

SMALL_WORKS: dict[str, Any] = {
    "organization": "小钢厂 Small Steel Co.",
    "period": {"start": "2025-01-01", "end": "2025-12-31"},
    "gwp": "AR5",
    "jurisdiction": "CN",
    "facilities": [
        {
            "id": "works",
            "name": "Small works",
            "grid": "CN-North",
            "timezone": "Asia/Shanghai",
            "sources": [
                {"id": "furnace-gas", "method": "combustion", "fuel": "natural_gas",
                 "activity": {"quantity": 1_000_000, "unit": "Nm3"}},
                {"id": "sinter-coal", "method": "combustion", "fuel": "anthracite",
                 "combustion_gases": ["CO2"], "activity": {"quantity": 100, "unit": "t"},
                 "ncv": {"value": 21.10, "unit": "GJ/t", "document": "lab report"}},
                {"id": "flux", "method": "carbonate", "material": "limestone",
                 "activity": {"quantity": 1000, "unit": "t"}},
                {"id": "steel", "method": "carbon_fixed", "product": "crude_steel",
                 "activity": {"quantity": 10_000, "unit": "t"}},
                {"id": "power", "method": "electricity",
                 "activity": {"quantity": 10_000, "unit": "MWh"},
                 "instruments": [{"type": "green_certificate", "id": "GEC-1",
                                  "quantity": 2000, "unit": "MWh", "vintage": 2025}]},
                {"id": "heat-sold", "method": "heat", "direction": "exported",
                 "activity": {"quantity": 1000, "unit": "GJ"}},
                {"id": "chiller", "method": "fugitive", "refrigerant": "HFC-134a",
                 "activity": {"quantity": 10, "unit": "kg"}},
            ],
        }
    ],
}  # fmt: skip

CO2_PER_C = 44 / 12
# China iron and steel guideline (NDRC 2013) Appendix 2 defaults, as in the factor library.
GAS_CO2 = 100 * 389.31 * 0.0153 * 0.99 * CO2_PER_C  # 100 × 10^4 Nm3 natural gas
GAS_GJ = 100 * 389.31
COAL_CO2 = 100 * 21.10 * 0.02749 * 0.94 * CO2_PER_C  # measured NCV 21.10 GJ/t
LIMESTONE = 1000 * 0.440
FIXED = 10_000 * 0.0154
GRID_NORTH = 10_000 * 0.6361  # MEE/NBS 2023 North China grid, t/MWh
MARKET = 8_000 * 0.6096  # uncovered 8 000 MWh × national residual-mix role factor
HEAT_EXPORTED = -1000 * 0.11
# IPCC 2006 Vol. 2 Table 2.3 (manufacturing): CH4 1 kg/TJ, N2O 0.1 kg/TJ; AR5 GWP 28 and 265.
GAS_CH4 = GAS_GJ / 1000 * 1e-3 * 28
GAS_N2O = GAS_GJ / 1000 * 0.1e-3 * 265
HFC = 0.010 * 1300  # 10 kg HFC-134a × AR5 GWP

CHINA_TOTAL = GAS_CO2 + COAL_CO2 + LIMESTONE + GRID_NORTH + HEAT_EXPORTED - FIXED
SCOPE1 = GAS_CO2 + COAL_CO2 + LIMESTONE - FIXED + GAS_CH4 + GAS_N2O + HFC
