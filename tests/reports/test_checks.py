"""Factor vintages against the period: yearly series flagged past the publication lag."""

from __future__ import annotations

import pytest
import yaml

from carbonlink.domain.engine import account
from carbonlink.domain.factors import default_library
from carbonlink.domain.inventory import parse_inventory
from carbonlink.reports.checks import (
    PUBLICATION_LAG_YEARS,
    StaleVintageError,
    factor_vintages,
    refuse_stale,
    vintage_warnings,
)


def _inventory(year: int, **power: object) -> str:
    source = {"id": "power", "method": "electricity", "activity": {"quantity": 10, "unit": "MWh"}}
    return yaml.safe_dump(
        {
            "organization": "Example",
            "period": {"start": f"{year}-01-01", "end": f"{year}-12-31"},
            "facilities": [{"id": "p", "grid": "CN-East", "sources": [source | power]}],
        }
    )


@pytest.mark.parametrize(
    ("year", "stale"),
    [(2023, False), (2023 + PUBLICATION_LAG_YEARS, False), (2024 + PUBLICATION_LAG_YEARS, True)],
)
def test_yearly_grid_factor_is_stale_only_past_the_lag(year: int, stale: bool) -> None:
    inventory = parse_inventory(_inventory(year))
    vintages = factor_vintages(inventory, account(inventory), default_library())
    grid = next(v for v in vintages if v.factor.subject == "grid_average")
    assert (grid.factor.year, grid.newest, grid.yearly) == (2023, 2023, True)
    assert grid.stale is stale
    assert bool(vintage_warnings(vintages)) is stale


def test_a_pinned_factor_is_listed_as_pinned_not_flagged() -> None:
    text = _inventory(2031, factors={"grid": "cn-mee-nbs/grid_average/CN/2021"})
    inventory = parse_inventory(text)
    vintages = factor_vintages(inventory, account(inventory), default_library())
    grid = next(v for v in vintages if v.factor.subject == "grid_average")
    assert (grid.status, grid.years_behind) == ("pinned", 10)
    residual = next(v for v in vintages if v.factor.subject == "residual_mix")
    assert residual.stale  # not pinned: the newest residual mix, 2023, eight years behind
    with pytest.raises(StaleVintageError, match="residual_mix/CN/2023"):
        refuse_stale(vintages, file="x.yaml")
