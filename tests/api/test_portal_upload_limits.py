"""A crafted supplier workbook cannot hold up the service: it is refused within the limits, off
the event loop, while every other request is answered."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import httpx
from browser_support import served
from test_portal_pages import _csrf, portal  # noqa: F401  (the fixture)

from workbook_bombs import many_rows, rows_of, zip_bomb

if TYPE_CHECKING:
    from conftest import Service


def _cookies(client: Any) -> dict[str, str]:
    return {cookie.name: cookie.value for cookie in client.cookies.jar if cookie.value}


def test_a_sheet_of_a_million_rows_is_refused_fast_while_others_are_served(
    portal: dict[str, Any],  # noqa: F811
    service: Service,
) -> None:
    """0.07 MB holding a million rows in the Product sheet used to block every tenant's
    requests for 15-37 s while the upload route listed the rows on the event loop."""
    a, event = portal["a"], portal["request_a"]
    csrf = _csrf(a.get(f"/portal/requests/{event}").text)
    template = a.get(f"/portal/requests/{event}/template.xlsx").content
    crafted = many_rows(1_000_000, workbook=template)
    assert len(crafted) < 200_000
    outcome: dict[str, Any] = {}
    with (
        served(service.app) as base,
        httpx.Client(base_url=base, cookies=_cookies(a), timeout=120) as uploader,
        httpx.Client(base_url=base, cookies=_cookies(portal["b"]), timeout=120) as other,
    ):

        def upload() -> None:
            started = time.perf_counter()
            outcome["response"] = uploader.post(
                f"/portal/requests/{event}/upload",
                data={"csrf_token": csrf},
                files={"workbook": ("answer.xlsx", crafted, "application/octet-stream")},
            )
            outcome["seconds"] = time.perf_counter() - started

        thread = threading.Thread(target=upload)
        thread.start()
        waits = []
        while thread.is_alive() or len(waits) < 3:
            started = time.perf_counter()
            assert other.get("/portal").status_code == 200
            waits.append(time.perf_counter() - started)
        thread.join()
    response = outcome["response"]
    assert response.status_code == 422
    assert "more than the limit of" in response.text
    assert "upload the filled template from this page" in response.text
    assert outcome["seconds"] < 5.0
    assert max(waits) < 2.0, waits


def test_a_zip_bomb_upload_is_refused_with_a_message(portal: dict[str, Any]) -> None:  # noqa: F811
    a, event = portal["a"], portal["request_a"]
    csrf = _csrf(a.get(f"/portal/requests/{event}").text)
    template = a.get(f"/portal/requests/{event}/template.xlsx").content
    response = a.post(
        f"/portal/requests/{event}/upload",
        data={"csrf_token": csrf},
        files={"workbook": ("answer.xlsx", zip_bomb(64, workbook=template), "application/xlsx")},
    )
    assert response.status_code == 422
    assert "a zip bomb" in response.text


def test_the_crafted_workbooks_are_real_workbooks() -> None:
    """openpyxl reads the crafted sheet as the rows it claims (so the test above is honest)."""
    assert rows_of(many_rows(1234)) == 1234


def test_a_sheet_past_the_row_limit_is_refused_before_it_is_read_whole() -> None:
    """Ten thousand rows are small enough on disk and unpacked; the row count refuses them."""
    from carbonlink.exchange.portal_sheet import SheetError, fields_from_workbook, template_workbook

    crafted = many_rows(10_000, workbook=template_workbook())
    try:
        fields_from_workbook(crafted)
    except SheetError as exc:
        assert "more than the limit of 5,000" in str(exc)
    else:
        raise AssertionError("a sheet of 10 000 rows was read")
