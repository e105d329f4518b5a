"""Monitoring plan page: versions saved as new rows, role and CSRF checks, report downloads."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from plant_fixture import DEMO_ORG_ID

from carbonlink.api import results
from carbonlink.monitor.plan import MonitoringPlan, load_template, plan_from_template
from carbonlink.store.results_schema import monitoring_plans
from conftest import Service

FACILITY = "fac-steelmaking"


def _seed_plan(engine: sa.Engine) -> MonitoringPlan:
    plan = plan_from_template(
        FACILITY,
        load_template("iron_steel"),
        {f"{FACILITY}-gas": "fuel_combustion", f"{FACILITY}-power": "purchased_electricity"},
        {f"{FACILITY}-gas": [f"{FACILITY}-m-gas"]},
    )
    assert results.save_plan(engine, DEMO_ORG_ID, plan, "seed")
    return plan


def _form(plan: MonitoringPlan, csrf: str, **edits: str) -> dict[str, str]:
    """The page's form as a browser would send it, with ``edits`` ("0-method": …) applied."""
    form = {"csrf_token": csrf, "version": str(plan.version)}
    for i, e in enumerate(plan.entries):
        form |= {
            f"{i}-method": e.method or "",
            f"{i}-tier": e.tier,
            f"{i}-meters": ", ".join(e.meters),
            f"{i}-factor_choice": e.factor_choice,
            f"{i}-sampling": e.sampling,
            f"{i}-data_gap_procedure": e.data_gap_procedure,
        }
    return form | edits


def test_saving_adds_version_2_pointing_at_version_1(service: Service, engine: sa.Engine) -> None:
    v1 = _seed_plan(engine)
    editor, csrf = service.login(service.users["editor"])
    page = editor.get(f"/plans/{FACILITY}")
    assert page.status_code == 200 and "监测计划" in page.text
    assert v1.content_hash[:16] in page.text
    edits = {
        "0-method": "mass_balance",
        "0-meters": f"{FACILITY}-m-gas, {FACILITY}-m-output",
        "0-factor_choice": "measured",
        "1-sampling": "monthly invoice",
    }
    done = editor.post(f"/plans/{FACILITY}", data=_form(v1, csrf, **edits), follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/plans/{FACILITY}"
    v2, first = results.plan_versions(engine, DEMO_ORG_ID, FACILITY)
    assert first.content_hash == v1.content_hash and first.plan == v1  # the old row is unchanged
    assert v2.plan.version == 2 and v2.plan.replaces == v1.content_hash
    gas, power = v2.plan.entries
    assert gas.method == "mass_balance" and gas.factor_choice == "measured"
    assert gas.meters == (f"{FACILITY}-m-gas", f"{FACILITY}-m-output")
    assert power.sampling == "monthly invoice" and power.method == v1.entries[1].method
    assert v2.created_by == "Test editor" and v2.content_hash == v2.plan.content_hash
    with engine.connect() as conn:
        stored = conn.execute(
            sa.select(monitoring_plans.c.plan).where(monitoring_plans.c.version == 2)
        ).scalar_one()
    assert MonitoringPlan.model_validate_json(stored) == v2.plan
    page = editor.get(f"/plans/{FACILITY}").text
    assert re.search(r'id="plan-version">2<', page)


@pytest.mark.parametrize(
    ("lang", "field", "value", "message"),
    [
        ("en", "0-factor_choice", "made_up", "unknown factor choice"),
        ("en", "1-method", " ", "method is empty"),
        ("zh", "0-method", "measurement", "核算方法 measurement 不存在"),
        ("zh", "0-tier", "5", "层级 5 不存在"),
        (
            "zh",
            "0-meters",
            f"{FACILITY}-m-gas, {FACILITY}-m-gas-2",
            f"没有计量表 {FACILITY}-m-gas-2",
        ),
    ],
)
def test_invalid_edit_is_refused_with_a_message(
    service: Service, engine: sa.Engine, lang: str, field: str, value: str, message: str
) -> None:
    v1 = _seed_plan(engine)
    editor, csrf = service.login(service.users["editor"])
    refused = editor.post(f"/plans/{FACILITY}?lang={lang}", data=_form(v1, csrf, **{field: value}))
    assert refused.status_code == 422 and message in refused.text
    assert len(results.plan_versions(engine, DEMO_ORG_ID, FACILITY)) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("0-factor_choice", "made_up"),
        ("1-method", " "),
        ("0-method", "measurement"),
        ("0-tier", "5"),
        ("0-meters", f"{FACILITY}-m-gas, {FACILITY}-m-gas-2"),
        ("1-sampling", " "),
        ("0-data_gap_procedure", "x" * 2001),
    ],
)
def test_a_refused_edit_keeps_the_other_edits_and_marks_its_own_field(
    service: Service, engine: sa.Engine, field: str, value: str
) -> None:
    v1 = _seed_plan(engine)
    editor, csrf = service.login(service.users["editor"])
    kept = "one sample per delivery <lab> & report"
    other = "1-data_gap_procedure" if field == "0-data_gap_procedure" else "0-sampling"
    form = _form(v1, csrf, **{other: kept, field: value})
    refused = editor.post(f"/plans/{FACILITY}?lang=en", data=form)
    assert refused.status_code == 422
    page = refused.text
    assert "one sample per delivery &lt;lab&gt; &amp; report" in page  # as typed, escaped
    cells = re.findall(r"<td>(.*?)</td>", page, re.S)
    [marked] = [cell for cell in cells if 'id="plan-refusal"' in cell]
    assert f'name="{field}"' in marked and 'aria-invalid="true"' in marked
    assert page.count('aria-invalid="true"') == 1
    if field.endswith(("-meters", "-tier", "-method")) and value.strip():
        assert value in marked  # the refused value itself is shown again, to be corrected
    assert len(results.plan_versions(engine, DEMO_ORG_ID, FACILITY)) == 1


