"""Every dashboard page reads in Chinese: a crawl from the navigation and the overview in zh.

The crawl logs in as the demo organization's admin, with a saved inventory run of the demo steel
enterprise, a monitoring plan and a quarantined record, and follows the links within the app
(bounded). A visible text node fails the test when it is a source string of the catalogue left
untranslated, a calculation method's code or English name, or an English sentence of the domain
(a factor-selection reason, a quarantine reason, an allocation rule): names of standards, units,
identifiers and the organization's own names may stay as they are.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from importlib.resources import files
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import sqlalchemy as sa
import yaml

from carbonlink.api import domain_text, results
from carbonlink.api.i18n import read_catalogue
from carbonlink.demo.run import demo_inventory_text
from carbonlink.monitor.plan import load_template, plan_from_template
from carbonlink.store.results import source_key
from carbonlink.store.tenants import Facility, Source

if TYPE_CHECKING:
    from conftest import Service

SKIPPED = ("/logout", "/api", "/files", "/static", "/pact", "/account/password")
MAX_PAGES = 60


class _Page(HTMLParser):
    """Visible text nodes, placeholders and links of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("script", "style", "title", "template"):
            self._hidden += 1
        if tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))
        if found.get("placeholder"):
            self.texts.append(str(found["placeholder"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "title", "template"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.texts.append(data.strip())


def english_texts() -> set[str]:
    """Source strings shown untranslated would be these: msgids whose Chinese differs."""
    catalogue = read_catalogue("zh")
    assert catalogue is not None
    out = {m.id for m in catalogue if m.id and isinstance(m.id, str) and m.string != m.id}
    out |= set(domain_text.METHODS) | set(domain_text.METHODS.values())
    # a few msgids are also ordinary words of names; whole-node matches of them are not judged
    return {text for text in out if re.search(r"[A-Za-z]{3}", text) and "%(" not in text}


def untranslated(text: str, english: set[str], patterns: list[re.Pattern[str]]) -> str | None:
    """Why ``text`` is English left on a Chinese page, or None."""
    pieces = {text, *re.split(r"\s*[·:：]\s*|;\s+", text)}
    for piece in pieces:
        piece = piece.strip(" ()（）—›")
        if piece in english:
            return f"catalogue string or method {piece!r}"
        if any(p.match(piece) for p in patterns):
            return f"domain sentence {piece!r}"
    return None


def _seed(service: Service, engine: sa.Engine, admin: object) -> None:
    """A saved run of the demo enterprise, a monitoring plan and one quarantined record."""
    inventory = json.loads(json.dumps(yaml.safe_load(demo_inventory_text()), default=str))
    client = admin  # a logged-in TestClient
    for facility_doc in inventory["facilities"]:
        service.data.add_facility(
            Facility(facility_doc["id"], "org-demo-steel", facility_doc["name"], "Asia/Shanghai")
        )
        for source_doc in facility_doc["sources"]:
            key = source_key(facility_doc["id"], source_doc["id"])
            scope = int(source_doc.get("scope", 1))
            service.data.add_source(
                Source(key, "org-demo-steel", facility_doc["id"], source_doc["id"], scope)
            )
    computed = client.post(  # type: ignore[attr-defined]
        "/api/v1/inventories/compute", params={"save": True}, json=inventory
    )
    assert computed.status_code == 200, computed.text
    facility = "fac-steelmaking"
    plan = plan_from_template(
        facility,
        load_template("iron_steel"),
        {f"{facility}-gas": "fuel_combustion", f"{facility}-power": "purchased_electricity"},
        {f"{facility}-gas": [f"{facility}-m-gas"]},
    )
    assert results.save_plan(engine, "org-demo-steel", plan, "seed")
    sent = client.post(  # type: ignore[attr-defined]
        "/api/v1/readings",
        json={
            "readings": [
                {
                    "meter_id": "no-such-meter",
                    "ts": "2026-11-01T00:00:00Z",
                    "value": 1,
                    "unit": "MWh",
                }
            ]
        },
    )
    assert sent.status_code == 200, sent.text


def crawl(service: Service, client: object, start: list[str]) -> dict[str, list[str]]:
    """Visible texts of every page reached from ``start`` (same origin, bounded)."""
    seen: dict[str, list[str]] = {}
    queue = list(start)
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen:
            continue
        response = client.get(url, follow_redirects=True)  # type: ignore[attr-defined]
        assert response.status_code == 200, (url, response.status_code)
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        page = _Page()
        page.feed(response.text)
        seen[url] = page.texts
        for href in page.links:
            parts = urlsplit(urljoin("http://testserver" + url, href))
            if parts.netloc != "testserver" or parts.path.startswith(SKIPPED):
                continue
            if parts.path.endswith((".pdf", ".xlsx", ".json", ".csv")):
                continue
            if "lang=" in parts.query or "episode=" in parts.query:
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target not in seen:
                queue.append(target)
    return seen


def test_every_page_reached_from_the_navigation_reads_in_chinese(
    service: Service, engine: sa.Engine
) -> None:
    client, csrf = service.login(service.users["admin"])
    client.headers["X-CSRF-Token"] = csrf
    _seed(service, engine, client)
    client.get("/?lang=zh")
    pages = crawl(service, client, ["/", "/factors?q=焦炭", "/quality", "/plans"])
    visited = set(pages)
    # the crawl reached the pages that carry domain texts
    for wanted in ("/sources/", "/facilities/", "/plans", "/factors", "/quality", "/admin/users"):
        assert any(url.startswith(wanted) for url in visited), (wanted, sorted(visited))
    english = english_texts()
    patterns = domain_text.english_patterns()
    found = sorted(
        {
            (url, why)
            for url, texts in pages.items()
            for text in texts
            if (why := untranslated(text, english, patterns))
        }
    )
    assert not found, "\n".join(f"{url}: {why}" for url, why in found[:40])


def test_the_check_finds_english_domain_texts() -> None:
    english = english_texts()
    patterns = domain_text.english_patterns()
    reason = (
        "national default; jurisdiction CN; vintage 2013, the latest not after 2025; "
        "preferred over ipcc2006/coke/carbon_content@2006"
    )
    assert untranslated(reason, english, patterns)
    assert untranslated("combustion", english, patterns)
    assert untranslated("Fuel combustion", english, patterns)
    assert untranslated("Emission factors", english, patterns)
    assert untranslated("国家缺省值；适用地区 CN", english, patterns) is None
    assert untranslated("Tangshan integrated works (BF-BOF)", english, patterns) is None
    assert untranslated("GB/T 32150-2015", english, patterns) is None


def test_factor_browser_finds_factors_by_their_chinese_names(service: Service) -> None:
    client, _ = service.login(service.users["viewer"])
    wanted = {
        "焦炭": "cn-steel-2013/coke/ncv",
        "电力": "cn-mee-nbs/grid_average/CN/2021",
        "天然气": "cn-steel-2013/natural_gas/ncv",
        "石灰石": "cn-steel-2013/limestone/ef/CO2",
    }
    for query, factor_id in wanted.items():
        page = client.get("/factors", params={"q": query, "lang": "zh"}).text
        assert factor_id in page, query
        assert "未找到匹配的排放因子" not in page
    page = client.get("/factors", params={"q": "焦炭", "lang": "zh"}).text
    assert "《中国钢铁生产企业温室气体排放核算方法与报告指南（试行）》" in page
    assert "焦炭" in page and "低位发热量" in page
    # the factor API searches the same names
    api = client.get("/api/v1/factors", params={"q": "石灰石"}).json()
    assert {f["subject"] for f in api} == {"limestone"}


def test_name_fields_of_keys_and_clients_are_names_not_personal_names(service: Service) -> None:
    client, _ = service.login(service.users["admin"])
    page = client.get("/admin/users?lang=zh").text
    keys = page[page.index('id="api-keys"') : page.index('id="oauth-clients"')]
    assert "名称" in keys and "姓名" not in keys
    clients = page[page.index('id="oauth-clients"') :]
    assert "名称" in clients and "姓名" not in clients
    # people keep 姓名
    assert "姓名" in page[: page.index('id="api-keys"')]


def test_a_plan_saved_from_the_chinese_page_keeps_its_stored_sentences(
    service: Service, engine: sa.Engine
) -> None:
    facility = "fac-steelmaking"
    plan = plan_from_template(
        facility,
        load_template("iron_steel"),
        {f"{facility}-gas": "fuel_combustion"},
        {f"{facility}-gas": [f"{facility}-m-gas"]},
    )
    assert results.save_plan(engine, "org-demo-steel", plan, "seed")
    client, csrf = service.login(service.users["editor"])
    page = client.get(f"/plans/{facility}?lang=zh").text
    gap = plan.entries[0].data_gap_procedure
    assert gap not in page and "保守替代值：近 3 年最高月消耗量（MRR 第 66 条）" in page
    form = {"csrf_token": csrf, "version": "1"}
    for i, e in enumerate(plan.entries):
        form |= {
            f"{i}-method": e.method or "",
            f"{i}-tier": e.tier,
            f"{i}-meters": ", ".join(e.meters),
            f"{i}-factor_choice": e.factor_choice,
            # what the Chinese page shows in the fields
            f"{i}-sampling": domain_text.plan_text(e.sampling, _zh()),
            f"{i}-data_gap_procedure": domain_text.plan_text(e.data_gap_procedure, _zh()),
        }
    form["0-tier"] = "3"
    saved = client.post(f"/plans/{facility}", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    latest = results.plan_versions(engine, "org-demo-steel", facility)[0].plan
    assert latest.version == 2 and latest.entries[0].tier == "3"
    assert latest.entries[0].data_gap_procedure == gap
    assert [e.sampling for e in latest.entries] == [e.sampling for e in plan.entries]


def _zh() -> domain_text.Gettext:
    from carbonlink.api.i18n import formatter, load_catalogues

    return formatter(load_catalogues(), "zh").gettext


def test_a_refused_password_is_explained_in_chinese(service: Service, password: str) -> None:
    client, _ = service.login(service.users["viewer"])
    page = client.get("/account/password?lang=zh")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    form = {
        "csrf_token": token.group(1),
        "current_password": password,
        "new_password": "short",
        "new_password_again": "short",
    }
    refused = client.post("/account/password?lang=zh", data=form)
    assert refused.status_code == 422
    assert "密码少于 10 个字符（请选择更长的密码，例如几个互不相关的词）" in refused.text
    form["new_password_again"] = "other"
    refused = client.post("/account/password?lang=zh", data=form)
    assert "两次输入的新密码不一致（请两次输入相同的密码）" in refused.text
    refused = client.post("/account/password?lang=en", data=form)
    assert "the two new passwords differ" in refused.text


def test_allocation_is_attribution_for_footprints_and_allowances_for_the_ets() -> None:
    zh = _zh()
    for footprint in ("Allocation rule", "allocation mass", "allocation economic", "no allocation"):
        assert "分摊" in zh(footprint) and "配额" not in zh(footprint), footprint
    assert zh("Allocation") == "配额分配"  # the ETS position: allowances allocated for free
    portal = (files("carbonlink.api") / "templates" / "portal_request.html").read_text("utf-8")
    assert '_("Allocation")' not in portal and '_("Allocation rule")' in portal
