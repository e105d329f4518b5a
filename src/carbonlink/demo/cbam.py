"""The demo's CBAM step: communications of the two demo installations as JSON and XLSX."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from rich.console import Console

from carbonlink.domain.cbam import compute_see
from carbonlink.reports.cbam import build_communication, write_json, write_xlsx
from carbonlink.reports.cbam_input import load_cbam_input

DEMO_CBAM_INPUTS = ("cbam-tangshan.yaml", "cbam-jiangsu.yaml")


def demo_cbam_input(name: str) -> Path:
    """Path of a shipped demo CBAM input file."""
    return Path(str(resources.files("carbonlink.data").joinpath("demo", name)))


def write_demo_cbam(out: Path, console: Console) -> dict[str, Path]:
    """Compute SEE for the demo installations and write their communications into ``out/cbam``."""
    folder = out / "cbam"
    outputs: dict[str, Path] = {}
    for name in DEMO_CBAM_INPUTS:
        data = load_cbam_input(demo_cbam_input(name))
        result = compute_see(data)
        communication = build_communication(data, result)
        stem = name.removesuffix(".yaml")
        outputs[f"CBAM {stem} (JSON)"] = write_json(communication, folder / f"{stem}.json")
        outputs[f"CBAM {stem} (XLSX)"] = write_xlsx(communication, folder / f"{stem}.xlsx")
        for good in communication["goods"]:
            console.print(
                f"CBAM {good['cn_code']} {good['name']}: SEE direct {good['see_direct']:.3f}, "
                f"indirect {good['see_indirect']:.3f} t CO2e/t",
                highlight=False,
            )
    return outputs
