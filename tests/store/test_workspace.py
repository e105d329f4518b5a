"""The workspace file: database URL, organization and facilities reach the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from carbonlink.domain.metering import Facility, Meter
from carbonlink.errors import ConfigError
from carbonlink.ingest.base import Reading
from carbonlink.ingest.vee import derive_activity
from carbonlink.settings import Settings
from carbonlink.store.workspace import CONFIG_NAME, init_workspace, open_store

CONFIG = """\
database_url: sqlite:///{db}
organization: {{id: hebei-steel, name: Hebei Steel Works, country: CN}}
facilities:
  - {{id: tangshan, name: Tangshan works, time_zone: America/New_York, grid_region: CN-North}}
accounting: {{gwp: AR6}}   # another area's section, passed over here
"""


def test_the_workspace_file_names_the_database_and_registers_the_sites(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    folder.mkdir()
    database = tmp_path / "elsewhere" / "plant.db"
    (folder / CONFIG_NAME).write_text(CONFIG.format(db=database), encoding="utf-8")
    workspace = init_workspace(folder, Settings(workspace=folder, database_url=None))
    assert database.is_file() and str(database) in workspace.database_url
    store = open_store(Settings(workspace=folder, database_url=None))
    try:
        assert store.facility("tangshan") == Facility(
            "tangshan", "hebei-steel", "Tangshan works", "America/New_York", "CN-North"
        )
        # the facility's zone, not the meter's, cuts the days
        store.save_meter(Meter("m", "register", "kWh", interval_s=3600, facility_id="tangshan"))
        t = datetime(2018, 6, 2, 2, tzinfo=UTC)  # 1 June, 22:00 in New York
        store.add_readings(Reading("m", t + timedelta(hours=h), float(h), "kWh") for h in range(4))
        days = derive_activity(store, "m", periods=("day",)).activity["day"]
        assert [(d.label, d.quantity) for d in days] == [("2018-06-01", 2.0), ("2018-06-02", 1.0)]
    finally:
        store.engine.dispose()


def test_a_bad_time_zone_in_the_workspace_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / CONFIG_NAME).write_text(
        "organization: {id: o, name: O}\nfacilities: [{id: f, name: F, time_zone: Asia/Beijing}]\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="unknown time zone 'Asia/Beijing'"):
        open_store(Settings(workspace=tmp_path, database_url=None))
