"""CBAM reference data (constants, default-value mark-ups, goods categories) loaded from files.

The numbers live in ``carbonlink/data/cbam/*.csv`` with their source, table, year and licence;
this module only parses them into frozen objects.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from carbonlink.domain.factors import Factor, default_library
from carbonlink.domain.units import to_unit
from carbonlink.errors import UnknownFactorError

_PACKAGE = "carbonlink.data.cbam"
# EF_NG of 2023/1773 Annex III is the IPCC 2006 default for natural gas (Vol. 2 Table 1.4),
# taken from carbonlink's factor library rather than repeated here.
NATURAL_GAS_FACTOR = "ipcc2006/natural_gas/ef/CO2"


def _rows(filename: str) -> list[dict[str, str]]:
    text = resources.files(_PACKAGE).joinpath(filename).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@dataclass(frozen=True)
class CbamParameter:
    """One cited constant of the CBAM methodology."""

    name: str
    value: float
    unit: str
    source: str


@dataclass(frozen=True)
class Markup:
    """Mark-up on default values for a sector over a span of years (inclusive)."""

    sector: str
    first_year: int
    last_year: int
    markup: float
    source: str


@dataclass(frozen=True)
class GoodsCategory:
    """An aggregated goods category of the template with its sector and charged emissions."""

    category: str
    sector: str
    charged_emissions: str
    unit: str
    source: str

    @property
    def indirect_charged(self) -> bool:
        """Whether indirect emissions count for the CBAM obligation (cement, fertilisers)."""
        return self.charged_emissions == "direct_and_indirect"


@lru_cache(maxsize=1)
def parameters() -> dict[str, CbamParameter]:
    """The cited constants by name."""
    return {
        row["name"]: CbamParameter(row["name"], float(row["value"]), row["unit"], row["source"])
        for row in _rows("parameters.csv")
    }


def parameter(name: str) -> float:
    """The value of one constant; a clear error if the data file lacks it."""
    try:
        return parameters()[name].value
    except KeyError as exc:
        raise UnknownFactorError(
            f"CBAM parameter {name!r} is not in data/cbam/parameters.csv",
            hint="restore the shipped data file",
        ) from exc


def natural_gas_factor() -> Factor:
    """The cited natural-gas CO2 factor used as EF_NG."""
    return default_library().find(NATURAL_GAS_FACTOR)


@lru_cache(maxsize=1)
def ef_natural_gas() -> float:
    """EF_NG in t CO2/TJ (56 100 kg/TJ → 56.1)."""
    factor = natural_gas_factor()
    return to_unit(factor.quantity, "t/TJ", record=factor.id)


def default_heat_emission_factor() -> float:
    """EF for measurable heat without data: EF_NG / η_ref (2023/1773 Annex III F.1), t CO2/TJ.

    56.1 / 0.90 = 62.33 t CO2/TJ.
    """
    return ef_natural_gas() / parameter("reference_boiler_efficiency")


@lru_cache(maxsize=1)
def markups() -> tuple[Markup, ...]:
    """The mark-up schedule for default values."""
    return tuple(
        Markup(
            row["sector"],
            int(row["first_year"]),
            int(row["last_year"]),
            float(row["markup"]),
            row["source"],
        )
        for row in _rows("default_markup.csv")
    )


def markup_for(sector: str, year: int) -> Markup:
    """The mark-up applying to a default value of ``sector`` used for goods of ``year``.

    Fertilisers have their own schedule; every other sector uses the common one.
    Years before the first row (the transitional period) carry no mark-up.
    """
    key = "fertilisers" if sector == "fertilisers" else "all_except_fertilisers"
    rows = [m for m in markups() if m.sector == key]
    for row in rows:
        if row.first_year <= year <= row.last_year:
            return row
    if year < min(r.first_year for r in rows):
        return Markup(key, year, year, 0.0, "no mark-up before the definitive period (2026)")
    raise UnknownFactorError(f"no CBAM default mark-up for {key} in {year}")


@lru_cache(maxsize=1)
def goods_categories() -> dict[str, GoodsCategory]:
    """Aggregated goods categories by their template name."""
    return {
        row["category"]: GoodsCategory(
            row["category"], row["sector"], row["charged_emissions"], row["unit"], row["source"]
        )
        for row in _rows("goods_categories.csv")
    }


def goods_category(name: str, *, record: str | None = None) -> GoodsCategory:
    """One goods category; the error lists the valid names."""
    categories = goods_categories()
    if name in categories:
        return categories[name]
    stripped = {key.strip(): value for key, value in categories.items()}
    if name.strip() in stripped:
        return stripped[name.strip()]
    raise UnknownFactorError(
        f"unknown CBAM aggregated goods category {name!r}",
        record=record,
        hint="use one of: " + ", ".join(sorted(k.strip() for k in categories)),
    )
