"""The small works inventory and its computation, shared by the report tests."""

from __future__ import annotations

import pytest
import yaml
from small_works import SMALL_WORKS

from carbonlink.domain.engine import Computation, account
from carbonlink.domain.inventory import Inventory, parse_inventory


@pytest.fixture(scope="session")
def small_works() -> tuple[Inventory, Computation]:
    """The small works inventory and its computation."""
    inventory = parse_inventory(yaml.safe_dump(SMALL_WORKS, allow_unicode=True), file="small.yaml")
    return inventory, account(inventory, file="small.yaml")
