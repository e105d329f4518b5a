"""Rendering speed: the demo's report PDFs, the official CBAM template fill, an index's outputs.

Each figure is printed beside a floor measured in the same run, with their ratio:

- a report PDF against WeasyPrint laying out a plain page of the same text (the report's
  characters as one paragraph, same fonts and page size): the cost of the text itself, without
  tables;
- a PDF in a new process (imports, fonts, one report: what a CLI call pays) against a new
  process that imports WeasyPrint and lays out the plain page;
- the CBAM template fill against rewriting the same workbook's parts untouched (read, deflate,
  write: the least a fill that writes a new file costs), and against openpyxl loading and saving
  the workbook untouched (what the fill cost when it went through openpyxl). The workbook is the
  Commission's, never part of the project: CARBONLINK_CBAM_TEMPLATE or
  ``../shared/reference/cbam/`` beside the checkout; without it that part is skipped;
- an index's outputs (CSV, XLSX, HTML report) for an index of the ASEM example's size (51 units,
  49 indicators, 8 dimensions, 2 pillars) against writing the same tables as plain CSV.

Wall time is the best of a few runs; CPU time (this process) is printed too, because the
machine is shared and its load changes wall time several-fold. Run:
``.venv/bin/python benchmarks/bench_render.py``.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from carbonlink.demo import demo_inventory_text
from carbonlink.demo.cbam import demo_cbam_input
from carbonlink.domain.engine import account
from carbonlink.domain.inventory import parse_inventory
from carbonlink.indices.data import IndicatorData
from carbonlink.indices.pipeline import IndexResult, build
from carbonlink.indices.report import _tables, diagnose, write_outputs
from carbonlink.indices.spec import spec_from_dict
from carbonlink.monitor.plan import completeness, load_template, plan_from_template
from carbonlink.reports import render
from carbonlink.reports.bundle import build_reports
from carbonlink.reports.cbam import build_communication
from carbonlink.reports.cbam_input import load_cbam_input
from carbonlink.reports.cbam_template import fill_official_template
from carbonlink.reports.monitoring_plan import build_plan_report

TEMPLATE_NAME = "CBAM Communication template for installations_en_20241213.xlsx"
REPEATS = 3


def best(run: Callable[[], object], repeat: int = REPEATS) -> tuple[float, float]:
    """Best wall time and best CPU time of ``repeat`` runs, in seconds."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def line(
    name: str, figure: tuple[float, float], floor_name: str, floor: tuple[float, float]
) -> None:
    """One row: figure and floor, wall (CPU), and the wall ratio."""
    print(
        f"{name:34s} {figure[0]:6.2f} s ({figure[1]:5.2f} cpu)   "
        f"{floor_name:34s} {floor[0]:6.2f} s ({floor[1]:5.2f} cpu)   {figure[0] / floor[0]:6.1f}x"
    )


def plain_page(document: dict[str, object]) -> str:
    """The report's text as one paragraph, in the report's font, size and page."""
    page = render.render_html(document)
    text = html.unescape(re.sub(r"<[^>]+>", " ", page[page.index("<body") :]))
    text = re.sub(r"\s+", " ", text)
    return (
        "<html><head><style>@page { size: A4 landscape; margin: 14mm 12mm 16mm 12mm; }"
        f'html {{ font-family: "{render.FONT_FAMILY}"; font-size: 8.5pt; }}</style></head>'
        f"<body><p>{html.escape(text)}</p></body></html>"
    )


def demo_documents() -> dict[str, dict[str, Any]]:
    inventory = parse_inventory(demo_inventory_text(), file="steel-enterprise.yaml")
    documents = dict(build_reports(inventory, account(inventory)))
    template = load_template("iron_steel")
    plan = plan_from_template(
        "works",
        template,
        {"boiler": "fuel_combustion", "power": "purchased_electricity"},
        meters={"power": ["incomer"]},
    )
    documents["monitoring-plan"] = build_plan_report(
        plan.model_dump(mode="json") | {"content_hash": plan.content_hash},
        template.model_dump(mode="json"),
        [asdict(f) for f in completeness(plan, template, meters_with_data=[])],
        organization="Demo Steel Co., Ltd.",
    )
    return documents


