"""The demo's plant data: a real year of a steel plant's electricity, imported and processed.

The real file is "Steel Industry Energy Consumption" (UCI Machine Learning Repository, 2021;
V. E. Sathishkumar, Changsun Shin, Youngyun Cho; DOI 10.24432/C52G8C; licence CC BY 4.0):
15-minute electricity use of DAEWOO Steel Co. Ltd. in Gwangyang, South Korea, for 2018.
carbonlink does not ship it. The demo looks for it beside the project (``../shared/data/…``)
or where ``--plant-data`` points; without it, it writes a generated series of the same shape
and says so, so the demo still runs end to end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
from rich.console import Console

from carbonlink.domain.metering import MeteredActivity
from carbonlink.errors import InputError
from carbonlink.ingest.file_import import ImportReport, import_file
from carbonlink.ingest.mapping import load_mapping, shipped_mapping
from carbonlink.ingest.vee import derive_activity
from carbonlink.settings import Settings
from carbonlink.store import Store, to_epoch_us
from carbonlink.store.workspace import open_store

METER_ID = "daewoo-gwangyang-electricity"
TIME_ZONE = "Asia/Seoul"
YEAR = 2018
CITATION = (
    "Steel Industry Energy Consumption, UCI Machine Learning Repository (2021), "
    "V. E. Sathishkumar, C. Shin, Y. Cho, DOI 10.24432/C52G8C, CC BY 4.0"
)
RELATIVE_LOCATION = Path("data") / "steel-industry-energy" / "Steel_industry_data.csv"


def default_plant_file() -> Path:
    """Where the real file lies in development and CI: ``shared/`` beside the project folder."""
    project_root = Path(__file__).resolve().parents[3]
    return project_root.parent / "shared" / RELATIVE_LOCATION


@dataclass(frozen=True)
class PlantData:
    """The imported plant year: where it came from, the import report and the activity."""

    origin: Literal["real", "generated"]
    file: Path
    meter_id: str
    report: ImportReport
    year: MeteredActivity
    months: list[MeteredActivity]


def generate_plant_file(path: Path, *, seed: int = 2018) -> Path:
    """Write a synthetic year of 15-minute plant electricity in the real file's layout.

    Same quirks as the real export: UTF-8 byte-order mark, day-first dates, end-of-interval
    stamps, and the day's last interval written 00:00 with that day's date. The load is a
    base load plus day-shift and weekday production with noise (kWh per 15 minutes).
    """
    rng = np.random.default_rng(seed)
    n = 365 * 96
    slot = np.arange(n)
    hour = (slot % 96) / 4
    weekday = (slot // 96) % 7 < 5  # 1 January 2018 was a Monday
    day_shift = (hour >= 8) & (hour < 20)
    load = 3.5 + 30 * day_shift * weekday + 8 * day_shift * ~weekday
    load = load * (1 + 0.15 * np.sin(2 * math.pi * slot / n)) + rng.gamma(2.0, 2.0, n)
    load = np.round(load, 2)
    start = datetime(YEAR, 1, 1)
    lines = ["date,Usage_kWh,Load_Type"]
    for i in range(n):
        end = start + timedelta(minutes=15 * (i + 1))
        stamp = end - timedelta(days=1) if end.hour == 0 and end.minute == 0 else end
        lines.append(f"{stamp:%d/%m/%Y %H:%M},{load[i]:.2f},generated")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return path


GENERATED_LABEL = " (GENERATED series, illustrative)"


def _label_generated(store: Store) -> None:
    """Name the meter of a generated series as such, so that no page passes it off as real."""
    meter = store.meter(METER_ID)
    if meter is not None and not (meter.name or "").endswith(GENERATED_LABEL):
        store.save_meter(replace(meter, name=(meter.name or METER_ID) + GENERATED_LABEL))


def ingest_plant_data(
    settings: Settings, path: Path | None = None, console: Console | None = None
) -> PlantData:
    """Import the plant's 2018 electricity into the settings' store and derive its activity.

    ``path`` is the real file (``--plant-data``); when None, the file beside the project is
    used if present, else a generated series of the same shape, and the console says so.
    """
    console = console or Console(quiet=True)
    origin: Literal["real", "generated"] = "real"
    if path is not None and not path.is_file():
        raise InputError(
            "the plant data file does not exist",
            file=str(path),
            hint="give the path of Steel_industry_data.csv, or leave --plant-data out",
        )
    if path is None:
        path = default_plant_file()
        if not path.is_file():
            origin = "generated"
            console.print(
                f"[bold yellow]The real plant file was not found[/] (looked for {path}). "
                "The demo uses a GENERATED 15-minute series of the same shape instead; "
                "its numbers are synthetic, not the plant's.",
                highlight=False,
            )
            path = generate_plant_file(settings.workspace / "generated_plant_data.csv")
    if origin == "real":
        console.print(f"plant data: {path}\n  ({CITATION})", highlight=False)
    store = open_store(settings)
    try:
        report = import_file(path, load_mapping(shipped_mapping("steel_industry")), store)
        zone = ZoneInfo(TIME_ZONE)
        span = (
            to_epoch_us(datetime(YEAR, 1, 1, tzinfo=zone)),
            to_epoch_us(datetime(YEAR + 1, 1, 1, tzinfo=zone)),
        )
        derived = derive_activity(store, METER_ID, periods=("year", "month"), span=span)
        if origin == "generated":
            _label_generated(store)
    finally:
        store.engine.dispose()
    (year,) = derived.activity["year"]
    console.print(
        f"  {report.records:,} rows, {report.readings_new:,} new readings, "
        f"{report.quarantined:,} quarantined; {YEAR} electricity {year.quantity:,.2f} {year.unit}"
        + (f" ({year.estimated_quantity:,.2f} estimated)" if year.intervals_estimated else ""),
        highlight=False,
    )
    return PlantData(origin, path, METER_ID, report, year, derived.activity["month"])
