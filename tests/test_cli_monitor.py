from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carbonlink.cli import app
from carbonlink.domain.metering import Meter
from carbonlink.ingest.base import Reading
from carbonlink.settings import Settings
from carbonlink.store.workspace import open_store

runner = CliRunner()


def test_templates_are_listed_in_both_languages() -> None:
    result = runner.invoke(app, ["monitor", "templates"])
    assert result.exit_code == 0, result.output
    assert "iron_steel" in result.output
    assert "GB/T 32151.5-2015" in result.output


def test_plan_reports_missing_sources(tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "boiler-1: fuel_combustion\n"
        "power: {template_source: purchased_electricity, meters: [main-incomer]}\n",
        encoding="utf-8",
    )
    out = tmp_path / "plan.yaml"
    result = runner.invoke(
        app,
        [
            "monitor",
            "plan",
            "--template",
            "iron_steel",
            "--facility",
            "plant-1",
            "--sources",
            str(sources),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Electrode consumption" in result.output
    assert "熔剂消耗" in result.output
    assert "main-incomer" in out.read_text(encoding="utf-8")


def test_anomalies_lists_the_injected_sunday_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARBONLINK_WORKSPACE", str(tmp_path))
    store = open_store(Settings())
    store.save_meter(Meter(id="mill", kind="interval", unit="kWh", time_zone="Asia/Shanghai"))
    start = datetime(2025, 1, 5, 16, tzinfo=UTC)  # Monday 00:00 in Shanghai
    readings = []
    for hour in range(7 * 24 * 7):
        ts = start + timedelta(hours=hour)
        day, local_hour = (hour // 24) % 7, hour % 24
        value = 100.0 if day < 5 and 8 <= local_hour < 18 else 5.0
        if hour >= 6 * 7 * 24 + 6 * 24 + 9 and hour < 6 * 7 * 24 + 6 * 24 + 15:
            value = 100.0  # the last Sunday, 09:00–15:00: the mill ran on its day off
        readings.append(Reading("mill", ts, value, "kWh"))
    store.add_readings(readings)
    store.engine.dispose()
    result = runner.invoke(app, ["monitor", "anomalies", "mill", "--min-readings", "2"])
    assert result.exit_code == 0, result.output
    assert "2025-02-23 09:00" in result.output
    assert "6 of 1,176 readings outside the band" in result.output


def test_anomalies_of_an_unknown_meter_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARBONLINK_WORKSPACE", str(tmp_path))
    result = runner.invoke(app, ["monitor", "anomalies", "nope"])
    assert result.exit_code != 0
    assert "import its data first" in str(result.exception)
