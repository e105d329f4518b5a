"""Small builders for one-source inventories used across the accounting tests."""

from __future__ import annotations

from typing import Any

import yaml

from carbonlink.domain.engine import Computation, account
from carbonlink.domain.inventory import parse_inventory


def run(
    *sources: dict[str, Any],
    year: int = 2025,
    jurisdiction: str = "CN",
    grid: str = "CN-East",
    gwp: str = "AR5",
    **extra: Any,
) -> Computation:
    """Account one facility with ``sources`` for calendar ``year``."""
    document = {
        "organization": "Test Co.",
        "period": {"start": f"{year}-01-01", "end": f"{year}-12-31"},
        "gwp": gwp,
        "jurisdiction": jurisdiction,
        "facilities": [{"id": "site", "grid": grid, "sources": list(sources)}],
        **extra,
    }
    return account(parse_inventory(yaml.safe_dump(document), file="test.yaml"), file="test.yaml")


def line(result: Computation, *, gas: str = "CO2", scope: str | None = None) -> dict[str, Any]:
    """The single line of ``gas`` (and ``scope``) in a result."""
    found = [
        x for x in result.lines() if x["gas"] == gas and (scope is None or x["scope"] == scope)
    ]
    assert len(found) == 1, found
    return found[0]