def test_an_invalid_edit_is_explained_in_chinese(service: Service, engine: sa.Engine) -> None:
    v1 = _seed_plan(engine)
    editor, csrf = service.login(service.users["editor"])
    refused = editor.post(f"/plans/{FACILITY}?lang=zh", data=_form(v1, csrf, **{"1-method": " "}))
    assert refused.status_code == 422
    source = v1.entries[1].source_id
    assert f"{source}：计算方法为空（请填写方法，例如核算法或实测法）" in refused.text
    assert "is empty" not in refused.text


def test_viewer_wrong_csrf_and_other_org_cannot_save(service: Service, engine: sa.Engine) -> None:
    v1 = _seed_plan(engine)
    viewer, viewer_csrf = service.login(service.users["viewer"])
    page = viewer.get(f"/plans/{FACILITY}")
    assert page.status_code == 200 and 'id="plan-save"' not in page.text
    url = f"/plans/{FACILITY}"
    assert viewer.post(url, data=_form(v1, viewer_csrf)).status_code == 403
    editor, _ = service.login(service.users["editor"])
    assert editor.post(url, data=_form(v1, "wrong")).status_code == 403
    other, other_csrf = service.login(service.users["other"])
    assert other.get(url).status_code == 404
    assert other.get(f"{url}/plan-v1.pdf").status_code == 404
    assert other.post(url, data=_form(v1, other_csrf)).status_code == 404
    assert len(results.plan_versions(engine, DEMO_ORG_ID, FACILITY)) == 1


def test_facility_without_plan_shows_the_empty_state(service: Service) -> None:
    viewer, _ = service.login(service.users["viewer"])
    page = viewer.get("/plans/fac-hot-rolling")
    assert page.status_code == 200 and "尚无监测计划" in page.text


