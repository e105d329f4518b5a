"""Pages state what is true: units beside numbers, every formula parameter, the quantities an
instrument covers, scope labels, CO2e for value-chain lines, "live" only for recent data, and a
negative reading of a consumption meter flagged as suspect with its reason."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from test_zh_pages import _seed

from carbonlink.api.routes.pages import is_live
from carbonlink.ingest.validation import suspect_reason
from carbonlink.store.tenants import Meter

if TYPE_CHECKING:
    from conftest import Service

METER = "fac-steelmaking-m-power"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("\xa0", " ")


def _run_pages(service: Service, engine: sa.Engine):  # type: ignore[no-untyped-def]
    client, csrf = service.login(service.users["admin"])
    client.headers["X-CSRF-Token"] = csrf
    _seed(service, engine, client)
    return client


def test_source_pages_show_every_parameter_and_the_instrument_quantities(
    service: Service, engine: sa.Engine
) -> None:
    client = _run_pages(service, engine)
    coke = _text(client.get("/sources/tangshan-works:bf-coke?lang=zh").text)
    for shown in ("低位发热量", "单位热值含碳量", "碳氧化率", "44/12", "化石燃料燃烧"):
        assert shown in coke, shown
    # coke in the steel guideline's Appendix 2: NCV 28.447 GJ/t, 29.50 t C/TJ, oxidation 0.93
    assert "28.447 GJ/t" in coke and "29.5 t/TJ" in coke and "碳氧化率: 0.93 " in coke
    english = _text(client.get("/sources/tangshan-works:bf-coke?lang=en").text)
    assert "Net calorific value" in english and "Oxidation rate" in english
    assert "Scope 1" in english and "scope 1" not in english

    power = _text(client.get("/sources/tangshan-works:grid-power?lang=en").text)
    # 620 000 MWh consumed: 50 000 MWh of green certificates, 570 000 MWh at the residual mix
    assert "50,000.000 MWh" in power and "570,000.000 MWh" in power
    assert power.count("620,000.000 MWh") == 3  # the location-based line and "of … consumed" ×2
    assert "Scope 2 (location-based)" in power and "Scope 2 (market-based)" in power
    assert "scope 2_location" not in power and "scope 2_market" not in power
    chinese = _text(client.get("/sources/tangshan-works:grid-power?lang=zh").text)
    assert "范围二（基于位置）" in chinese and "范围二（基于市场）" in chinese

    freight = client.get("/sources/jiangsu-coating:inbound-freight?lang=en").text
    gases = re.findall(r"<td>(CO2e?|CH4|N2O)</td>", freight)
    assert gases == ["CO2e"]


def test_facility_tables_give_the_unit_of_every_figure(service: Service, engine: sa.Engine) -> None:
    client = _run_pages(service, engine)
    overview = client.get("/?lang=en").text
    table = overview[overview.index('id="facilities-table"') :]
    head = _text(table[: table.index("</thead>")])
    assert head.count("(t CO2e)") == 4 and "(t CO2e/t crude steel)" in head
    facility = client.get("/facilities/tangshan-works?lang=en").text
    table = facility[facility.index('id="sources-table"') :]
    head = _text(table[: table.index("</thead>")])
    assert head.count("(t CO2e)") == 5
    assert "Fuel combustion" in facility and ">combustion<" not in facility


def test_live_only_when_the_last_reading_is_recent(service: Service) -> None:
    client, csrf = service.login(service.users["editor"])
    # the fixture's readings end on 15 November 2026
    page = client.get(f"/meters/{METER}?lang=en").text
    assert 'id="live-state"' not in page and "Last reading" in page
    now = datetime.now(UTC).replace(microsecond=0)
    sent = client.post(
        "/api/v1/readings",
        json={"readings": [{"meter_id": METER, "ts": now.isoformat(), "value": 1, "unit": "MWh"}]},
        headers={"X-CSRF-Token": csrf},
    )
    assert sent.status_code == 200, sent.text
    page = client.get(f"/meters/{METER}?lang=zh").text
    assert 'id="live-state"' in page and "实时" in page
    hourly = 3600
    assert is_live(now - timedelta(seconds=2 * hourly), hourly, now)
    assert not is_live(now - timedelta(seconds=2 * hourly + 1), hourly, now)


def test_a_negative_consumption_reading_is_stored_as_suspect_with_its_reason(
    service: Service,
) -> None:
    client, csrf = service.login(service.users["editor"])
    at = datetime(2026, 11, 20, 8, tzinfo=UTC)
    rows = [
        {"meter_id": METER, "ts": at.isoformat(), "value": -5, "unit": "kWh"},
        {"meter_id": METER, "ts": (at + timedelta(hours=1)).isoformat(), "value": 5, "unit": "kWh"},
    ]
    sent = client.post("/api/v1/readings", json={"readings": rows}, headers={"X-CSRF-Token": csrf})
    assert sent.status_code == 200, sent.text
    stored = client.get(f"/api/v1/meters/{METER}/readings", params={"limit": 5}).json()
    quality = {r["value"]: r["quality"] for r in stored}
    assert quality[-0.005] == "suspect" and quality[0.005] == "good"
    page = _text(client.get(f"/meters/{METER}?lang=zh").text)
    assert "存疑" in page
    assert f"消耗量计量表 {METER} 的读数为 -0.005 MWh：消耗量不能为负" in page
    english = _text(client.get(f"/meters/{METER}?lang=en").text)
    assert "a consumption cannot be negative" in english


def test_only_consumption_meters_flag_negative_readings() -> None:
    activity = Meter("m", "org", "fac", "Incomer", "MWh", "src")
    production = Meter("p", "org", "fac", "Output", "t", None, "production")
    assert suspect_reason(-1.0, activity) == (
        "-1 MWh on consumption register m: a consumption cannot be negative"
    )
    assert suspect_reason(0.0, activity) is None
    assert suspect_reason(-1.0, production) is None
