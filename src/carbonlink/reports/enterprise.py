"""Facts of the enterprise dataset, referred to from other inputs instead of being copied.

The inventory file holds each activity and production figure once. A CBAM input or a supply
chain names a figure by reference and gets the inventory's number (and, for emissions, the
inventory's computed lines), so the CBAM communication, the product footprints and the
inventory cannot state different tonnes or MWh. A reference is a mapping with the key
``inventory``::

    {inventory: production/hot-metal}            quantity made (t)
    {inventory: production/hot-metal/sold}       quantity that left the facility
    {inventory: production/hot-metal/kept}       quantity made minus quantity sold
    {inventory: production/cold-rolled-coil/inputs/hot-rolled-coil}
    {inventory: activity/grid-power, share: 0.3} a source's activity (× share)
    {inventory: activity/steam, unit: TJ}        converted to the unit asked for
    {inventory: co2, sources: [bf-coke, bf-pci]} Scope 1 fossil CO2 of those sources (t)
    {inventory: co2, exclude: [mobile-diesel]}   of every source of the facility but those
    {inventory: scope2_location}                 location-based electricity and heat (t CO2e)
    {inventory: exported_ef/heat-export, unit: t/TJ}   exported emissions per unit exported
    {inventory: factor/grid-power}               id of the location-based factor used
    … per: production/hot-rolled-coil            divided by another figure

``facility:`` names the facility when the reading document does not imply one. Every
reference resolved is recorded (``EnterpriseFacts.used``) with the sources behind it, so a
reconciliation can tell which rule links two totals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from carbonlink.domain.engine import Computation
from carbonlink.domain.inventory import Facility, Inventory, Production
from carbonlink.domain.units import parse_quantity, to_unit
from carbonlink.errors import InputError
from carbonlink.reports.lines import ReportLine, report_lines

REFERENCE_KEY = "inventory"
_MODIFIERS = {"share", "unit", "per", "sources", "exclude", "facility", REFERENCE_KEY}


@dataclass
class EnterpriseFacts:
    """Figures of one inventory (and, when given, its computation) looked up by reference."""

    inventory: Inventory
    result: Computation | None = None
    facility: str | None = None
    file: str = "<inventory>"
    used: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lines: list[ReportLine] | None = field(default=None, repr=False)

    def facility_of(self, name: str | None, where: str) -> Facility:
        wanted = name or self.facility
        ids = [f.id for f in self.inventory.facilities]
        if wanted is None:
            raise InputError(
                f"{where}: the reference names no facility",
                file=self.file,
                hint="add 'facility:' with one of " + ", ".join(ids),
            )
        for facility in self.inventory.facilities:
            if facility.id == wanted:
                return facility
        raise InputError(
            f"{where}: no facility {wanted!r} in the inventory",
            file=self.file,
            hint="use one of " + ", ".join(ids),
        )

    def lines(self, where: str) -> list[ReportLine]:
        """The computed lines (emission references need the inventory accounted)."""
        if self.result is None:
            raise InputError(
                f"{where}: emissions can only be referred to from an accounted inventory",
                file=self.file,
            )
        if self._lines is None:
            self._lines = report_lines(self.inventory, self.result)
        return self._lines

    def value(self, ref: Mapping[str, Any], where: str) -> float | str:
        """The figure a reference names (a float, or a factor id for ``factor/…``)."""
        unknown = set(ref) - _MODIFIERS
        if unknown:
            raise InputError(
                f"{where}: unknown key(s) {', '.join(sorted(unknown))} in an inventory reference",
                file=self.file,
                hint="a reference may have: " + ", ".join(sorted(_MODIFIERS)),
            )
        path = str(ref[REFERENCE_KEY])
        facility = self.facility_of(ref.get("facility"), where)
        kind, _, rest = path.partition("/")
        sources: list[str] = []
        value: float | str
        if kind == "production":
            value = self._production(facility, rest, where)
        elif kind == "activity":
            source = self._source(facility, rest, where)
            sources = [source.id]
            value = self._activity(facility, source.id, ref.get("unit"), where)
        elif kind == "co2":
            value, sources = self._co2(facility, ref, where)
        elif kind == "scope2_location":
            lines = [
                x
                for x in self.lines(where)
                if x.facility.id == facility.id
                and x.scope == "2_location"
                and (not ref.get("sources") or x.source.id in ref["sources"])
            ]
            sources = sorted({x.source.id for x in lines})
            value = float(sum(x.tco2e for x in lines))
        elif kind == "exported_ef":
            source = self._source(facility, rest, where)
            sources = [source.id]
            exported = [
                x
                for x in self.lines(where)
                if x.facility.id == facility.id and x.source.id == source.id
            ]
            amount = self._activity(facility, source.id, "TJ", where)
            value = abs(sum(x.tco2e for x in exported)) / amount if amount else 0.0
        elif kind == "factor":
            source = self._source(facility, rest, where)
            sources = [source.id]
            ids = {
                x.plan.factor.id
                for x in self.lines(where)
                if x.facility.id == facility.id
                and x.source.id == source.id
                and x.scope == "2_location"
            }
            if len(ids) != 1:
                raise InputError(
                    f"{where}: source {source.id!r} has no single location-based factor",
                    file=self.file,
                )
            value = ids.pop()
        else:
            raise InputError(
                f"{where}: unknown inventory reference {path!r}",
                file=self.file,
                hint="start it with production/, activity/, co2, scope2_location, "
                "exported_ef/ or factor/",
            )
        if isinstance(value, float):
            value *= float(ref.get("share", 1.0))
            if "per" in ref:
                divisor = self.value({REFERENCE_KEY: ref["per"], "facility": facility.id}, where)
                if not isinstance(divisor, float) or divisor == 0:
                    raise InputError(f"{where}: 'per' must name a non-zero figure", file=self.file)
                value /= divisor
        self.used[where] = {
            "reference": path,
            "facility": facility.id,
            "sources": sources,
            "exclude": list(ref.get("exclude", [])),
            "share": float(ref.get("share", 1.0)),
            "value": value,
        }
        return value

    def _source(self, facility: Facility, name: str, where: str) -> Any:
        for source in facility.sources:
            if source.id == name:
                return source
        raise InputError(
            f"{where}: no source {name!r} in facility {facility.id!r}",
            file=self.file,
            hint="use one of " + ", ".join(s.id for s in facility.sources),
        )

    def _activity(self, facility: Facility, name: str, unit: str | None, where: str) -> float:
        source = self._source(facility, name, where)
        if source.activity is None or source.activity.quantity is None:
            raise InputError(
                f"{where}: source {name!r} has no stated quantity to refer to", file=self.file
            )
        quantity = source.activity.quantity
        if unit is None:
            return float(quantity)
        return to_unit(
            parse_quantity(quantity, source.activity.unit, record=where), unit, record=where
        )

    def _production(self, facility: Facility, rest: str, where: str) -> float:
        product, _, part = rest.partition("/")
        entry: Production | None = next(
            (p for p in facility.production if p.product == product), None
        )
        if entry is None:
            raise InputError(
                f"{where}: facility {facility.id!r} states no production of {product!r}",
                file=self.file,
                hint="products stated: " + ", ".join(p.product for p in facility.production),
            )
        if part == "":
            return float(entry.quantity)
        if part == "sold":
            return float(entry.sold or 0.0)
        if part == "kept":
            return float(entry.quantity - (entry.sold or 0.0))
        if part.startswith("inputs/") and part.removeprefix("inputs/") in entry.inputs:
            return float(entry.inputs[part.removeprefix("inputs/")])
        raise InputError(
            f"{where}: unknown production figure {rest!r}",
            file=self.file,
            hint="use production/<product>[/sold|/kept|/inputs/<product>]",
        )

    def _co2(
        self, facility: Facility, ref: Mapping[str, Any], where: str
    ) -> tuple[float, list[str]]:
        ids = [s.id for s in facility.sources]
        wanted = list(ref.get("sources") or [])
        exclude = list(ref.get("exclude") or [])
        for name in wanted + exclude:
            self._source(facility, name, where)
        chosen = wanted or [s for s in ids if s not in exclude]
        lines = [
            x
            for x in self.lines(where)
            if x.facility.id == facility.id
            and x.source.id in chosen
            and x.scope == "1"
            and x.gas == "CO2"
        ]
        return float(sum(x.tco2e for x in lines)), chosen


def resolve(node: Any, facts: EnterpriseFacts, where: str = "") -> Any:
    """``node`` (parsed YAML) with every inventory reference replaced by its figure.

    ``where`` builds a readable path (list items named by their ``id``) that keys
    ``facts.used`` and appears in error messages.
    """
    if isinstance(node, Mapping):
        if REFERENCE_KEY in node:
            return facts.value(node, where or "<root>")
        return {k: resolve(v, facts, f"{where}/{k}" if where else str(k)) for k, v in node.items()}
    if isinstance(node, list):
        out = []
        for i, item in enumerate(node):
            name = item.get("id", i) if isinstance(item, Mapping) else i
            out.append(resolve(item, facts, f"{where}/{name}"))
        return out
    return node


def _per_template_unit(unit: str, activity: float) -> tuple[float, str] | None:
    """Activity in the template's units (t or 1000 Nm3), or None when it has no such unit."""
    for target, label, scale in (("t", "t", 1.0), ("Nm3", "1000Nm3", 1000.0)):
        try:
            value = to_unit(parse_quantity(activity, unit), target)
        except InputError:
            continue
        return value / scale, label
    return None


