"""carbonlink.indices: a composite-indicator engine following the conventions of the JRC's COINr.

An index is a YAML spec (framework, indicator metadata, the method of every step) applied to a
units × indicators table; every step keeps its own dataset, results carry the spec's hash, and
uncertainty and sensitivity analyses run batched across replications. The package depends only
on numpy, scipy, pandas, pydantic, PyYAML and Jinja2 (reports), not on the accounting core.
"""

from carbonlink.indices.data import IndicatorData, read_table, spec_from_coinr_meta
from carbonlink.indices.pipeline import IndexResult, build, build_panel
from carbonlink.indices.spec import IndexSpec, load_spec, spec_from_dict
from carbonlink.indices.uncertainty import UncertaintyResult, run_uncertainty

__all__ = [
    "IndexResult",
    "IndexSpec",
    "IndicatorData",
    "UncertaintyResult",
    "build",
    "build_panel",
    "load_spec",
    "read_table",
    "run_uncertainty",
    "spec_from_coinr_meta",
    "spec_from_dict",
]
