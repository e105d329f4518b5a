"""Fuzzing inventory files: any YAML is accounted or refused with a `CarbonlinkError` naming it."""

from __future__ import annotations

from importlib import resources

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbonlink.domain.engine import compile_inventory, compute
from carbonlink.domain.factors import default_library
from carbonlink.domain.inventory import parse_inventory
from carbonlink.errors import CarbonlinkError
from fuzzing import mutated

DEMO = yaml.safe_load(
    resources.files("carbonlink.data").joinpath("demo", "steel-enterprise.yaml").read_text("utf-8")
)
LIBRARY = default_library()
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _account(text: str) -> None:
    try:
        inventory = parse_inventory(text, file="fuzz.yaml")
        plan = compile_inventory(inventory, library=LIBRARY, file="fuzz.yaml")
        compute(plan, plan.inventory_batch())
    except CarbonlinkError:
        pass


def test_the_seed_inventory_accounts() -> None:
    inventory = parse_inventory(yaml.safe_dump(DEMO, allow_unicode=True))
    plan = compile_inventory(inventory, library=LIBRARY)
    assert compute(plan, plan.inventory_batch()).to_dict()["lines"]


@FAST
@given(mutated(DEMO))
def test_a_mutated_inventory_is_accounted_or_refused(document: object) -> None:
    _account(yaml.safe_dump(document, allow_unicode=True))


@FAST
@given(st.text(max_size=200))
def test_any_text_is_an_inventory_or_a_clear_error(text: str) -> None:
    _account(text)
