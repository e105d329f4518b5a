"""Report building and rendering: the demo enterprise's three reports in every format.

Prints the best time of each stage over several runs and its ratio to a floor measured in the
same run: serialising the same three documents to JSON (the least any format can cost).
Run: ``.venv/bin/python benchmarks/bench_reports.py``.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from carbonlink.demo import demo_inventory_text
from carbonlink.domain.engine import account
from carbonlink.domain.inventory import parse_inventory
from carbonlink.reports.bundle import build_reports
from carbonlink.reports.render import render_html, write_pdf, write_xlsx

REPEATS = 5


def best(run: Callable[[], object], repeat: int = REPEATS) -> float:
    """Best wall time of ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    inventory = parse_inventory(demo_inventory_text(), file="steel-enterprise.yaml")
    result = account(inventory)
    documents = build_reports(inventory, result)
    lines = len(result.plan.lines)
    print(f"demo inventory: {lines} lines; reports: {', '.join(documents)}")
    write_pdf(documents["china"], Path(tempfile.mkdtemp()) / "warm.pdf")  # font loading

    floor = best(lambda: [json.dumps(d, ensure_ascii=False) for d in documents.values()])
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        stages = {
            "build (3 documents)": lambda: build_reports(inventory, result),
            "HTML (3 pages)": lambda: [render_html(d) for d in documents.values()],
            "XLSX (3 workbooks)": lambda: [
                write_xlsx(d, out / f"{k}.xlsx") for k, d in documents.items()
            ],
            "PDF (3 documents)": lambda: [
                write_pdf(d, out / f"{k}.pdf") for k, d in documents.items()
            ],
        }
        print(f"{'floor: JSON of 3 documents':28s} {floor * 1000:9.1f} ms")
        for name, stage in stages.items():
            seconds = best(stage, 3 if name.startswith("PDF") else REPEATS)
            print(f"{name:28s} {seconds * 1000:9.1f} ms   {seconds / floor:8.1f}x floor")


if __name__ == "__main__":
    main()
