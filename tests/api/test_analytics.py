"""Energy analytics through the API and the page: a plant year by day, month and hour of day,
comparison, intensity per tonne, thresholds, export, and who may see it."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from plant_fixture import DEMO_ORG_ID

from carbonlink.ingest.base import Reading
from carbonlink.store.tenants import Facility, Meter
from conftest import Service

SHANGHAI = ZoneInfo("Asia/Shanghai")
YEAR_KWH = 646_800.0
"""2018 in Shanghai, quarter hours: 261 weekdays × 40 working intervals (08:00–17:45) × 50 kWh
= 522 000; the other 365 × 96 − 10 440 = 24 600 intervals × 5 kWh = 123 000; Sunday 11 March
runs a working day, 40 × 45 kWh more = 1 800."""
MARCH_KWH = 56_280.0
"""22 weekdays × 40 × 50 = 44 000; (31 × 96 − 880) × 5 = 10 480; the working Sunday 1 800."""
GAS, POWER, OUTPUT = (f"fac-steelmaking-m-{k}" for k in ("gas", "power", "output"))


def add_plant_year(service: Service) -> str:
    """A facility in Shanghai with one meter and its 35 040 quarter hours of 2018."""
    service.data.add_facility(
        Facility("fac-plant-year", DEMO_ORG_ID, "Plant year", "Asia/Shanghai")
    )
    service.data.add_meter(
        Meter(
            "plant-kwh",
            DEMO_ORG_ID,
            "fac-plant-year",
            "Plant electricity",
            "kWh",
            None,
            interval_s=900,
        )
    )
    first = datetime(2018, 1, 1, tzinfo=SHANGHAI)
    readings = []
    for i in range(365 * 96):
        local = first + timedelta(minutes=15 * i)
        working = 8 <= local.hour < 18 and (
            local.weekday() < 5 or local.date().isoformat() == "2018-03-11"
        )
        readings.append(
            Reading("plant-kwh", local.astimezone(UTC), 50.0 if working else 5.0, "kWh")
        )
    assert service.data.add_readings(readings) == 35_040
    return "plant-kwh"


def test_a_plant_year_by_day_month_and_hour_of_day(store_service: Service) -> None:
    meter = add_plant_year(store_service)
    client, _ = store_service.login(store_service.users["viewer"])
    year = {"meter": meter, "start": "2018-01-01", "end": "2018-12-31"}
    body = client.get("/api/v1/series", params=year).json()
    assert (body["step"], body["stat"], body["zone"]) == ("day", "sum", "Asia/Shanghai")
    [series] = body["series"]
    assert len(body["buckets"]) == 365 and sum(series["count"]) == 35_040
    assert sum(series["values"]) == pytest.approx(YEAR_KWH)
    # a weekday: 40 × 50 + 56 × 5; a Sunday: 96 × 5; the working Sunday: 40 × 50 + 56 × 5
    by_day = dict(zip(body["buckets"], series["values"], strict=True))
    assert by_day["2018-03-09T00:00:00"] == 2280.0
    assert by_day["2018-03-18T00:00:00"] == 480.0
    assert by_day["2018-03-11T00:00:00"] == 2280.0

    months = client.get("/api/v1/series", params=year | {"step": "month"}).json()
    assert months["buckets"][2] == "2018-03-01T00:00:00"
    assert months["series"][0]["values"][2] == pytest.approx(MARCH_KWH)

    heat = client.get(
        f"/api/v1/meters/{meter}/heatmap", params={"start": "2018-03-01", "end": "2018-03-31"}
    ).json()
    assert len(heat["days"]) == 31
    cell = {(h, heat["days"][d]): v for h, d, v in heat["cells"]}
    assert cell[(9, "2018-03-11")] == 200.0  # the off-pattern Sunday stands out
    assert cell[(9, "2018-03-18")] == 20.0
    assert cell[(7, "2018-03-12")] == 20.0 and cell[(8, "2018-03-12")] == 200.0

    rows = list(
        csv.reader(
            io.StringIO(
                client.get(
                    f"/api/v1/meters/{meter}/heatmap",
                    params={"start": "2018-03-01", "end": "2018-03-31", "format": "csv"},
                ).content.decode("utf-8-sig")
            )
        )
    )
    assert rows[0][:2] == ["date (Asia/Shanghai)", "00:00 [kWh]"] and len(rows) == 32
    assert rows[11][0] == "2018-03-11" and float(rows[11][1 + 9]) == 200.0

    # a year's page: the table behind the heat map is the mean profile of each weekday
    page = client.get("/analytics", params=year | {"lang": "en"}).text
    start_at = page.index('id="heat-table"')
    table = page[start_at : page.index("</table>", start_at)]
    assert "Monday" in table and "Sunday" in table and "2018-03-11" not in table
    # a Monday at 09:00 is 4 × 50 kWh; Sundays average in the one working Sunday of 52
    monday = table[table.index("Monday") : table.index("Tuesday")]
    assert '<td class="num">200.0</td>' in monday
    sunday = table[table.index("Sunday") :]
    assert f'<td class="num">{(51 * 20 + 200) / 52:.1f}</td>' in sunday

    # no range: the last 30 days of data, by the hour
    recent = client.get("/api/v1/series", params={"meter": meter}).json()
    assert (recent["start"], recent["end"], recent["step"]) == ("2018-12-02", "2018-12-31", "hour")
    assert len(recent["buckets"]) == 30 * 24

    exported = client.get("/api/v1/series", params=year | {"format": "csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0] == ["start (Asia/Shanghai)", "Plant electricity [kWh] (sum)"]
    assert len(rows) == 366 and sum(float(r[1]) for r in rows[1:]) == pytest.approx(YEAR_KWH)
    book = load_workbook(
        io.BytesIO(client.get("/api/v1/series", params=year | {"format": "xlsx"}).content)
    )
    sheet = book["series"]
    assert sheet.max_row == 366
    assert sum(row[1] for row in sheet.iter_rows(min_row=2, values_only=True)) == pytest.approx(
        YEAR_KWH
    )


def _by_local_day(client, meter: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """The meter's readings summed per Shanghai date, from the raw readings API."""
    raw = client.get(f"/api/v1/meters/{meter}/readings", params={"limit": 5000}).json()
    days: dict[str, float] = defaultdict(float)
    for r in raw:
        ts = datetime.fromisoformat(r["ts"].replace("Z", "+00:00"))
        days[ts.astimezone(SHANGHAI).date().isoformat() + "T00:00:00"] += r["value"]
    return days