def bench_pdfs(out: Path) -> None:
    from weasyprint import HTML

    documents = demo_documents()
    font_config, faces = render._pdf_fonts()
    render.render_pdf(documents["reconcile"])  # fontconfig's first scan of the font
    print("report PDFs (demo enterprise), same process, fonts loaded once")
    for name, document in documents.items():
        page = plain_page(document)
        pages = len(
            HTML(string=render.render_html(document))
            .render(stylesheets=[faces], font_config=font_config)
            .pages
        )
        figure = best(lambda d=document, n=name: render.write_pdf(d, out / f"{n}.pdf"))
        floor = best(
            lambda p=page: (
                HTML(string=p)
                .render(stylesheets=[faces], font_config=font_config)
                .write_pdf(out / "plain.pdf")
            )
        )
        size = (out / f"{name}.pdf").stat().st_size / 1024
        line(f"{name} ({pages} p, {size:.0f} kB)", figure, "plain page, same text", floor)

    (out / "china.json").write_text(json.dumps(documents["china"]), "utf-8")
    (out / "plain.html").write_text(plain_page(documents["china"]), "utf-8")
    report = (
        "import json, pathlib, sys; from carbonlink.reports.render import write_pdf; "
        "write_pdf(json.loads(pathlib.Path(sys.argv[1]).read_text('utf-8')), "
        "pathlib.Path(sys.argv[2]))"
    )
    plain = (
        "import sys; from carbonlink.reports import render; render._import_weasyprint(); "
        "from weasyprint import HTML; c, f = render._pdf_fonts(); "
        "HTML(filename=sys.argv[1]).write_pdf(sys.argv[2], stylesheets=[f], font_config=c)"
    )

    def child(code: str, *args: Path) -> None:
        subprocess.run([sys.executable, "-c", code, *map(str, args)], check=True)

    figure = best(lambda: child(report, out / "china.json", out / "cold.pdf"), 2)
    floor = best(lambda: child(plain, out / "plain.html", out / "cold-plain.pdf"), 2)
    # CPU of a child is not this process's: wall only.
    print(
        f"{'china PDF in a new process':34s} {figure[0]:6.2f} s              "
        f"{'new process, plain page':34s} {floor[0]:6.2f} s              "
        f"{figure[0] / floor[0]:6.1f}x"
    )


def template_path() -> Path | None:
    given = os.environ.get("CARBONLINK_CBAM_TEMPLATE")
    path = (
        Path(given)
        if given
        else Path(__file__).resolve().parents[1]
        / ".."
        / "shared"
        / "reference"
        / "cbam"
        / TEMPLATE_NAME
    )
    return path if path.is_file() else None


def bench_cbam(out: Path) -> None:
    template = template_path()
    print("official CBAM template fill (demo installation)")
    if template is None:
        print("  skipped: the Commission's workbook is not there (CARBONLINK_CBAM_TEMPLATE)")
        return
    communication = build_communication(load_cbam_input(demo_cbam_input("cbam-tangshan.yaml")))

    def rewrite() -> None:
        with zipfile.ZipFile(template) as source, zipfile.ZipFile(out / "copy.xlsx", "w") as copy:
            for info in source.infolist():
                copy.writestr(info, source.read(info.filename), zipfile.ZIP_DEFLATED)

    def openpyxl_round_trip() -> None:
        import openpyxl

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            openpyxl.load_workbook(template).save(out / "openpyxl.xlsx")

    figure = best(lambda: fill_official_template(template, communication, out / "filled.xlsx"))
    floor = best(rewrite)
    line("fill", figure, "rewrite every part untouched", floor)
    old = best(openpyxl_round_trip, 1)
    line("fill", figure, "openpyxl load + save untouched", old)


def asem_sized_index() -> IndexResult:
    units, indicators, dimensions, pillars = 51, 49, 8, 2
    rng = np.random.default_rng(2026)
    values = rng.lognormal(mean=2.0, sigma=0.8, size=(units, indicators))
    values[rng.random(values.shape) < 0.03] = np.nan
    frame = pd.DataFrame(values, columns=[f"i{j:02d}" for j in range(indicators)])
    frame.insert(0, "uCode", [f"U{i:02d}" for i in range(units)])
    framework = [{"code": "INDEX"}]
    framework += [{"code": f"P{p}", "parent": "INDEX"} for p in range(pillars)]
    framework += [{"code": f"D{d}", "parent": f"P{d % pillars}"} for d in range(dimensions)]
    spec = spec_from_dict(
        {
            "name": "asem-sized",
            "framework": framework,
            "indicators": [
                {"code": f"i{j:02d}", "parent": f"D{j % dimensions}"} for j in range(indicators)
            ],
            "steps": {
                "impute": {"method": "mean"},
                "treat": {},
                "normalise": {"method": "minmax", "params": {"l_u": [1, 100]}},
            },
        }
    )
    return build(spec, IndicatorData(frame))


def bench_index(out: Path) -> None:
    result = asem_sized_index()
    tables = _tables(result, diagnose(result), None)
    cells = sum(frame.size for frame in tables.values())
    print(
        f"index outputs, ASEM size (51 units x 49 indicators; {len(tables)} tables, {cells} cells)"
    )

    def plain_csv() -> None:
        for name, frame in tables.items():
            frame.to_csv(out / f"{name}.csv", index=False)

    figure = best(lambda: write_outputs(result, out / "index"))
    floor = best(plain_csv)
    line("CSV + XLSX + HTML report", figure, "the same tables as plain CSV", floor)


def main() -> None:
    with os.popen("cat /proc/loadavg 2>/dev/null") as load:
        print(f"load average: {load.read().split(' ')[0] or '?'}")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        bench_pdfs(out)
        bench_cbam(out)
        bench_index(out)


if __name__ == "__main__":
    main()
