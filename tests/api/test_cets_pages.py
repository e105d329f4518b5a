"""The China ETS page: zh and en, roles, the ledger upload and entry form, deposit and pack
download, the allocation at a price, and another organization kept out."""

from __future__ import annotations

import io
import re
import zipfile
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from cets_seed import LAB, ledger, month, seed_cets
from plant_fixture import DEMO_ORG_ID

from carbonlink.ledger import ensure_ledger_key
from carbonlink.store import cets as store

if TYPE_CHECKING:
    from conftest import Service


@pytest.fixture
def seeded(service: Service, engine: sa.Engine) -> Service:
    seed_cets(engine)
    ensure_ledger_key(service.app.state.ctx.settings.workspace)
    return service


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', text)
    assert found
    return found.group(1)


def test_page_in_chinese_and_english(seeded: Service) -> None:
    client, _ = seeded.login(seeded.users["viewer"])
    zh = client.get("/cets?lang=zh")
    assert zh.status_code == 200
    text = zh.text
    assert "全国碳市场月度管理" in text and "数据质量控制计划" in text
    assert "唐山示范钢铁有限公司" in text
    assert 'id="month-2025-08"' in text  # the year is the one with records
    row = text.split('id="month-2025-08"')[1].split("</tr>")[0]
    assert "CETS-P1" in row
    assert "月度存证" in text and "配额清缴" in text  # the calendar at a glance
    assert "value &#39;—&#39; is not a number" in text  # the quarantined row, named
    assert 'id="cets-upload"' not in text  # a viewer has no forms
    en = client.get("/cets?lang=en&entity=tangshan&year=2025")
    assert "China ETS operations" in en.text and "Compliance calendar" in en.text
    assert "carbon content against NCV" in en.text


def test_upload_entry_deposit_and_download(seeded: Service, engine: sa.Engine) -> None:
    client, _ = seeded.login(seeded.users["editor"])
    page = client.get("/cets?entity=tangshan&year=2025")
    token = _csrf(page.text)
    assert 'id="cets-upload"' in page.text
    body = ledger(month("2025-10", evidence="LAB-2025-10.pdf"))
    done = client.post(
        "/cets/import",
        data={"csrf_token": token, "entity": "tangshan", "year": "2025"},
        files=[
            ("ledger", ("ledger-2025-10.xlsx", body, "application/octet-stream")),
            ("evidence", ("LAB-2025-10.pdf", LAB, "application/pdf")),
        ],
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "4+stored" in done.headers["location"]
    assert len(store.parameters_of(engine, DEMO_ORG_ID, "tangshan", ["2025-10"])) == 4
    entered = client.post(
        "/cets/records",
        data={
            "csrf_token": token,
            "entity": "tangshan",
            "month": "2025-11",
            "source": "bf-pci",
            "parameter": "consumption",
            "value": "9500",
            "unit": "t",
        },
        files={"evidence": ("scan-2025-11.pdf", b"%PDF-1.4 scan", "application/pdf")},
        follow_redirects=False,
    )
    assert entered.status_code == 303, entered.text
    [typed] = store.parameters_of(engine, DEMO_ORG_ID, "tangshan", ["2025-11"])
    assert (typed.value, typed.origin, typed.evidence_kind) == (9500.0, "form", "ledger_scan")
    bad = client.post(
        "/cets/records",
        data={
            "csrf_token": token,
            "entity": "tangshan",
            "month": "2025-11",
            "source": "ghost",
            "parameter": "consumption",
            "value": "1",
        },
        follow_redirects=True,
    )
    assert "ghost" in bad.text and "not in the control plan" in bad.text
    no_token = client.post(
        "/cets/deposit", data={"entity": "tangshan", "month": "2025-08"}, follow_redirects=False
    )
    assert no_token.status_code == 403
    deposited = client.post(
        "/cets/deposit",
        data={"csrf_token": token, "entity": "tangshan", "month": "2025-08"},
        follow_redirects=True,
    )
    assert "cets-deposit-tangshan-2025-08: ledger entry" in deposited.text
    pack = client.get("/cets/pack?entity=tangshan&month=2025-08")
    assert pack.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(pack.content)).namelist()
    prefix = "cets-deposit-tangshan-2025-08/"
    assert {f"{prefix}LAB-2025-08.pdf", f"{prefix}summary.pdf", f"{prefix}checks.csv"} <= set(names)
    plan_pdf = client.get("/cets/plan.pdf?entity=tangshan")
    assert plan_pdf.content.startswith(b"%PDF")
    plan_xlsx = client.get("/cets/plan.xlsx?entity=tangshan")
    assert plan_xlsx.content.startswith(b"PK")
    priced = client.get("/cets?entity=tangshan&year=2025&price=70&i_ironmaking=0.25&lang=en")
    assert 'id="cets-surplus"' in priced.text
    unpriced = client.get("/cets?entity=tangshan&year=2025&price=70&lang=en")
    assert "carbon intensity" in unpriced.text  # 2025 needs the plan's intensities


def test_another_organization_sees_none_of_it(seeded: Service) -> None:
    client, _ = seeded.login(seeded.users["other"])
    assert "唐山" not in client.get("/cets").text
    assert client.get("/cets?entity=tangshan").status_code == 404
    assert client.get("/cets/plan.pdf?entity=tangshan").status_code == 404
    assert client.get("/cets/pack?entity=tangshan&month=2025-08").status_code == 404
    token = _csrf(client.get("/").text)
    client.post(
        "/cets/records",
        data={
            "csrf_token": token,
            "entity": "tangshan",
            "month": "2025-12",
            "source": "bf-pci",
            "parameter": "consumption",
            "value": "1",
        },
    )
    assert (
        store.parameters_of(seeded.app.state.ctx.engine, DEMO_ORG_ID, "tangshan", ["2025-12"]) == []
    )