def test_compare_meters_with_intensity_and_thresholds(service: Service) -> None:
    editor, csrf = service.login(service.users["editor"])
    rules = [
        {"id": "gas-high", "kind": "threshold", "meter_id": GAS, "above": 520},
        {"id": "any-low", "kind": "threshold", "meter_id": "*", "below": 10},
        {"id": "power-high", "kind": "threshold", "meter_id": POWER, "above": 1},
        {"id": "gas-jump", "kind": "rate_of_change", "meter_id": GAS, "max_change_per_hour": 50},
    ]
    saved = editor.put("/api/v1/alert-rules", json=rules, headers={"X-CSRF-Token": csrf})
    assert saved.status_code == 200, saved.text
    client, _ = service.login(service.users["viewer"])
    params = {"meter": [GAS, POWER], "per": OUTPUT, "step": "day"}
    params |= {"start": "2026-10-01", "end": "2026-10-31"}
    body = client.get("/api/v1/series", params=params).json()
    gas, power = body["series"]
    assert (gas["unit"], power["unit"], body["intensity_unit"]) == ("Nm3", "MWh", "Nm3/t")
    assert len(body["buckets"]) == 31
    expected_gas, expected_output = _by_local_day(client, GAS), _by_local_day(client, OUTPUT)
    expected_power = _by_local_day(client, POWER)
    for i, day in enumerate(body["buckets"]):
        assert gas["values"][i] == pytest.approx(expected_gas[day])
        assert power["values"][i] == pytest.approx(expected_power[day])
        assert body["intensity"][i] == pytest.approx(expected_gas[day] / expected_output[day])
    # the limits of the threshold rules on the first meter (its own and every meter's)
    assert body["thresholds"] == [10.0, 520.0]


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_refusals_name_what_to_change(service: Service) -> None:
    client, _ = service.login(service.users["viewer"])
    asked = {"meter": GAS}
    bad = [
        (asked | {"step": "week"}, 422, None),
        (asked | {"start": "2026-10-31", "end": "2026-10-01"}, 422, "before it starts"),
        (asked | {"per": POWER}, 422, "not production"),
        ({"meter": [GAS] * 1 + [f"m{i}" for i in range(6)]}, 422, "at most 6"),
        ({"meter": "no-such-meter"}, 404, "meter not found"),
        (asked | {"step": "15min", "start": "2000-01-01", "end": "2026-10-01"}, 422, "coarser"),
    ]
    for params, status, text in bad:
        response = client.get("/api/v1/series", params=params)
        assert response.status_code == status, (params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        if text:
            problem = response.json()
            assert text in f"{problem['detail']} {problem['hint']}", response.text
    other, _ = service.login(service.users["other"])
    assert other.get("/api/v1/series", params=asked).status_code == 404
    assert other.get(f"/api/v1/meters/{GAS}/heatmap").status_code == 404
    supplier, _ = service.login(service.users["supplier"])
    assert supplier.get("/api/v1/series", params=asked).status_code == 403
    assert supplier.get("/analytics", follow_redirects=False).status_code == 403


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_page_in_both_languages(service: Service) -> None:
    client, _ = service.login(service.users["viewer"])
    params = {"meter": GAS, "start": "2026-10-01", "end": "2026-10-07", "step": "day"}
    zh = client.get("/analytics", params=params | {"lang": "zh"}).text
    assert "能耗分析" in zh and "负荷热力图" in zh and "以表格查看数值" in zh
    series_table = zh[zh.index('id="series-table"') : zh.index('id="heat-card"')]
    assert series_table.count("<tr><td>2026-10-0") == 7  # the table behind the chart, a row a day
    assert "format=csv" in zh and "format=xlsx" in zh
    en = client.get("/analytics", params=params | {"lang": "en"}).text
    assert "Energy analytics" in en and "Load heat map" in en
    assert client.get("/analytics", params={"meter": GAS, "step": "week"}).status_code == 422


def _raw_rows(page: str) -> list[list[str]]:
    """The cells of the meter page's raw-readings table."""
    import re

    table = page[page.index('id="readings-table"') :]
    table = table[: table.index("</table>")]
    body = table[table.index("<tbody>") :]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_the_meter_page_pages_through_raw_readings_by_time(store_service: Service) -> None:
    """35 040 quarter hours of 2018 in Shanghai, 50 a page, newest first: the first page ends
    the year (31 Dec 23:45 back to 11:30), "older" continues 15 minutes before the last row, and
    a date lists the readings up to that day's end in the facility's time."""
    import html

    meter = add_plant_year(store_service)
    client, _ = store_service.login(store_service.users["viewer"])
    first = client.get(f"/meters/{meter}", params={"lang": "en"})
    assert first.status_code == 200, first.text
    rows = _raw_rows(first.text)
    assert len(rows) == 50
    assert rows[0][0].startswith("31 Dec 2018, 23:45") and rows[-1][0].startswith(
        "31 Dec 2018, 11:30"
    )
    link = first.text[: first.text.index('" id="readings-older"')]
    link = html.unescape(link[link.rindex('href="') + 6 :]).split("#")[0]
    assert "before=" in link
    second = client.get(f"{link}&lang=en")
    rows2 = _raw_rows(second.text)
    assert len(rows2) == 50 and rows2[0][0].startswith("31 Dec 2018, 11:15")
    assert 'id="readings-newest"' in second.text

    day = client.get(f"/meters/{meter}", params={"date": "2018-03-11", "lang": "en"})
    rows3 = _raw_rows(day.text)
    assert rows3[0][0].startswith("11 Mar 2018, 23:45") and rows3[0][1] == "5.000"
    # the Sunday worked from 08:00 to 18:00: 17:45 is a working quarter hour
    [worked] = [r for r in rows3 if r[0].startswith("11 Mar 2018, 17:45")]
    assert worked[1] == "50.000"

    # the API pages the same way: the 50 readings before the oldest of the first page
    api = client.get(f"/api/v1/meters/{meter}/readings", params={"limit": 50}).json()
    back = client.get(
        f"/api/v1/meters/{meter}/readings", params={"limit": 50, "before": api[0]["ts"]}
    ).json()
    assert len(back) == 50 and back[-1]["ts"] < api[0]["ts"]
    assert datetime.fromisoformat(api[0]["ts"]) - datetime.fromisoformat(
        back[-1]["ts"]
    ) == timedelta(minutes=15)

    empty = client.get(f"/meters/{meter}", params={"date": "2017-06-30", "lang": "en"})
    assert "No readings before this time." in empty.text
    bad = client.get(f"/meters/{meter}", params={"before": "last week", "lang": "en"})
    assert bad.status_code == 422
    assert "before=&#39;last week&#39; is not a date and time" in bad.text
