"""Fuzz target: plant files (CSV and XLSX) read through a mapping, and index specs.

The first input byte picks the path: a CSV file, an XLSX file (the rest of the input is the
workbook's bytes) or an index spec (the rest is YAML) validated and built on three units.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import atheris
import pandas as pd
import yaml
from harness import run

with atheris.instrument_imports(include=["carbonlink"]):
    from carbonlink.indices.data import IndicatorData
    from carbonlink.indices.pipeline import build
    from carbonlink.indices.spec import spec_from_dict
    from carbonlink.ingest.file_import import FileReader
    from carbonlink.ingest.mapping import FileMapping

MAPPING = FileMapping.model_validate(
    {
        "timestamp": {"column": "time", "time_zone": "Asia/Shanghai"},
        "values": [{"column": "power", "meter": "m-power", "unit": "kWh"}],
        "meters": [{"id": "m-power", "kind": "interval", "unit": "MWh", "min_value": 0}],
    }
)
SPEC = {
    "name": "toy",
    "framework": [{"code": "IDX"}, {"code": "A", "parent": "IDX"}],
    "indicators": [{"code": "a1", "parent": "A"}, {"code": "a2", "parent": "A"}],
}
DATA = IndicatorData(
    pd.DataFrame({"uCode": ["U1", "U2", "U3"], "a1": [1.0, 2, 3], "a2": [3.0, 1, 2]})
)


def read_file(name: str, data: bytes) -> None:
    reader = FileReader.open(Path(name), MAPPING, data=data)
    try:
        for _item in reader:
            pass
    finally:
        reader.table.close()


def build_spec(data: bytes) -> None:
    try:
        raw = yaml.safe_load(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError):
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        build(spec_from_dict(raw), DATA)


def target(data: bytes) -> None:
    if not data:
        return
    kind, body = data[0] % 3, data[1:]
    if kind == 0:
        read_file("fuzz.csv", body)
    elif kind == 1:
        read_file("fuzz.xlsx", body)
    else:
        build_spec(body)


if __name__ == "__main__":
    csv = b"\x00time,power\n2024-01-01 00:00,1.5\n2024-01-01 00:15,2\n"
    spec = b"\x02" + yaml.safe_dump(SPEC).encode()
    run(target, [csv, spec])
