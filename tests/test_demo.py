"""`carbonlink demo` end to end: every step runs and writes what it lists."""

import json
from pathlib import Path

import pytest
from rich.console import Console

from carbonlink.demo import run_demo
from carbonlink.ingest.plant_demo import default_plant_file
from carbonlink.settings import Settings


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("demo")
    console = Console(record=True, width=150)
    run_demo(Settings(workspace=out / "unused"), out, console)
    return out, console.export_text()


def test_demo_writes_every_output_it_lists(demo_run: tuple[Path, str]) -> None:
    out, text = demo_run
    assert (out / "inventory.json").exists()
    assert (out / "inventory-metered-2018.json").exists()
    assert f"demo outputs in {out.resolve()}" in text


@pytest.mark.skipif(not default_plant_file().exists(), reason="real plant file not beside project")
def test_metered_account_uses_the_real_plant_year(demo_run: tuple[Path, str]) -> None:
    out, _ = demo_run
    document = json.loads((out / "inventory-metered-2018.json").read_text("utf-8"))
    [location] = [line for line in document["lines"] if line["scope"] == "2_location"]
    # 959 636.71 kWh in 2018 (35 040 readings) × 0.5568 kg/kWh, the pinned 2021 national average.
    assert location["activity"]["quantity"] == pytest.approx(959.63671, abs=1e-6)
    assert location["tco2e"] == pytest.approx(959.63671 * 0.5568, rel=1e-9)
    assert "pinned" in location["factor"]["reason"]
