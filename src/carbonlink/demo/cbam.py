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


def write_demo_cbam(
    out: Path, console: Console, *, template: Path | None = None
) -> dict[str, Path]:
    """Compute SEE for the demo installations and write their communications into ``out/cbam``.

    With ``template`` (the user's copy of the Commission's communication template) each
    installation's communication is also written into a filled copy of it, beside carbonlink's
    own workbook (``cbam-tangshan.official.xlsx``).
    """
    folder = out / "cbam"
    outputs: dict[str, Path] = {}
    for name in DEMO_CBAM_INPUTS:
        data = load_cbam_input(demo_cbam_input(name))
        result = compute_see(data)
        communication = build_communication(data, result)
        stem = name.removesuffix(".yaml")
        outputs[f"CBAM {stem} (JSON)"] = write_json(communication, folder / f"{stem}.json")
        outputs[f"CBAM {stem} (XLSX)"] = write_xlsx(communication, folder / f"{stem}.xlsx")
        if template is not None:
            from carbonlink.reports.cbam_template import fill_official_template

            outputs[f"CBAM {stem} (official template)"] = fill_official_template(
                template, communication, folder / f"{stem}.official.xlsx"
            )
        for good in communication["goods"]:
            console.print(
                f"CBAM {good['cn_code']} {good['name']}: SEE direct {good['see_direct']:.3f}, "
                f"indirect {good['see_indirect']:.3f} t CO2e/t",
                highlight=False,
            )
    if template is None:
        console.print(
            "official CBAM template not given (--cbam-template): carbonlink's workbooks only",
            highlight=False,
        )
    return outputs
