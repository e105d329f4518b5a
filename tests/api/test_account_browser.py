"""The three account flows and the per-session language, done in headless Chromium.

A user changes its own password; an administrator hands out a one-time reset link that the user
opens in another browser; a new user must choose its own password at the first log-in; and a
language chosen in one session leaves the same user's other session as it was. Each test then
reads the store. Screenshots go to ``/work/shots/app16a`` when it exists, else ``OUT``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from browser_support import OUT, chromium, log_in, new_page, submit_log_in

from carbonlink.store.accounts_schema import password_resets, users, web_sessions

if TYPE_CHECKING:
    from conftest import Service

pytestmark = pytest.mark.browser
NEW = "a long new passphrase for the works"
SHOTS = Path("/work/shots/app16a") if Path("/work/shots/app16a").is_dir() else OUT


def _user(service: Service, email: str) -> sa.Row:  # type: ignore[type-arg]
    with service.app.state.ctx.engine.connect() as conn:
        return conn.execute(sa.select(users).where(users.c.email == email)).one()


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_user_changes_its_own_password(service: Service, base_url: str) -> None:
    email = service.users["editor"]
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors)
        log_in(page, base_url, email)
        page.goto(f"{base_url}/account/password?lang=zh")
        page.screenshot(path=SHOTS / "account-password-zh.png", full_page=True)
        page.fill("input[name=current_password]", "correct horse battery staple")
        page.fill("input[name=new_password]", NEW)
        page.fill("input[name=new_password_again]", NEW)
        page.click("#password-form button[type=submit]")
        page.wait_for_url(f"{base_url}/account")
        assert page.locator("h1").count() == 1
    accounts = service.app.state.ctx.accounts
    assert accounts.verify_password(email, NEW) == _user(service, email).id
    assert accounts.verify_password(email, "correct horse battery staple") is None
    assert errors == []


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_an_admin_reset_link_lets_the_user_set_a_password(service: Service, base_url: str) -> None:
    viewer = _user(service, service.users["viewer"])
    errors: list[str] = []
    with chromium() as browser:
        admin = new_page(browser, errors)
        log_in(admin, base_url, service.users["admin"])
        admin.goto(f"{base_url}/admin/users?lang=en")
        admin.locator(f"#user-{viewer.id} button", has_text="Password reset link").click()
        link = admin.locator("#secret-once code.secret").inner_text()
        assert "/password-reset?token=" in link
        admin.screenshot(path=SHOTS / "admin-reset-link-en.png", full_page=True)

        person = new_page(browser, errors)
        # the link names the configured service address; this test serves on its own port
        parts = urlsplit(link)
        person.goto(f"{base_url}{parts.path}?{parts.query}")
        person.fill("input[name=new_password]", NEW)
        person.fill("input[name=new_password_again]", NEW)
        person.click("#reset-form button[type=submit]")
        person.wait_for_url(f"{base_url}/login*")
        submit_log_in(person, base_url, viewer.email, NEW)
    with service.app.state.ctx.engine.connect() as conn:
        used = conn.execute(
            sa.select(password_resets.c.used_at).where(password_resets.c.user_id == viewer.id)
        ).scalar_one()
    assert used is not None
    assert service.app.state.ctx.accounts.verify_password(viewer.email, NEW) == viewer.id
    assert errors == []


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_new_user_must_choose_a_password_at_the_first_log_in(
    service: Service, base_url: str
) -> None:
    errors: list[str] = []
    with chromium() as browser:
        admin = new_page(browser, errors)
        log_in(admin, base_url, service.users["admin"])
        admin.goto(f"{base_url}/admin/users")
        form = admin.locator("#users form.admin-form")
        form.locator("input[name=email]").fill("wang.fang@demo.test")
        form.locator("select[name=role]").select_option("editor")
        form.locator("button[type=submit]").click()
        first = admin.locator("#secret-once code.secret").inner_text()

        person = new_page(browser, errors)
        person.goto(f"{base_url}/login")
        person.fill("input[name=email]", "wang.fang@demo.test")
        person.fill("input[name=password]", first)
        person.click("button[type=submit]")
        person.wait_for_url(f"{base_url}/account/password")
        assert person.locator("#must-change").count() == 1
        person.screenshot(path=SHOTS / "account-forced-change-zh.png", full_page=True)
        person.goto(f"{base_url}/")  # every page sends the user back to the form
        person.wait_for_url(f"{base_url}/account/password")
        person.fill("input[name=current_password]", first)
        person.fill("input[name=new_password]", NEW)
        person.fill("input[name=new_password_again]", NEW)
        person.click("#password-form button[type=submit]")
        person.wait_for_url(f"{base_url}/account")
        person.goto(f"{base_url}/")
        person.wait_for_url(f"{base_url}/")
    stored = _user(service, "wang.fang@demo.test")
    assert not stored.must_change_password
    assert service.app.state.ctx.accounts.verify_password(stored.email, NEW) == stored.id
    assert errors == []


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_language_chosen_in_one_session_leaves_the_other_session_alone(
    service: Service, base_url: str
) -> None:
    email = service.users["viewer"]
    errors: list[str] = []
    with chromium() as browser:
        office = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        control_room = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        first, second = office.new_page(), control_room.new_page()
        for page in (first, second):
            page.on("pageerror", lambda e: errors.append(str(e)))
            log_in(page, base_url, email)
            assert page.locator("html").get_attribute("lang") == "zh-CN"
        first.click("a[data-lang=en]")
        first.wait_for_function("document.documentElement.lang === 'en'")
        assert "lang=" not in first.url  # chosen through the API, not the address
        first.goto(f"{base_url}/alerts")
        assert first.locator("h1").inner_text() == "Alerts"
        first.screenshot(path=SHOTS / "session-language-en.png", full_page=True)
        second.goto(f"{base_url}/alerts")
        assert second.locator("h1").inner_text() == "告警"
        second.screenshot(path=SHOTS / "session-language-zh.png", full_page=True)
        office.close()
        control_room.close()
    with service.app.state.ctx.engine.connect() as conn:
        chosen = sorted(
            str(r.locale)
            for r in conn.execute(
                sa.select(web_sessions.c.locale)
                .join(users, users.c.id == web_sessions.c.user_id)
                .where(users.c.email == email)
            )
        )
    assert chosen == ["None", "en"]
    assert _user(service, email).locale == "zh"  # the account's default is untouched
    assert errors == []
