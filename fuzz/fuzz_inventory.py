"""Fuzz target: inventory files, read and accounted with the shipped factor library."""

from __future__ import annotations

from importlib import resources

import atheris
from harness import run

with atheris.instrument_imports(include=["carbonlink"]):
    from carbonlink.domain.engine import compile_inventory, compute
    from carbonlink.domain.factors import default_library
    from carbonlink.domain.inventory import parse_inventory

LIBRARY = default_library()


def target(data: bytes) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    plan = compile_inventory(parse_inventory(text, file="fuzz.yaml"), library=LIBRARY)
    compute(plan, plan.inventory_batch())


if __name__ == "__main__":
    demo = resources.files("carbonlink.data").joinpath("demo", "steel-enterprise.yaml")
    run(target, [demo.read_bytes()])