def source_streams(
    facts: EnterpriseFacts, facility: str, exclude: list[str]
) -> list[dict[str, Any]]:
    """The installation's source streams as the CBAM template's B_EmInst rows.

    One row per source with fossil Scope 1 CO2 (``exclude`` left out), with the parameters the
    inventory used, in the template's units: combustion ``AD [t | 1000 Nm3] × NCV [GJ/unit] /
    1000 × EF [t CO2/TJ] × OxF [%] / 100``; process emissions ``AD [t] × EF [t CO2/t] × ConvF
    [%] / 100``; mass balance ``AD [t, negative for outputs] × C [t C/t] × 3.664``. The factor
    the template needs is derived from the line's CO2 so that its arithmetic gives the
    inventory's figure (for combustion it equals carbon content × 44/12).
    """
    where = "source_streams"
    rows: list[dict[str, Any]] = []
    for line in facts.lines(where):
        if (
            line.facility.id != facility
            or line.scope != "1"
            or line.gas != "CO2"
            or line.source.id in exclude
        ):
            continue
        source = line.source
        subject = source.fuel or source.material or source.product or source.subject or ""
        row: dict[str, Any] = {
            "source": source.id,
            "name": f"{source.id} ({subject})" if subject else source.id,
            "inventory_method": line.method,
            "co2_t": line.tco2e,
            "factor_id": line.plan.factor.id,
            "ncv": None,
            "ncv_unit": None,
            "carbon_content": None,
            "oxidation_pct": None,
            "conversion_pct": None,
            "energy_tj": None,
        }
        converted = _per_template_unit(line.unit, line.activity)
        if converted is None or converted[0] == 0:
            row |= {"approach": None, "activity": line.activity, "activity_unit": line.unit}
            rows.append(row)
            continue
        activity, unit = converted
        parameters = {p.name: p for p in line.plan.parameters}
        if line.method == "combustion" and "ncv" in parameters:
            ncv_use = parameters["ncv"]
            stated = parse_quantity(ncv_use.value, ncv_use.unit)
            ncv = to_unit(stated, "GJ/t") if unit == "t" else to_unit(stated, "GJ/Nm3") * 1000
            oxidation = parameters["oxidation"].value if "oxidation" in parameters else 1.0
            energy = activity * ncv / 1000
            row |= {
                "approach": "Combustion",
                "activity": activity,
                "activity_unit": unit,
                "ncv": ncv,
                "ncv_unit": f"GJ/{unit}",
                "emission_factor": line.tco2e / (energy * oxidation),
                "emission_factor_unit": "tCO2/TJ",
                "oxidation_pct": oxidation * 100,
                "energy_tj": energy,
            }
        elif line.method == "carbon_fixed":
            row |= {
                "approach": "Mass Balance",
                "activity": -activity,
                "activity_unit": unit,
                "carbon_content": line.tco2e / (-activity * 3.664),
                "emission_factor": None,
                "emission_factor_unit": None,
            }
        else:
            row |= {
                "approach": "Process emissions",
                "activity": activity,
                "activity_unit": unit,
                "emission_factor": line.tco2e / activity,
                "emission_factor_unit": "tCO2/t" if unit == "t" else "tCO2/1000Nm3",
                "conversion_pct": 100.0,
            }
        rows.append(row)
    return rows
