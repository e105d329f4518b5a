"""Global warming potentials (100-year) of IPCC AR4, AR5 and AR6, loaded from ``data/gwp100.csv``.

A GWP set turns a mass of gas into a mass of CO2 equivalent. AR6 gives methane of fossil and of
non-fossil origin separate values; the other sets give one value, used for both.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from types import MappingProxyType

from carbonlink.errors import UnknownFactorError

GWP_SETS = ("AR4", "AR5", "AR6")


@dataclass(frozen=True)
class GwpSet:
    """One assessment report's 100-year GWP values, keyed by gas name."""

    name: str
    values: Mapping[str, float]
    document: str

    def gwp(self, gas: str, *, fossil: bool = True) -> float:
        """The GWP of ``gas``; methane takes its fossil or non-fossil value if the set has one."""
        if gas == "CH4":
            specific = "CH4-fossil" if fossil else "CH4-non-fossil"
            if specific in self.values:
                return self.values[specific]
        try:
            return self.values[gas]
        except KeyError:
            raise UnknownFactorError(
                f"gas {gas!r} has no GWP in {self.name}",
                hint=f"use one of {', '.join(sorted(self.values))}",
            ) from None

    def key(self, gas: str, *, fossil: bool = True) -> str:
        """The row name that `gwp` uses for ``gas`` (shown in lineage)."""
        if gas == "CH4":
            specific = "CH4-fossil" if fossil else "CH4-non-fossil"
            if specific in self.values:
                return specific
        return gas


@lru_cache(maxsize=1)
def _load() -> dict[str, GwpSet]:
    text = resources.files("carbonlink.data").joinpath("gwp100.csv").read_text("utf-8")
    values: dict[str, dict[str, float]] = {}
    documents: dict[str, str] = {}
    for row in csv.DictReader(text.splitlines()):
        values.setdefault(row["gwp_set"], {})[row["gas"]] = float(row["value"])
        documents[row["gwp_set"]] = f"{row['document']}, {row['table']}"
    return {
        name: GwpSet(name, MappingProxyType(gases), documents[name])
        for name, gases in values.items()
    }


def gwp_set(name: str) -> GwpSet:
    """The GWP set called ``name`` (AR4, AR5 or AR6)."""
    sets = _load()
    try:
        return sets[name.upper()]
    except KeyError:
        raise UnknownFactorError(
            f"unknown GWP set {name!r}", hint=f"use one of {', '.join(sorted(sets))}"
        ) from None


def refrigerant_composition(name: str) -> dict[str, float]:
    """Mass fractions of a refrigerant: a pure gas is itself; blends from the data file."""
    blends = _blends()
    if name in blends:
        return dict(blends[name])
    return {name: 1.0}


@lru_cache(maxsize=1)
def _blends() -> dict[str, dict[str, float]]:
    text = resources.files("carbonlink.data").joinpath("refrigerant_blends.csv").read_text("utf-8")
    blends: dict[str, dict[str, float]] = {}
    for row in csv.DictReader(text.splitlines()):
        blends.setdefault(row["blend"], {})[row["gas"]] = float(row["mass_fraction"])
    return blends
