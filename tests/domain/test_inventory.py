"""Bad inventory input gives a clear error naming the file, the source and what to do."""

from __future__ import annotations

import pytest

from carbonlink.domain.inventory import parse_inventory
from carbonlink.errors import InputError

HEAD = """\
organization: T
period: {start: 2025-01-01, end: 2025-12-31}
facilities:
  - id: plant-1
    grid: CN-East
    sources:
"""


def parse(source_lines: str) -> object:
    return parse_inventory(HEAD + source_lines, file="inv.yaml")


def test_the_issue_example_parses() -> None:
    inventory = parse(
        "      - {id: boiler-1, method: combustion, fuel: natural_gas,"
        " activity: {quantity: 1200000, unit: Nm3}}\n"
    )
    assert inventory.facilities[0].sources[0].activity.quantity == 1_200_000  # type: ignore[attr-defined]


def test_typo_in_a_field_name() -> None:
    with pytest.raises(InputError) as info:
        parse(
            "      - {id: boiler-1, method: combustion, fuel: natural_gas,"
            " activity: {quantiy: 12, unit: Nm3}}\n"
        )
    text = str(info.value)
    assert "inv.yaml" in text and "source boiler-1" in text
    assert "unknown field 'quantiy'" in text


def test_negative_quantity() -> None:
    with pytest.raises(InputError, match="greater than or equal to 0") as info:
        parse(
            "      - {id: b, method: combustion, fuel: diesel, activity: {quantity: -5, unit: t}}\n"
        )
    assert "source b, field activity.quantity" in str(info.value)


def test_non_numeric_quantity() -> None:
    with pytest.raises(InputError, match="got 'lots'") as info:
        parse(
            "      - {id: b, method: combustion, fuel: diesel,"
            " activity: {quantity: lots, unit: t}}\n"
        )
    assert "source b" in str(info.value)


def test_method_without_its_field() -> None:
    with pytest.raises(InputError, match="needs the field 'fuel'"):
        parse("      - {id: b, method: combustion, activity: {quantity: 1, unit: t}}\n")


def test_unknown_method() -> None:
    with pytest.raises(InputError, match="source b, field method"):
        parse("      - {id: b, method: magic, activity: {quantity: 1, unit: t}}\n")


def test_yaml_syntax_error_points_at_the_line() -> None:
    with pytest.raises(InputError, match="not valid YAML") as info:
        parse(
            "      - {id: b, method: combustion, fuel: diesel, activity: {quantity: 1, unit: t}\n"
        )
    assert info.value.file == "inv.yaml" and "line" in (info.value.record or "")


def test_duplicate_source_ids() -> None:
    row = "      - {id: b, method: combustion, fuel: diesel, activity: {quantity: 1, unit: t}}\n"
    with pytest.raises(InputError, match="appears twice"):
        parse(row + row)


def test_unknown_unit_names_the_source() -> None:
    from carbonlink.domain.engine import account
    from carbonlink.errors import UnitError

    inventory = parse_inventory(
        HEAD + "      - {id: b, method: combustion, fuel: diesel,"
        " activity: {quantity: 1, unit: bananas}}\n",
        file="inv.yaml",
    )
    with pytest.raises(UnitError, match="unknown unit 'bananas'") as info:
        account(inventory, file="inv.yaml")
    assert "source b" in str(info.value) and "inv.yaml" in str(info.value)


def test_error_inside_an_instrument_names_the_source_not_the_instrument() -> None:
    with pytest.raises(InputError) as info:
        parse(
            "      - {id: power, method: electricity, activity: {quantity: 1, unit: MWh},"
            " instruments: [{id: GEC-1, type: gec, quantity: 1}]}\n"
        )
    text = str(info.value)
    assert "source power, field instruments.0.type" in text


def test_unknown_time_zone() -> None:
    text = HEAD.replace("grid: CN-East", "grid: CN-East\n    timezone: Asia/Shanghia")
    with pytest.raises(InputError, match="unknown time zone 'Asia/Shanghia'"):
        parse_inventory(
            text + "      - {id: b, method: combustion, fuel: diesel,"
            " activity: {quantity: 1, unit: t}}\n",
            file="inv.yaml",
        )


def test_unknown_pinned_factor_id() -> None:
    from carbonlink.domain.engine import account
    from carbonlink.errors import UnknownFactorError

    inventory = parse(
        "      - {id: b, method: combustion, fuel: diesel, activity: {quantity: 1, unit: t},"
        " factors: {ncv: ipcc2006/diesel/ncv-typo}}\n"
    )
    with pytest.raises(UnknownFactorError, match="no factor with id") as info:
        account(inventory, file="inv.yaml")  # type: ignore[arg-type]
    assert "source b" in str(info.value)
