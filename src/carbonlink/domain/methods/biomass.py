"""Biomass: which fuels are biogenic, and how their CO2 is kept out of the scopes.

GHG Protocol Corporate Standard (ch. 9) and GB/T 32150-2015 (5.2) report CO2 from biomass
combustion separately, outside the scope totals; its CH4 and N2O stay in Scope 1 (as
non-fossil methane where the GWP set tells them apart).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from carbonlink.errors import UnknownFactorError


@dataclass(frozen=True, slots=True)
class Fuel:
    """A fuel known to the library (``data/fuels.csv``)."""

    id: str
    name: str
    state: str
    biogenic: bool


@lru_cache(maxsize=1)
def fuels() -> dict[str, Fuel]:
    """Every fuel, keyed by its id and each of its aliases."""
    text = resources.files("carbonlink.data").joinpath("fuels.csv").read_text("utf-8")
    table: dict[str, Fuel] = {}
    for row in csv.DictReader(text.splitlines()):
        fuel = Fuel(row["fuel"], row["name"], row["state"], row["biogenic"] == "1")
        table[fuel.id] = fuel
        for alias in filter(None, row["aliases"].split(";")):
            table[alias.strip()] = fuel
    return table


def fuel(name: str) -> Fuel:
    """The fuel called ``name`` (id or alias); an unknown fuel lists the known ones."""
    table = fuels()
    try:
        return table[name]
    except KeyError:
        known = sorted({f.id for f in table.values()})
        raise UnknownFactorError(
            f"unknown fuel {name!r}",
            hint=f"use one of {', '.join(known)}, or give measured ncv and carbon_content",
        ) from None


def biogenic_share(fuel_is_biogenic: bool, biomass_fraction: float) -> float:
    """Share of a fuel's carbon that is biogenic: 1 for a biomass fuel, else the blend fraction."""
    return 1.0 if fuel_is_biogenic else biomass_fraction
