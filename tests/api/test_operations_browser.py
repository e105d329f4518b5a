"""Alerts and targets run from the browser: rules, channels, acknowledgement, declared targets.

Each test does the task in headless Chromium as a person would, through the pages' forms (which
call the API under /api/v1), then reads the store. A webhook channel's test delivery goes to a
real HTTP receiver on a loopback port that checks the HMAC signature. Screenshots go to
``/work/shots/app16a`` when it exists, else ``OUT``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from browser_support import OUT, chromium, log_in, new_page

from carbonlink.monitor.notify import SIGNATURE_HEADER, verify_signature
from carbonlink.store import operations, results

if TYPE_CHECKING:
    from conftest import Service

pytestmark = pytest.mark.browser
SHOTS = Path("/work/shots/app16a") if Path("/work/shots/app16a").is_dir() else OUT
ORG = "org-demo-steel"
GAS = "fac-steelmaking-m-gas"
KEY = "a-signing-key-for-the-control-room"


@contextmanager
def receiver() -> Iterator[tuple[str, list[tuple[bytes, str]]]]:
    """A webhook receiver on a loopback port; yields its URL and the (body, signature) got."""
    got: list[tuple[bytes, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append((body, self.headers.get(SIGNATURE_HEADER, "")))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/carbonlink", got
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_an_editor_sets_rules_and_channels_and_acknowledges_an_alert(
    service: Service, base_url: str
) -> None:
    engine = service.app.state.ctx.engine
    viewer_id = service.ids["user_id"]
    errors: list[str] = []
    with chromium() as browser, receiver() as (hook, got):
        page = new_page(browser, errors)
        page.on("dialog", lambda dialog: dialog.accept())
        log_in(page, base_url, service.users["editor"])
        for path in ("/", "/targets", "/factors"):  # the badge is on every page
            page.goto(f"{base_url}{path}")
            assert page.locator("#open-alerts").inner_text().endswith("1")

        page.goto(f"{base_url}/alerts?lang=zh")
        page.click("#rules-link")
        page.wait_for_url(f"{base_url}/alerts/rules")
        form = page.locator("#rule-form")
        form.get_by_label("规则编号", exact=True).fill("gas-surge")
        form.locator("select[name=kind]").select_option("threshold")
        form.locator("select[name=meter_id]").select_option(GAS)
        form.get_by_label("高于", exact=True).fill("20000")
        form.locator("select[name=severity]").select_option("critical")
        form.locator("button[type=submit]").click()
        page.wait_for_selector("#rule-gas-surge")
        [rule] = [r for r in results.alert_rules_of(engine, ORG) if r.id == "gas-surge"]
        assert (rule.meter_id, rule.above, rule.severity) == (GAS, 20000.0, "critical")

        page.locator("#rule-gas-surge button", has_text="编辑").click()
        form.get_by_label("高于", exact=True).fill("25000")
        form.locator("button[type=submit]").click()
        page.wait_for_selector("#rule-gas-surge >> text=25,000")
        [rule] = [r for r in results.alert_rules_of(engine, ORG) if r.id == "gas-surge"]
        assert rule.above == 25000.0

        form.get_by_label("规则编号", exact=True).fill(
            "gas-bad"
        )  # an invalid rule: the API's words shown
        form.get_by_label("高于", exact=True).fill("")
        form.locator("button[type=submit]").click()
        problem = form.locator("[role=alert]:not([hidden])")
        problem.wait_for()
        assert "above" in problem.inner_text()
        assert "gas-bad" not in {r.id for r in results.alert_rules_of(engine, ORG)}
        # Chromium logs the refused request itself; nothing else may have gone wrong
        refused = "the server responded with a status of 422"
        assert sum(refused in e for e in errors) == 1
        errors[:] = [e for e in errors if refused not in e]

        channel = page.locator("#channel-form")
        channel.get_by_label("渠道名称", exact=True).fill("中控室 Control room")
        channel.locator("select[name=kind]").select_option("webhook")
        channel.get_by_label("Webhook 地址", exact=True).fill(hook)
        channel.get_by_label("签名密钥或 SMTP 密码", exact=True).fill(KEY)
        channel.locator("button[type=submit]").click()
        row = page.locator("tr", has_text="中控室 Control room")
        row.wait_for()
        page.screenshot(path=SHOTS / "alert-rules-zh.png", full_page=True)
        row.locator("button", has_text="发送测试").click()
        page.wait_for_selector("#channels [role=alert]:not([hidden])")
        assert len(got) == 1
        body, signature = got[0]
        assert verify_signature(KEY.encode(), body, signature)
        assert b"channel-test" in body

        channel.get_by_label("渠道名称", exact=True).fill("Shift leads")
        channel.locator("select[name=kind]").select_option("email")
        channel.get_by_label("Webhook 地址", exact=True).fill("")
        channel.get_by_label("签名密钥或 SMTP 密码", exact=True).fill("")
        channel.get_by_label("SMTP 服务器", exact=True).fill("smtp.demo.test")
        channel.get_by_label("SMTP 端口", exact=True).fill("587")
        channel.get_by_label("发件人", exact=True).fill("alerts@demo.test")
        channel.get_by_label("收件人", exact=True).fill("lead1@demo.test, lead2@demo.test")
        channel.locator("button[type=submit]").click()
        page.locator("tr", has_text="Shift leads").wait_for()
        stored = {c.name: c for c in operations.alert_channels_of(engine, ORG)}
        assert stored["中控室 Control room"].config == {"url": hook}
        assert stored["中控室 Control room"].has_secret
        assert stored["Shift leads"].config["recipients"] == ["lead1@demo.test", "lead2@demo.test"]
        page.locator("tr", has_text="Shift leads").locator("button", has_text="删除").click()
        page.wait_for_load_state()
        page.locator("tr", has_text="Shift leads").wait_for(state="detached")
        assert {c.name for c in operations.alert_channels_of(engine, ORG)} == {
            "中控室 Control room"
        }
        page.goto(f"{base_url}/alerts/rules?lang=en")
        page.screenshot(path=SHOTS / "alert-rules-en.png", full_page=True)

        open_id = int(service.ids["alert_id"])
        page.goto(f"{base_url}/alerts?lang=en")
        page.locator(f"a[href='/alerts/{open_id}']").click()
        page.wait_for_url(f"{base_url}/alerts/{open_id}")
        ack = page.locator("#ack-form")
        ack.get_by_label("Comment", exact=True).fill("Checked the gas valve on site")
        ack.locator("select[name=assignee]").select_option(viewer_id)
        ack.locator("button[type=submit]").click()
        page.wait_for_selector("#history li.note")
        history = page.locator("#history").inner_text()
        assert "Checked the gas valve on site" in history and "Test viewer" in history
        assert page.locator("#open-alerts").count() == 0  # nothing open any more
        page.screenshot(path=SHOTS / "alert-history-en.png", full_page=True)
        page.goto(f"{base_url}/alerts/{open_id}?lang=zh")
        page.screenshot(path=SHOTS / "alert-history-zh.png", full_page=True)

        page.goto(f"{base_url}/alerts/rules")
        page.locator("#rule-gas-surge button", has_text="删除").click()
        page.locator("#rule-gas-surge").wait_for(state="detached")
    [note] = operations.alert_notes_of(engine, ORG, open_id)
    assert (note.comment, note.assignee, note.author) == (
        "Checked the gas valve on site",
        viewer_id,
        "Test editor",
    )
    [alert] = [a for a in results.alerts_of(engine, ORG) if a.id == open_id]
    assert alert.status == "acknowledged"
    assert "gas-surge" not in {r.id for r in results.alert_rules_of(engine, ORG)}
    assert errors == []


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_an_editor_declares_and_edits_a_target_with_its_budget_line(
    service: Service, base_url: str
) -> None:
    engine = service.app.state.ctx.engine
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors)
        log_in(page, base_url, service.users["editor"])
        page.goto(f"{base_url}/targets?lang=en")
        form = page.locator("#target-form")
        form.get_by_label("Target id", exact=True).fill("group-2030")
        form.get_by_label("Target name", exact=True).fill("Group target 2030")
        form.get_by_label("Base year", exact=True).fill("2020")
        form.get_by_label("Base-year emissions (t CO2e)", exact=True).fill("1000")
        form.get_by_label("Target year", exact=True).fill("2030")
        form.get_by_label("Cut by the target year (%)", exact=True).fill("40")
        form.locator("select[name=pathway]").select_option("linear")
        form.locator("select[name=scopes]").select_option("scope1+scope2_location")
        form.get_by_label("Boundary in words", exact=True).fill("Both works, operational control")
        form.locator("button[type=submit]").click()
        page.wait_for_selector("#target-group-2030")
        [target] = operations.targets_of(engine, ORG)
        assert (target.base_year, target.target_year, target.reduction_pct) == (2020, 2030, 40.0)
        assert target.scopes == ("scope1", "scope2_location")
        assert target.boundary == "Both works, operational control"
        budget = page.evaluate(
            "echarts.getInstanceByDom(document.getElementById('target-chart-0'))"
            ".getOption().series[0].data"
        )
        # linear: 1000 t in 2020 down to 600 t in 2030, 40 t a year
        assert budget == [1000 - 40 * i for i in range(11)]
        page.screenshot(path=SHOTS / "targets-declared-en.png", full_page=True)

        page.locator("#target-group-2030 button", has_text="Edit").click()
        form.locator("select[name=pathway]").select_option("constant_rate")
        form.get_by_label("Cut by the target year (%)", exact=True).fill("50")
        form.locator("button[type=submit]").click()
        page.wait_for_selector("#target-group-2030 >> text=50")
        budget = page.evaluate(
            "echarts.getInstanceByDom(document.getElementById('target-chart-0'))"
            ".getOption().series[0].data"
        )
        assert budget[0] == 1000 and budget[-1] == 500
        assert budget[5] == pytest.approx(1000 * 0.5**0.5, abs=1e-3)
        page.goto(f"{base_url}/targets?lang=zh")
        page.screenshot(path=SHOTS / "targets-declared-zh.png", full_page=True)
    [target] = operations.targets_of(engine, ORG)
    assert (target.pathway, target.reduction_pct) == ("constant_rate", 50.0)
    assert errors == []


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
@pytest.mark.parametrize("role", ["viewer", "auditor", "supplier"])
def test_roles_without_write_are_refused_before_the_body_is_read(
    service: Service, role: str
) -> None:
    client, csrf = service.login(service.users[role])
    client.headers["X-CSRF-Token"] = csrf
    bogus = {"not": "a valid body"}
    for method, url in (
        ("PUT", "/api/v1/alert-rules/gas-surge"),
        ("DELETE", "/api/v1/alert-rules/gas-above-500"),
        ("POST", "/api/v1/alert-channels"),
        ("PUT", "/api/v1/alert-channels/0123abcd"),
        ("POST", "/api/v1/alert-channels/0123abcd/test"),
        ("POST", f"/api/v1/alerts/{service.ids['alert_id']}/acknowledge"),
        ("POST", "/api/v1/targets"),
        ("PUT", "/api/v1/targets/group-2030"),
        ("DELETE", "/api/v1/targets/group-2030"),
    ):
        response = client.request(method, url, json=bogus)
        assert response.status_code == 403, f"{role} {method} {url}: {response.status_code}"
    if role != "supplier":
        page = client.get("/alerts/rules").text
        assert 'id="rule-form"' not in page and 'id="channel-form"' not in page
        assert 'id="ack-form"' not in client.get(f"/alerts/{service.ids['alert_id']}").text
        assert 'id="target-form"' not in client.get("/targets").text


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_an_alert_that_opens_is_sent_signed_to_the_webhook_once(service: Service) -> None:
    client, csrf = service.login(service.users["editor"])
    client.headers["X-CSRF-Token"] = csrf
    rule = {"id": "gas-surge", "kind": "threshold", "meter_id": GAS, "above": 20000}
    assert client.put("/api/v1/alert-rules/gas-surge", json=rule).status_code == 200
    rows = [
        {"meter_id": GAS, "ts": f"2026-11-20T0{h}:00:00Z", "value": v, "unit": "Nm3"}
        for h, v in enumerate((9000, 25000.5))
    ]
    with receiver() as (hook, got):
        channel = {"name": "Control room", "kind": "webhook", "url": hook, "secret": KEY}
        assert client.post("/api/v1/alert-channels", json=channel).status_code == 201
        quiet = channel | {"name": "Critical only", "min_severity": "critical"}
        assert client.post("/api/v1/alert-channels", json=quiet).status_code == 201
        assert client.post("/api/v1/readings", json={"readings": rows}).json()["stored"] == 2
        deadline = time.monotonic() + 10
        while len(got) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        client.post("/api/v1/readings", json={"readings": rows})  # the same batch again
        time.sleep(1.0)
    assert len(got) == 1  # a warning: not for the critical-only channel; once, not twice
    body, signature = got[0]
    assert verify_signature(KEY.encode(), body, signature)
    sent = json.loads(body)
    assert (sent["rule_id"], sent["meter_id"], sent["action"]) == ("gas-surge", GAS, "opened")
    assert sent["value"] == 25000.5


@contextmanager
def smtp_receiver() -> Iterator[tuple[int, list[bytes]]]:
    """A minimal SMTP server on a loopback port (RFC 5321 dialogue, no TLS); yields its port
    and the messages received."""
    import socketserver

    got: list[bytes] = []

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            self.wfile.write(b"220 receiver.test ESMTP\r\n")
            while line := self.rfile.readline():
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    self.wfile.write(b"250 receiver.test\r\n")
                elif verb == b"DATA":
                    self.wfile.write(b"354 end with a dot\r\n")
                    lines = []
                    while (part := self.rfile.readline()) not in (b".\r\n", b""):
                        lines.append(part)
                    got.append(b"".join(lines))
                    self.wfile.write(b"250 queued\r\n")
                elif verb == b"QUIT":
                    self.wfile.write(b"221 bye\r\n")
                    return
                else:
                    self.wfile.write(b"250 ok\r\n")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], got
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_an_e_mail_channel_sends_its_test_alert_through_smtp(service: Service) -> None:
    client, csrf = service.login(service.users["editor"])
    client.headers["X-CSRF-Token"] = csrf
    with smtp_receiver() as (port, got):
        channel = {
            "name": "Shift leads",
            "kind": "email",
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "sender": "alerts@demo.test",
            "recipients": ["lead1@demo.test", "lead2@demo.test"],
            "starttls": False,
        }
        created = client.post("/api/v1/alert-channels", json=channel)
        assert created.status_code == 201, created.text
        sent = client.post(f"/api/v1/alert-channels/{created.json()['id']}/test")
        assert sent.status_code == 204, sent.text
    [message] = got
    assert b"To: lead1@demo.test, lead2@demo.test" in message
    assert b"channel-test" in message
    broken = channel | {"smtp_port": port}  # the receiver is gone now
    changed = client.put(f"/api/v1/alert-channels/{created.json()['id']}", json=broken)
    assert changed.status_code == 200
    failed = client.post(f"/api/v1/alert-channels/{created.json()['id']}/test")
    assert failed.status_code == 502
    assert "SMTP" in failed.json()["hint"]
