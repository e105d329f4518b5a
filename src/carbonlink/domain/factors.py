"""Emission factors and calculation parameters: frozen, cited rows and the rules that pick one.

Every row of ``data/factors/*.csv`` becomes a `Factor`. A source asks for a parameter of a
subject (the NCV of natural gas, the CO2 factor of the East China grid) with a `FactorRequest`;
`FactorLibrary.resolve` picks one row and says why it won:

1. an explicit pin (``id`` or ``id@version``) given by the source wins outright;
2. otherwise only rows valid where the facility is (its grid region, its jurisdiction, or
   international) and of a vintage not after the period count — or, when a vintage is pinned,
   not after the pinned year (the factor set as it stood for that year);
3. among those the best tier wins — measured > supplier-specific > national default > IPCC
   default — then the most specific place (region > jurisdiction > international), then the
   latest vintage; remaining ties go to the row loaded first (files load in name order).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache
from importlib import resources

import pint

from carbonlink.domain.units import parse_quantity
from carbonlink.errors import ConfigError, NoFactorVintageError, UnknownFactorError

INTERNATIONAL = "INT"
ANY_SUBJECT = "*"


class Tier(IntEnum):
    """Data quality tier of a factor; a higher value wins resolution."""

    IPCC_DEFAULT = 0
    NATIONAL_DEFAULT = 1
    SUPPLIER_SPECIFIC = 2
    MEASURED = 3

    @property
    def label(self) -> str:
        """Lower-case name as written in the data files (``national_default``)."""
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Tier:
        """The tier written as ``ipcc_default``, ``national_default``, ``supplier_specific``…"""
        return cls[text.strip().upper()]


@dataclass(frozen=True, slots=True)
class Factor:
    """One cited coefficient: value and unit, what it applies to, where and when, and its source."""

    id: str
    version: str
    subject: str
    parameter: str
    gas: str
    value: float
    unit: str
    basis: str
    jurisdiction: str
    region: str
    tier: Tier
    year: int
    document: str
    table: str
    licence: str
    check: str = ""
    note: str = ""

    @property
    def quantity(self) -> pint.Quantity:
        """The value with its unit."""
        return parse_quantity(self.value, self.unit, record=self.id)

    @property
    def citation(self) -> str:
        """Document and table, as printed in reports."""
        return f"{self.document}, {self.table}" if self.table else self.document

    @property
    def place(self) -> str:
        """Region, jurisdiction or ``INT``."""
        return self.region or self.jurisdiction


@dataclass(frozen=True, slots=True)
class FactorRequest:
    """What a source needs: a parameter of a subject, for a place and a reporting year."""

    subject: str
    parameter: str
    year: int
    gas: str = ""
    jurisdiction: str = ""
    region: str = ""
    basis: str | None = None
    pin: str | None = None
    vintage: int | None = None


@dataclass(frozen=True, slots=True)
class Resolution:
    """The factor that won and a sentence saying why."""

    factor: Factor
    reason: str


def _describe(request: FactorRequest) -> str:
    gas = f" {request.gas}" if request.gas and request.gas != "C" else ""
    return f"{request.parameter}{gas} of {request.subject!r}"


class FactorLibrary:
    """An immutable collection of factors with the resolution rules."""

    def __init__(self, factors: Iterable[Factor]) -> None:
        self._factors: tuple[Factor, ...] = tuple(factors)
        self._by_id: dict[tuple[str, str], Factor] = {}
        self._by_parameter: dict[str, list[Factor]] = {}
        for factor in self._factors:
            key = (factor.id, factor.version)
            if key in self._by_id:
                raise ConfigError(
                    f"factor {factor.id} version {factor.version} is defined twice",
                    record=factor.id,
                    hint="give each row a unique factor_id and version",
                )
            self._by_id[key] = factor
            self._by_parameter.setdefault(factor.parameter, []).append(factor)

    def __iter__(self) -> Iterator[Factor]:
        return iter(self._factors)

    def __len__(self) -> int:
        return len(self._factors)

    def with_factors(self, extra: Iterable[Factor]) -> FactorLibrary:
        """A new library with ``extra`` rows added (e.g. a source's measured values)."""
        return FactorLibrary((*self._factors, *extra))

    def subjects(self, parameter: str) -> list[str]:
        """Subjects that have a row for ``parameter`` (for error messages and listings)."""
        return sorted(
            {f.subject for f in self._by_parameter.get(parameter, []) if f.subject != ANY_SUBJECT}
        )

    def find(self, pin: str) -> Factor:
        """The factor named ``id`` (latest version) or ``id@version``."""
        factor_id, _, version = pin.partition("@")
        matches = [
            f for (fid, ver), f in self._by_id.items() if fid == factor_id and version in ("", ver)
        ]
        if not matches:
            raise UnknownFactorError(
                f"no factor with id {pin!r}",
                hint="check the id against the factor files (carbonlink account prints ids)",
            )
        return max(matches, key=lambda f: f.version)

    def resolve(self, request: FactorRequest) -> Resolution:
        """The winning factor for ``request`` and why it won (see the module docstring)."""
        what = _describe(request)
        if request.pin:
            factor = self.find(request.pin)
            if factor.parameter != request.parameter:
                raise UnknownFactorError(
                    f"pinned factor {request.pin!r} is a {factor.parameter}, not a "
                    f"{request.parameter}",
                    hint=f"pin a {request.parameter} factor for {request.subject!r}",
                )
            return Resolution(factor, f"pinned by the source ({factor.id}@{factor.version})")

        candidates = [
            f
            for f in self._by_parameter.get(request.parameter, [])
            if f.subject in (request.subject, ANY_SUBJECT) and f.gas == request.gas
        ]
        if not candidates:
            known = ", ".join(self.subjects(request.parameter)) or "none"
            raise UnknownFactorError(
                f"no {what} in the factor library",
                hint=f"use one of: {known}; or give a measured value for the source",
            )
        placed = [f for f in candidates if self._place_rank(f, request) >= 0]
        if request.basis is not None:
            placed = [f for f in placed if f.basis in (request.basis, "")]
        if not placed:
            places = ", ".join(sorted({f.place for f in candidates}))
            raise UnknownFactorError(
                f"no {what} valid for {request.region or request.jurisdiction or 'this place'}"
                + (f" on a {request.basis} basis" if request.basis else ""),
                hint=f"factors exist for: {places}; pin one or give a measured value",
            )
        cap = request.vintage if request.vintage is not None else request.year
        dated = [f for f in placed if f.year <= cap]
        if not dated:
            years = sorted({f.year for f in placed})
            wanted = f"a vintage not after {cap}" + (
                " (pinned)" if request.vintage is not None else ""
            )
            raise NoFactorVintageError(
                f"no {what} has {wanted}; vintages available: {', '.join(map(str, years))}",
                hint="choose a reporting period those vintages cover, pin a vintage or factor, "
                "or give a measured value",
            )
        ranked = sorted(
            enumerate(dated),
            key=lambda item: (
                -item[1].tier,
                -self._place_rank(item[1], request),
                item[1].subject == ANY_SUBJECT,
                -item[1].year,
                item[0],
            ),
        )
        winner = ranked[0][1]
        regional = any(f.region for f in candidates)
        others = [f for _, f in ranked[1:]]
        return Resolution(winner, self._reason(winner, request, others, regional=regional))

    @staticmethod
    def _place_rank(factor: Factor, request: FactorRequest) -> int:
        if factor.jurisdiction == INTERNATIONAL:
            return 0
        if factor.jurisdiction != request.jurisdiction:
            return -1
        if not factor.region:
            return 1
        return 2 if factor.region == request.region else -1

    @staticmethod
    def _reason(
        winner: Factor, request: FactorRequest, others: Sequence[Factor], *, regional: bool
    ) -> str:
        parts = [winner.tier.label.replace("_", " ")]
        if winner.region:
            parts.append(f"grid region {winner.region}")
        elif winner.jurisdiction == INTERNATIONAL:
            parts.append("international default")
        else:
            parts.append(f"jurisdiction {winner.jurisdiction}")
            if request.region and regional:
                parts.append(f"no {request.region} value of a usable vintage")
        if request.vintage is not None:
            parts.append(
                f"vintage {winner.year}, the latest not after the pinned {request.vintage}"
            )
        else:
            parts.append(f"vintage {winner.year}, the latest not after {request.year}")
        if others:
            beaten = ", ".join(f"{f.id}@{f.version}" for f in others[:3])
            more = f" and {len(others) - 3} more" if len(others) > 3 else ""
            parts.append(f"preferred over {beaten}{more}")
        return "; ".join(parts)


def measured_factor(
    *,
    source_id: str,
    subject: str,
    parameter: str,
    value: float,
    unit: str,
    year: int,
    gas: str = "",
    basis: str = "",
    tier: Tier = Tier.MEASURED,
    document: str = "",
) -> Factor:
    """A factor given for one source (measured or supplier-specific), cited to that source."""
    gas_part = f"/{gas}" if gas and gas != "C" else ""
    if subject.startswith("instrument:"):
        gas_part += f"/{subject.removeprefix('instrument:')}"
    return Factor(
        id=f"{tier.label}:{source_id}/{parameter}{gas_part}",
        version=str(year),
        subject=subject,
        parameter=parameter,
        gas=gas,
        value=value,
        unit=unit,
        basis=basis,
        jurisdiction=INTERNATIONAL,
        region="",
        tier=tier,
        year=year,
        document=document or f"value given for source {source_id}",
        table="",
        licence="supplied by the reporting organization",
        check="as supplied",
    )


def parse_factor_rows(text: str, *, file: str) -> list[Factor]:
    """Rows of one factor CSV file as `Factor` objects; a malformed row names file and line."""
    factors = []
    for line, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        try:
            factors.append(
                Factor(
                    id=row["factor_id"],
                    version=row["version"],
                    subject=row["subject"],
                    parameter=row["parameter"],
                    gas=row["gas"],
                    value=float(row["value"]),
                    unit=row["unit"],
                    basis=row["basis"],
                    jurisdiction=row["jurisdiction"],
                    region=row["region"],
                    tier=Tier.parse(row["tier"]),
                    year=int(row["year"]),
                    document=row["document"],
                    table=row["table"],
                    licence=row["licence"],
                    check=row["check"],
                    note=row["note"],
                )
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ConfigError(
                f"malformed factor row: {exc}",
                file=file,
                record=f"line {line}",
                hint="every row needs the 17 columns of the factor file header",
            ) from exc
    return factors


@lru_cache(maxsize=1)
def default_library() -> FactorLibrary:
    """Every factor shipped in ``carbonlink/data/factors`` (loaded once)."""
    folder = resources.files("carbonlink.data").joinpath("factors")
    factors: list[Factor] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".csv"):
            factors.extend(parse_factor_rows(entry.read_text("utf-8"), file=entry.name))
    return FactorLibrary(factors)
