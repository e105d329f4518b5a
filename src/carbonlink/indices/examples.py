"""The shipped example indices (BRICS frameworks over cited 2022 statistics), built on request."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from carbonlink.indices.data import read_table
from carbonlink.indices.pipeline import build
from carbonlink.indices.report import write_outputs
from carbonlink.indices.spec import load_spec
from carbonlink.indices.uncertainty import run_uncertainty

__all__ = ["EXAMPLE_SPECS", "build_examples", "example_path"]

EXAMPLE_SPECS = ("brics_iidi.yaml", "digital_manufacturing.yaml")
EXAMPLE_DATA = "brics_2022.csv"


def example_path(name: str) -> Path:
    """Path of a shipped example file (spec, data or source table)."""
    ref = resources.files("carbonlink.data").joinpath("indices", "examples", name)
    return Path(str(ref))


def build_examples(out_dir: Path) -> dict[str, Path]:
    """Build every example index into ``out_dir/<spec name>/``; returns the report paths."""
    data = read_table(example_path(EXAMPLE_DATA))
    reports = {}
    for name in EXAMPLE_SPECS:
        spec = load_spec(example_path(name))
        result = build(spec, data)
        ua = run_uncertainty(spec, data) if spec.uncertainty else None
        paths = write_outputs(result, out_dir / Path(name).stem, ua)
        reports[name] = paths["html"]
    return reports
