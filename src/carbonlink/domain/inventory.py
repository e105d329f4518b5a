"""The inventory file: organization → facilities → sources, parsed and validated with pydantic.

The YAML shape is a public interface (see the README). Unknown keys are refused so a typo such as
``quantiy`` is reported instead of silently ignored; every error names the file and the source id.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from carbonlink.domain.zones import known_zone
from carbonlink.errors import InputError

Method = Literal[
    "combustion",
    "carbonate",
    "process",
    "carbon_fixed",
    "mass_balance",
    "electricity",
    "heat",
    "fugitive",
    "generic",
]
InstrumentType = Literal["green_certificate", "i_rec", "go", "ppa", "supplier_rate"]

NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
CombustionGas = Literal["CO2", "CH4", "N2O"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Period(_Spec):
    """The reporting period, both ends inclusive."""

    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError("period end is before its start")
        return self

    @property
    def year(self) -> int:
        """The year factor vintages are compared with (the year the period ends in)."""
        return self.end.year

    @property
    def label(self) -> str:
        """``2025-01-01/2025-12-31``."""
        return f"{self.start.isoformat()}/{self.end.isoformat()}"


class Value(_Spec):
    """A number with its unit, e.g. a measured NCV ``{value: 390.1, unit: GJ/10^4 Nm3}``."""

    value: Annotated[float, Field(allow_inf_nan=False)]
    unit: str
    basis: Literal["NCV", "HHV"] | None = None
    tier: Literal["measured", "supplier_specific"] = "measured"
    document: str = ""


class Activity(_Spec):
    """How much of the source's activity happened in the period.

    Either a ``quantity`` (from an invoice, an ERP export, a form) or a ``meter`` whose stored
    readings are summed over the period in the facility's time zone when the inventory is
    accounted against a workspace; ``unit`` is the unit the quantity is stated (or wanted) in.
    """

    quantity: NonNegative | None = None
    unit: str
    meter: str | None = None
    id: str | None = None

    @model_validator(mode="after")
    def _quantity_or_meter(self) -> Activity:
        if self.quantity is None and self.meter is None:
            raise ValueError("give the activity's 'quantity' (with its 'unit'), or a 'meter'")
        if self.quantity is not None and self.meter is not None:
            raise ValueError("give either 'quantity' or 'meter', not both")
        return self


class Instrument(_Spec):
    """A contractual instrument for market-based Scope 2 (GHG Protocol Scope 2 Guidance, ch. 7)."""

    type: InstrumentType
    quantity: NonNegative | None = None
    unit: str = "MWh"
    emission_factor: Value | None = None
    id: str | None = None
    vintage: int | None = None
    retired: bool = True


class Stream(_Spec):
    """One input or output of a carbon mass balance."""

    material: str
    quantity: NonNegative
    unit: str
    carbon_content: Value | None = None
    id: str | None = None


class Source(_Spec):
    """An emission source or source stream of a facility."""

    id: str
    method: Method
    fuel: str | None = None
    material: str | None = None
    product: str | None = None
    refrigerant: str | None = None
    subject: str | None = None
    gas: str = "CO2"
    activity: Activity | None = None
    ncv: Value | None = None
    carbon_content: Value | None = None
    oxidation: Value | None = None
    emission_factor: Value | None = None
    co2_from: Literal["auto", "emission_factor", "carbon_content"] = "auto"
    biomass_fraction: Annotated[float, Field(ge=0, le=1)] = 0.0
    fraction: Annotated[float, Field(ge=0, le=1)] = 1.0
    direction: Literal["purchased", "exported"] = "purchased"
    instruments: tuple[Instrument, ...] = ()
    inputs: tuple[Stream, ...] = ()
    outputs: tuple[Stream, ...] = ()
    scope: Literal[1, 3] = 1
    scope3_category: Annotated[int, Field(ge=1, le=15)] | None = None
    factors: dict[str, str] = Field(default_factory=dict)
    vintage: int | None = None
    combustion_gases: tuple[CombustionGas, ...] | None = None
    description: str = ""

    @model_validator(mode="after")
    def _fields_fit_method(self) -> Source:
        needed = {
            "combustion": "fuel",
            "carbonate": "material",
            "process": "material",
            "carbon_fixed": "product",
            "fugitive": "refrigerant",
        }.get(self.method)
        if needed and getattr(self, needed) is None:
            raise ValueError(f"method {self.method!r} needs the field {needed!r}")
        if self.method == "mass_balance":
            if not self.inputs:
                raise ValueError("method 'mass_balance' needs at least one entry under 'inputs'")
        elif self.activity is None:
            raise ValueError(f"method {self.method!r} needs an 'activity'")
        if self.method == "generic" and self.subject is None and self.emission_factor is None:
            raise ValueError("method 'generic' needs a 'subject' or an 'emission_factor'")
        if self.scope == 3 and self.method != "generic":
            raise ValueError("'scope: 3' is only allowed with method 'generic'")
        if self.scope3_category is not None and self.scope != 3:
            raise ValueError("'scope3_category' is only allowed with 'scope: 3'")
        return self


class Production(_Spec):
    """What a facility made in the period: one product, its quantity and where it went.

    Emissions are not computed from it; CBAM, product footprints and the China report read the
    same figures so that every report states the same tonnes. ``sold`` is what left the
    facility; ``inputs`` the quantities of other products consumed to make it (same unit).
    """

    product: str
    name: str = ""
    quantity: NonNegative
    unit: str = "t"
    sold: NonNegative | None = None
    inputs: dict[str, NonNegative] = Field(default_factory=dict)
    description: str = ""

    @model_validator(mode="after")
    def _sold_within_made(self) -> Production:
        if self.sold is not None and self.sold > self.quantity:
            raise ValueError(f"more {self.product!r} sold than made")
        return self


class Facility(_Spec):
    """A site: its grid region, time zone, sources and (optionally) what it produced."""

    id: str
    name: str = ""
    grid: str = ""
    jurisdiction: str | None = None
    timezone: str = "UTC"
    sources: tuple[Source, ...]
    production: tuple[Production, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        return known_zone(zone)

    @field_validator("sources")
    @classmethod
    def _unique_ids(cls, sources: tuple[Source, ...]) -> tuple[Source, ...]:
        seen: set[str] = set()
        for source in sources:
            if source.id in seen:
                raise ValueError(f"source id {source.id!r} appears twice")
            seen.add(source.id)
        return sources


class Inventory(_Spec):
    """An organization's inventory for one period: what `carbonlink account` reads."""

    organization: str
    period: Period
    gwp: Literal["AR4", "AR5", "AR6"] = "AR5"
    jurisdiction: str = "CN"
    vintage: int | None = None
    combustion_gases: tuple[CombustionGas, ...] = ("CO2", "CH4", "N2O")
    facilities: tuple[Facility, ...]

    @field_validator("combustion_gases")
    @classmethod
    def _co2_always(cls, gases: tuple[str, ...]) -> tuple[str, ...]:
        if "CO2" not in gases:
            raise ValueError("combustion_gases must include CO2")
        return gases

    @field_validator("facilities")
    @classmethod
    def _unique_facilities(cls, facilities: tuple[Facility, ...]) -> tuple[Facility, ...]:
        ids = [f.id for f in facilities]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"facility id {duplicates[0]!r} appears twice")
        return facilities


