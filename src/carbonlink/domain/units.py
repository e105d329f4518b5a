"""One unit registry with the units industry reports in.

Gas volumes at normal conditions (``Nm3``) get a dimension of their own: converting an actual
cubic metre to a normal one needs a temperature and pressure, so pint must refuse to do it
silently. ``tce`` is the Chinese tonne of coal equivalent, 29.3076 GJ (GB/T 2589-2020, 1 kgce =
7 000 kcal). ``kt`` means kilotonne here, not pint's knot. ``scf`` is the US standard cubic foot
(60 °F, 14.696 psi) expressed at normal conditions (0 °C, 101.325 kPa) with the ideal-gas law:
0.0283168 m³ × 273.15 / 288.706 = 0.0267908 Nm³; ``mmBtu`` is a million British thermal units.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

import pint

from carbonlink.errors import UnitError

_DEFINITIONS = """
normal_cubic_meter = [normal_volume] = Nm3 = Nm³ = Nm^3
standard_cubic_meter = normal_cubic_meter = Sm3 = Sm³
kilotonne = 1000 * tonne = kt
megatonne = 1e6 * tonne = Mt
tonne_coal_equivalent = 29.3076 * gigajoule = tce
kilogram_coal_equivalent = 29.3076 * megajoule = kgce
million_btu = 1e6 * british_thermal_unit = mmBtu = MMBtu
standard_cubic_foot = 0.0267908 * normal_cubic_meter = scf
"""

# "10^4 Nm3" (and 10⁴) is how China's guidelines print gas volumes.
_POWER_OF_TEN = re.compile(r"10\s*(?:(?:\^|\*\*)\s*(\d+)|⁴)\s*([A-Za-z][\w³^*]*)")


@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry:
    """The shared registry (built on first use, never at import)."""
    ureg: pint.UnitRegistry = pint.UnitRegistry(
        autoconvert_offset_to_baseunit=True, cache_folder=None, on_redefinition="ignore"
    )
    for line in _DEFINITIONS.strip().splitlines():
        ureg.define(line)
    ureg.formatter.default_format = "~P"
    return ureg


def _normalise(text: str) -> str:
    text = text.strip()
    text = _POWER_OF_TEN.sub(lambda m: f"(1e{m.group(1) or 4} * {m.group(2)})", text)
    return text.replace("m3", "m**3").replace("Nm**3", "Nm3").replace("Sm**3", "Sm3")


MAX_EXPONENT = 12
"""Largest power of a unit or dimension in a unit text (m3 is 3, kg/m3/K is -3)."""

UNIT_HINT = "use a unit such as t, kg, Nm3, m3, L, GJ, TJ, MWh, kWh or tce"


def _real(number: Any) -> float:
    return float(number)


def _scale(unit: str, record: str | None) -> pint.Quantity:
    """The quantity a unit text stands for (magnitude 1 for a plain unit)."""
    ureg = registry()
    if not unit.strip():
        raise UnitError("the unit is empty", record=record, hint=UNIT_HINT)
    try:
        scale = ureg.parse_expression(_normalise(unit))
        if not isinstance(scale, pint.Quantity):
            scale = ureg.Quantity(scale, "")
        magnitude = _real(scale.magnitude)
        exponents = [_real(e) for e in scale.dimensionality.values()]
        exponents += [_real(e) for _, e in scale.unit_items()]
    # pint's parser raises whatever its tokenizer or arithmetic does on odd text (an
    # AssertionError for "~", TokenError for "kWh)", ZeroDivisionError for "kWh/0",
    # OverflowError for "kWh**1000"): every one of them means the text is not a unit.
    except Exception as exc:
        raise UnitError(f"unknown unit {unit!r}", record=record, hint=UNIT_HINT) from exc
    if not all(abs(e) <= MAX_EXPONENT and e == round(e) for e in exponents):
        raise UnitError(
            f"{unit!r} is not a unit: its powers are not whole numbers up to {MAX_EXPONENT}",
            record=record,
            hint=UNIT_HINT,
        )
    if not math.isfinite(magnitude) or magnitude <= 0:
        raise UnitError(
            f"{unit!r} is not a unit: it scales by {magnitude:g}",
            record=record,
            hint=f"give the unit alone, without a number; {UNIT_HINT}",
        )
    return scale


def parse_quantity(value: float, unit: str, *, record: str | None = None) -> pint.Quantity:
    """A quantity from a number and a unit text such as ``"Nm3"`` or ``"GJ/10^4 Nm3"``."""
    return value * _scale(unit, record)


def check_plain_unit(unit: str, *, record: str | None = None) -> None:
    """Refuse a unit text that is not a plain unit of a physical quantity.

    A meter's or a reading's unit is a unit alone: "0 MWh" or "2*kWh" carry a number that
    would rescale every value, "~", "%" or an empty text have no dimension. Powers of ten
    written the way China's guidelines print them ("10^4 Nm3") are units.
    """
    scale = _scale(unit, record)
    magnitude = _real(scale.magnitude)
    powers = bool(_POWER_OF_TEN.search(unit))
    exponent = math.log10(magnitude)
    if (magnitude != 1.0 and not powers) or abs(exponent - round(exponent)) > 1e-9:
        raise UnitError(
            f"{unit!r} is not a plain unit: it carries a factor of {magnitude:g}",
            record=record,
            hint=f"give the unit alone, without a number; {UNIT_HINT}",
        )
    if scale.dimensionless:
        raise UnitError(
            f"{unit!r} is not a unit of a physical quantity (it has no dimension)",
            record=record,
            hint=UNIT_HINT,
        )


def to_unit(quantity: pint.Quantity, target: str, *, record: str | None = None) -> float:
    """The magnitude of ``quantity`` in ``target`` units; a clear error on a dimension mismatch."""
    ureg = registry()
    target_q = parse_quantity(1.0, target, record=record)
    try:
        return float((quantity / target_q).to(ureg.dimensionless).magnitude)
    except pint.errors.DimensionalityError as exc:
        raise UnitError(
            f"{quantity.units:~P} cannot be converted to {target} "
            f"(dimension {quantity.dimensionality} is not {target_q.dimensionality})",
            record=record,
            hint=f"give the quantity in a unit of the same kind as {target}",
        ) from exc
    except (ArithmeticError, ValueError) as exc:
        raise UnitError(
            f"{quantity.units:~P} cannot be converted to {target}: {exc}",
            record=record,
            hint=f"give the quantity in a unit of the same kind as {target}",
        ) from exc


def conversion_factor(source: str, target: str, *, record: str | None = None) -> float:
    """Multiplier taking a magnitude in ``source`` units to ``target`` units."""
    return to_unit(parse_quantity(1.0, source, record=record), target, record=record)
