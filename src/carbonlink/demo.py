"""The demo enterprise: a Chinese steel maker run end to end on the embedded default."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from carbonlink.settings import Settings


def run_demo(settings: Settings, out: Path, console: Console) -> None:
    """Run the demo and write its outputs into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    from carbonlink.reports.cbam_demo import write_demo_cbam

    write_demo_cbam(out, console)
    console.print(f"demo outputs in {out.resolve()}")