def _where(data: Any, loc: tuple[int | str, ...]) -> str:
    """``facility plant-1, source boiler-1, field activity.quantity`` for a pydantic error path."""
    parts: list[str] = []
    node = data
    field: list[str] = []
    previous: int | str = ""
    for step in loc:
        if isinstance(node, dict) and isinstance(step, str):
            node = node.get(step)
            if step not in ("facilities", "sources") or field:
                field.append(step)
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
            kind = {"facilities": "facility", "sources": "source"}.get(str(previous))
            if kind and not field:
                name = node.get("id") if isinstance(node, dict) else None
                parts.append(f"{kind} {name}" if name else f"{kind} #{step + 1}")
            else:
                field.append(str(step))
        else:
            field.append(str(step))
        previous = step
    if field:
        parts.append(f"field {'.'.join(field)}")
    return ", ".join(parts)


def parse_inventory(text: str, *, file: str = "<inventory>") -> Inventory:
    """An `Inventory` from YAML text; errors name the file, the source and what to fix."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise InputError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}",
            file=file,
            record=where,
            hint="check indentation, colons and brackets at that line",
        ) from exc
    if not isinstance(data, dict):
        raise InputError(
            "the inventory must be a YAML mapping with organization, period and facilities",
            file=file,
            hint="see the inventory example in the README",
        )
    try:
        return Inventory.model_validate(data)
    except ValidationError as exc:
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        first = errors[0]
        message = first["msg"]
        if first["type"] == "extra_forbidden":
            message = f"unknown field {first['loc'][-1]!r} (a typo?)"
        elif first["type"] == "missing":
            message = f"missing field {first['loc'][-1]!r}"
        elif "input" in first and first["type"] not in ("value_error",):
            message = f"{message} (got {first['input']!r})"
        raise InputError(
            message,
            file=file,
            record=_where(data, first["loc"]) or None,
            hint=(
                f"{len(exc.errors())} problem(s) in total; fix this one and run again"
                if len(exc.errors()) > 1
                else "fix the value and run again"
            ),
        ) from exc


def read_inventory(path: Path) -> Inventory:
    """Read and validate an inventory file."""
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the inventory: {exc.strerror}", file=str(path)) from exc
    return parse_inventory(text, file=str(path))