def test_downloads_are_a_pdf_and_a_workbook(
    service: Service, engine: sa.Engine, tmp_path: Path
) -> None:
    v1 = _seed_plan(engine)
    auditor, _ = service.login(service.users["auditor"])
    workbook = auditor.get(f"/plans/{FACILITY}/plan-v1.xlsx")
    assert workbook.status_code == 200
    sheet = load_workbook(io.BytesIO(workbook.content))["entries"]
    sources = [sheet.cell(row, 1).value for row in range(3, sheet.max_row + 1)]
    assert sources == [e.source_id for e in v1.entries]
    pdf = auditor.get(f"/plans/{FACILITY}/plan-v1.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert auditor.get(f"/plans/{FACILITY}/plan-v9.pdf").status_code == 404
    if shutil.which("pdftotext") is None:
        if os.environ.get("CARBONLINK_REQUIRE_SERVICES") == "1":
            pytest.fail("pdftotext (poppler-utils) is not installed")
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "plan.pdf"
    path.write_bytes(pdf.content)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "监测计划" in text and v1.content_hash[:16] in text


def test_an_edit_of_a_superseded_version_is_refused(service: Service, engine: sa.Engine) -> None:
    v1 = _seed_plan(engine)
    editor, csrf = service.login(service.users["editor"])
    first = editor.post(f"/plans/{FACILITY}", data=_form(v1, csrf, **{"0-tier": "3"}))
    assert first.status_code == 200  # followed the redirect back to the page
    stale = editor.post(f"/plans/{FACILITY}?lang=en", data=_form(v1, csrf, **{"0-tier": "1"}))
    assert stale.status_code == 409 and "no longer the latest" in stale.text
    stale = editor.post(f"/plans/{FACILITY}?lang=zh", data=_form(v1, csrf, **{"0-tier": "1"}))
    assert stale.status_code == 409 and "版本 1 已不是最新版本；请重新加载后再编辑" in stale.text
    [latest, _] = results.plan_versions(engine, DEMO_ORG_ID, FACILITY)
    assert latest.plan.version == 2 and latest.plan.entries[0].tier == "3"


def test_identical_plans_of_two_organizations_are_both_kept(engine: sa.Engine) -> None:
    from carbonlink.api.results import plan_versions, save_plan
    from carbonlink.monitor.plan import load_template, plan_from_template

    plan = plan_from_template("works", load_template("cement"), {"kiln": "kiln_fuels"})
    assert save_plan(engine, "org-a", plan, "a@example.com")
    assert save_plan(engine, "org-b", plan, "b@example.com")
    assert not save_plan(engine, "org-a", plan, "a@example.com")  # the same plan, once
    assert [p.plan.version for p in plan_versions(engine, "org-b", "works")] == [1]


def _api_body(plan: MonitoringPlan, **edits: object) -> dict[str, object]:
    entries = [e.model_dump(mode="json", exclude={"template_source"}) for e in plan.entries]
    entries[0] |= edits
    return {"version": plan.version, "entries": entries}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"method": "measurement"}, "unknown method 'measurement'"),
        ({"tier": "5"}, "unknown tier '5'"),
        ({"meters": [f"{FACILITY}-m-gas-2"]}, f"no meter '{FACILITY}-m-gas-2'"),
        ({"meters": ["mtr-other-power"]}, "no meter 'mtr-other-power'"),  # another org's
    ],
)
def test_the_api_refuses_methods_tiers_and_meters_it_does_not_know(
    service: Service, engine: sa.Engine, edit: dict[str, object], message: str
) -> None:
    v1 = _seed_plan(engine)
    editor, csrf = service.login(service.users["editor"])
    editor.headers["X-CSRF-Token"] = csrf
    refused = editor.put(f"/api/v1/facilities/{FACILITY}/plan", json=_api_body(v1, **edit))
    assert refused.status_code == 422, refused.text
    assert message in refused.json()["detail"] and refused.json()["record"] == f"{FACILITY}-gas"
    assert len(results.plan_versions(engine, DEMO_ORG_ID, FACILITY)) == 1


def test_the_api_saves_a_new_version_and_refuses_a_viewer_first(
    service: Service, engine: sa.Engine
) -> None:
    v1 = _seed_plan(engine)
    viewer, viewer_csrf = service.login(service.users["viewer"])
    viewer.headers["X-CSRF-Token"] = viewer_csrf
    url = f"/api/v1/facilities/{FACILITY}/plan"
    assert viewer.get(url).json()["version"] == 1
    assert viewer.put(url, json={"not": "a plan"}).status_code == 403
    editor, csrf = service.login(service.users["editor"])
    editor.headers["X-CSRF-Token"] = csrf
    body = _api_body(v1, method="mass_balance", tier="2b", meters=[f"{FACILITY}-m-output"])
    saved = editor.put(url, json=body)
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 2 and saved.json()["replaces"] == v1.content_hash
    latest = results.plan_versions(engine, DEMO_ORG_ID, FACILITY)[0].plan
    assert (latest.entries[0].method, latest.entries[0].tier) == ("mass_balance", "2b")
    assert latest.entries[0].meters == (f"{FACILITY}-m-output",)
    stale = editor.put(url, json=body)
    assert stale.status_code == 422 and "no longer the latest" in stale.json()["detail"]
