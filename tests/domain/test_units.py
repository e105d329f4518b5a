import pytest

from carbonlink.domain.units import conversion_factor
from carbonlink.errors import UnitError


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
