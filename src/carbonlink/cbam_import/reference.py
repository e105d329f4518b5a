"""Reference data of the CBAM definitive period for importers, parsed from cited CSV files.

The numbers live in ``carbonlink/data/cbam_import/*.csv``; each row names the act, article or
annex it comes from and whether it was read in the original (``primary``), only in a secondary
source (``secondary``), or not confirmed at all (``unconfirmed``, marked [check] in its source).
The default-value mark-ups are the exporter side's table (``data/cbam/default_markup.csv``),
read through :func:`carbonlink.domain.cbam.reference.markup_for`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import TypeVar

from carbonlink.domain.cbam.reference import Markup, markup_for
from carbonlink.errors import UnknownFactorError

__all__ = [
    "Benchmark",
    "CertificatePrice",
    "DefaultValue",
    "Markup",
    "benchmark_for",
    "cbam_factor",
    "default_value",
    "import_parameter",
    "markup_for",
    "published_prices",
]

_PACKAGE = "carbonlink.data.cbam_import"
T = TypeVar("T")


def _rows(filename: str) -> list[dict[str, str]]:
    text = resources.files(_PACKAGE).joinpath(filename).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@dataclass(frozen=True)
class DefaultValue:
    """A country's default specific embedded emissions for a CN code (before mark-up), t CO2e/t."""

    cn_prefix: str
    country: str
    see_direct: float
    see_indirect: float
    description: str
    confirmed: str
    source: str


@dataclass(frozen=True)
class Benchmark:
    """A CBAM benchmark (t CO2e/t) for the free allocation adjustment of a CN code and route."""

    cn_prefix: str
    route: str
    value: float
    confirmed: str
    source: str


@dataclass(frozen=True)
class CertificatePrice:
    """A published CBAM certificate price (EUR per certificate) for a quarter."""

    year: int
    quarter: int
    price_eur: float
    published: date | None
    confirmed: str
    source: str


@lru_cache(maxsize=1)
def default_values() -> tuple[DefaultValue, ...]:
    """The shipped default values."""
    return tuple(
        DefaultValue(
            row["cn_prefix"],
            row["country"],
            float(row["see_direct"]),
            float(row["see_indirect"]),
            row["description"],
            row["confirmed"],
            row["source"],
        )
        for row in _rows("default_values.csv")
    )


def _longest_prefix(cn_code: str, rows: list[tuple[str, T]]) -> T | None:
    matches = [(len(prefix), item) for prefix, item in rows if cn_code.startswith(prefix)]
    return max(matches, key=lambda m: m[0])[1] if matches else None


def default_value(cn_code: str, country: str, *, record: str | None = None) -> DefaultValue:
    """The default value of the most specific CN row for the country of origin.

    The annex lists values per CN code (some rows cover a whole heading); a country without
    its own row takes the "other countries and territories" row (``*``).
    """
    for wanted in (country.upper(), "*"):
        found = _longest_prefix(
            cn_code, [(d.cn_prefix, d) for d in default_values() if d.country == wanted]
        )
        if found is not None:
            return found
    raise UnknownFactorError(
        f"no CBAM default value for CN {cn_code} from {country}",
        record=record,
        hint="add the row of Implementing Regulation (EU) 2025/2621 to "
        "data/cbam_import/default_values.csv, or obtain the supplier's communication",
    )


@lru_cache(maxsize=1)
def _benchmarks() -> tuple[Benchmark, ...]:
    return tuple(
        Benchmark(
            row["cn_prefix"], row["route"], float(row["benchmark"]), row["confirmed"], row["source"]
        )
        for row in _rows("benchmarks.csv")
    )


def benchmark_for(cn_code: str, route: str) -> Benchmark | None:
    """The CBAM benchmark of the most specific CN row for the route, or ``None`` if none ships."""
    return _longest_prefix(
        cn_code, [(b.cn_prefix, b) for b in _benchmarks() if b.route.lower() == route.lower()]
    )


@lru_cache(maxsize=1)
def _factors() -> dict[int, tuple[float, str]]:
    return {
        int(row["year"]): (float(row["factor"]), row["source"]) for row in _rows("cbam_factor.csv")
    }


def cbam_factor(year: int) -> tuple[float, str]:
    """The CBAM factor of Directive 2003/87/EC Art. 10a(1a) for a year, with its source.

    Before 2026 free allocation was not reduced (factor 1); from 2034 it is 0.
    """
    factors = _factors()
    if year in factors:
        return factors[year]
    if year < min(factors):
        return 1.0, "no CBAM factor before the definitive period (2026)"
    return 0.0, factors[max(factors)][1]


@lru_cache(maxsize=1)
def _parameters() -> dict[str, tuple[float, str]]:
    return {row["name"]: (float(row["value"]), row["source"]) for row in _rows("parameters.csv")}


def import_parameter(name: str) -> float:
    """One cited constant (threshold, holding share, …)."""
    try:
        return _parameters()[name][0]
    except KeyError as exc:
        raise UnknownFactorError(
            f"CBAM importer parameter {name!r} is not in data/cbam_import/parameters.csv",
            hint="restore the shipped data file",
        ) from exc


def parameter_source(name: str) -> str:
    """Where a constant comes from."""
    return _parameters()[name][1]


@lru_cache(maxsize=1)
def published_prices() -> tuple[CertificatePrice, ...]:
    """The certificate prices carbonlink ships (the user adds the others)."""
    return tuple(
        CertificatePrice(
            int(row["year"]),
            int(row["quarter"]),
            float(row["price_eur"]),
            date.fromisoformat(row["published"]) if row["published"] else None,
            row["confirmed"],
            row["source"],
        )
        for row in _rows("certificate_prices.csv")
    )


def sector_markup(year: int) -> Markup:
    """The default-value mark-up for iron, steel, aluminium, cement and hydrogen in ``year``."""
    return markup_for("iron_and_steel", year)
