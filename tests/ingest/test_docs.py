"""The mapping printed in docs/ingest.md is a valid mapping (the docs cannot drift)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from carbonlink.ingest.mapping import FileMapping

DOC = Path(__file__).resolve().parents[2] / "docs" / "ingest.md"


def test_the_documented_mapping_is_valid() -> None:
    (block,) = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    mapping = FileMapping.model_validate(yaml.safe_load(block))
    assert [value.meter for value in mapping.values] == ["bf1-blower", "boiler-gas"]
    gas = mapping.meter_objects()[1]
    assert (gas.kind, gas.rollover_max, gas.time_zone, gas.labelling) == (
        "register",
        999999,
        "Asia/Shanghai",
        "end",
    )
