import pytest

from carbonlink.domain.units import check_plain_unit, conversion_factor
from carbonlink.errors import CarbonlinkError, UnitError


@pytest.mark.parametrize(
    ("source", "target", "factor"),
    [
        ("10^4 Nm3", "Nm3", 1e4),
        ("GJ/10^4 Nm3", "GJ/Nm3", 1e-4),
        ("tce", "GJ", 29.3076),
        ("MWh", "GJ", 3.6),
        ("kt", "Gg", 1.0),
        ("t", "kg", 1000.0),
        ("TJ", "GJ", 1000.0),
    ],
)
def test_industrial_units_convert(source: str, target: str, factor: float) -> None:
    assert conversion_factor(source, target) == pytest.approx(factor, rel=1e-12)


def test_normal_cubic_metre_is_not_newton_metre_cubed() -> None:
    with pytest.raises(UnitError, match="cannot be converted"):
        conversion_factor("Nm3", "J*m**2")


def test_normal_and_actual_volumes_do_not_mix_silently() -> None:
    with pytest.raises(UnitError):
        conversion_factor("Nm3", "m3")


def test_unknown_unit_names_the_problem() -> None:
    with pytest.raises(UnitError, match="unknown unit 'bananas'"):
        conversion_factor("bananas", "t")


@pytest.mark.parametrize(
    "unit", ["~", "kWh)", "kWh/0", "😀", "(", "road freight(", "kWh**1000", "m**0.5", " "]
)
def test_text_that_pint_cannot_read_is_a_unit_error_naming_it(unit: str) -> None:
    """pint raises AssertionError, TokenError, ZeroDivisionError, OverflowError… on such text;
    each must come out as the one `UnitError` naming the unit."""
    with pytest.raises(UnitError) as caught:
        conversion_factor(unit, "kWh")
    assert isinstance(caught.value, CarbonlinkError)
    assert repr(unit) in str(caught.value) or "empty" in str(caught.value)


@pytest.mark.parametrize(
    ("unit", "says"),
    [
        ("0 MWh", "scales by 0"),
        ("2*kWh", "factor of 2"),
        ("1e-3 kWh", "factor of 0.001"),
        ("%", "no dimension"),
        ("dimensionless", "no dimension"),
        ("", "empty"),
    ],
)
def test_a_unit_with_a_number_or_without_dimension_is_not_a_plain_unit(
    unit: str, says: str
) -> None:
    with pytest.raises(UnitError, match=says):
        check_plain_unit(unit)


@pytest.mark.parametrize("unit", ["kWh", "MWh", "Nm3", "t", "10^4 Nm3", "10⁴ Nm3", "kg/m3"])
def test_plain_units_pass(unit: str) -> None:
    check_plain_unit(unit)


def test_a_unit_scaling_by_zero_converts_nothing() -> None:
    """'0 MWh' used to give a factor of 0, turning every value into 0."""
    with pytest.raises(UnitError, match="scales by 0"):
        conversion_factor("0 MWh", "kWh")
