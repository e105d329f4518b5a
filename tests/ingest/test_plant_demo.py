"""The demo's plant year: the real file when present, else a generated one that says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from carbonlink.demo import plant as plant_demo
from carbonlink.demo.plant import ingest_plant_data
from carbonlink.demo.run import metered_inventory_text
from carbonlink.domain.inventory import parse_inventory
from carbonlink.errors import InputError
from carbonlink.settings import Settings
from carbonlink.store.workspace import open_store


def _settings(tmp_path: Path) -> Settings:
    return Settings(workspace=tmp_path / "ws", database_url=None)


def test_the_real_file_gives_the_published_year(tmp_path: Path, steel_plant_file: Path) -> None:
    console = Console(record=True, width=200)
    plant = ingest_plant_data(_settings(tmp_path), steel_plant_file, console)
    assert plant.origin == "real"
    assert plant.report.readings_new == 35_040
    assert round(plant.year.quantity, 2) == 959_636.71
    assert plant.year.intervals_estimated == 0
    assert round(sum(m.quantity for m in plant.months), 2) == 959_636.71
    assert "10.24432/C52G8C" in console.export_text()


def test_a_given_plant_file_is_imported_as_the_plant_year(
    tmp_path: Path, plant_year_file: Path
) -> None:
    console = Console(record=True, width=200)
    plant = ingest_plant_data(_settings(tmp_path), plant_year_file, console)
    assert plant.origin == "real"
    assert plant.report.readings_new == 35_040
    assert plant.year.quantity == 646_800.0  # worked out in the fixture's docstring
    assert plant.year.intervals_estimated == 0
    assert sum(m.quantity for m in plant.months) == 646_800.0
    assert "10.24432/C52G8C" in console.export_text()


def test_without_the_file_a_generated_year_is_used_and_announced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plant_demo, "default_plant_file", lambda: tmp_path / "absent.csv")
    console = Console(record=True, width=200)
    plant = ingest_plant_data(_settings(tmp_path), None, console)
    assert plant.origin == "generated"
    assert "GENERATED" in console.export_text()
    assert plant.report.readings_new == 35_040 and plant.report.quarantined == 0
    assert plant.year.label == "2018" and plant.year.intervals == 35_040
    assert plant.year.intervals_estimated == 0
    assert plant.file.read_bytes().startswith(b"\xef\xbb\xbfdate,")
    # the meter and the metered works say, wherever they are shown, that the series is generated
    store = open_store(_settings(tmp_path))
    try:
        meter = store.meter(plant.meter_id)
    finally:
        store.engine.dispose()
    assert meter is not None and (meter.name or "").endswith("(GENERATED series, illustrative)")
    works = parse_inventory(metered_inventory_text(plant.origin)).facilities[0]
    assert "GENERATED" in works.name and "real" not in works.name
    assert "real 2018 profile" in parse_inventory(metered_inventory_text("real")).facilities[0].name


def test_a_plant_file_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        ingest_plant_data(_settings(tmp_path), tmp_path / "nope.csv")
