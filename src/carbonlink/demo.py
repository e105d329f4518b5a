"""The demo enterprise: a Chinese steel maker run end to end on the embedded default."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from carbonlink.settings import Settings


def run_demo(
    settings: Settings, out: Path, console: Console, *, plant_data: Path | None = None
) -> None:
    """Run the demo and write its outputs into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    from carbonlink.ingest.plant_demo import ingest_plant_data

    if not settings.database_url:
        settings = settings.model_copy(update={"workspace": out / "workspace"})
    ingest_plant_data(settings, plant_data, console)
    console.print(f"demo outputs in {out.resolve()}")
