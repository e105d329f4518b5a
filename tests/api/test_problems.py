"""Every error of the API is an RFC 9457 problem document; pages get an HTML page; HSTS; ?lang=."""

from __future__ import annotations

import logging
import stat
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from carbonlink.api.security import digest
from carbonlink.settings import Settings
from carbonlink.store import create_store_engine
from carbonlink.store.accounts_schema import users, web_sessions

if TYPE_CHECKING:
    from conftest import Service

PROBLEM = "application/problem+json"


@pytest.fixture
def api(service: Service) -> TestClient:
    key = service.app.state.ctx.accounts.create_api_key("org-demo-steel", "problems", "editor")
    client = service.client()
    client.headers["Authorization"] = f"Bearer {key}"
    return client


def _problem(response, status: int) -> dict:  # type: ignore[no-untyped-def, type-arg]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body  # type: ignore[no-any-return]


def test_an_unknown_api_path_is_a_problem_document(api: TestClient) -> None:
    body = _problem(api.get("/api/v1/nowhere"), 404)
    assert body["record"] == "/api/v1/nowhere"
    assert "/api/docs" in body["hint"]


def test_a_method_not_allowed_is_a_problem_document_with_allow(api: TestClient) -> None:
    response = api.delete("/api/v1/me")
    body = _problem(response, 405)
    assert response.headers["allow"] == "GET"
    assert body["detail"] == "DELETE is not allowed on /api/v1/me"


@pytest.mark.parametrize(
    "content",
    [b'{"readings": [', b"\xff\xfe not utf-8", b"[1, 2", b""],
    ids=["truncated", "not-utf8", "unclosed-list", "empty"],
)
def test_a_body_that_does_not_parse_is_a_problem_document(api: TestClient, content) -> None:  # type: ignore[no-untyped-def]
    response = api.post(
        "/api/v1/readings", content=content, headers={"Content-Type": "application/json"}
    )
    body = _problem(response, 422)
    assert body["errors"]


def test_an_unexpected_failure_is_a_problem_document_and_is_logged(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    def fails() -> None:
        raise RuntimeError("a defect the handlers do not know")

    service.app.add_api_route("/api/v1/fails", fails)
    service.app.add_api_route("/fails", fails)
    client = service.client()
    with caplog.at_level(logging.ERROR, logger="carbonlink.api"):
        body = _problem(client.get("/api/v1/fails"), 500)
        page = client.get("/fails")
    assert "RuntimeError" not in body["detail"] and body["hint"]
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert [r.exc_info[0] for r in caplog.records if r.exc_info] == [RuntimeError, RuntimeError]


def test_over_a_real_server_a_failure_is_answered_and_the_connection_kept(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    """uvicorn on a loopback port: the server itself sees no exception (it would answer
    text/plain and close the connection), and one keep-alive connection serves on."""
    from browser_support import served

    def fails() -> None:
        raise RuntimeError("a defect the handlers do not know")

    service.app.add_api_route("/api/v1/fails", fails)
    with (
        served(service.app) as url,
        httpx.Client(base_url=url) as client,
        caplog.at_level(logging.ERROR),
    ):
        answers = [client.get("/api/v1/fails") for _ in range(3)]
        after = client.get("/login")
    for answer in answers:
        _problem(answer, 500)
    assert after.status_code == 200
    assert not [r for r in caplog.records if r.name.startswith("uvicorn")]


def test_an_unknown_page_is_the_html_error_page(service: Service) -> None:
    page = service.client().get("/nowhere")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")


def test_https_responses_carry_hsts_and_plain_http_ones_do_not(service: Service) -> None:
    secure = TestClient(service.app, base_url="https://testserver").get("/login")
    plain = TestClient(service.app, base_url="http://testserver").get("/login")
    assert secure.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert "strict-transport-security" not in plain.headers


def test_lang_on_a_get_changes_this_session_not_the_account(service: Service) -> None:
    engine = service.app.state.ctx.engine
    email = service.users["viewer"]

    def stored_locale() -> str:
        with engine.connect() as conn:
            return str(
                conn.execute(sa.select(users.c.locale).where(users.c.email == email)).scalar_one()
            )

    before = stored_locale()
    client, _csrf = service.login(email)
    other = "en" if before == "zh" else "zh"
    page = client.get(f"/?lang={other}")
    assert page.status_code == 200
    assert client.cookies.get("carbonlink_lang") is None  # no cookie shared by all sessions
    with engine.connect() as conn:
        chosen = conn.execute(
            sa.select(web_sessions.c.locale).where(
                web_sessions.c.token_hash == digest(client.cookies["carbonlink_session"])
            )
        ).scalar_one()
    assert chosen == other
    assert stored_locale() == before


def test_the_workspace_database_and_its_wal_are_readable_by_their_owner_only(
    tmp_path: Path,
) -> None:
    url = Settings(workspace=tmp_path / "ws").resolved_database_url()
    engine = create_store_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        conn.execute(sa.text("INSERT INTO t VALUES (1)"))
    connection = engine.connect()  # holds the WAL and shared-memory files open
    try:
        database = Path(url.removeprefix("sqlite:///"))
        files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
        assert all(f.exists() for f in files)
        modes = {f.name: stat.S_IMODE(f.stat().st_mode) for f in files}
        assert modes == dict.fromkeys(modes, 0o600)
    finally:
        connection.close()
        engine.dispose()


def test_a_nul_in_a_partner_name_is_refused_before_the_database(service: Service) -> None:
    """PostgreSQL cannot store NUL in text: the API refuses it with 422, never a 500."""
    client, csrf = service.login(service.users["admin"])
    for field in ("name", "organization"):
        body = {"name": "Buyer", "organization": "Buyer Co"} | {field: "a\x00b"}
        response = client.post("/api/v1/pact/partners", json=body, headers={"X-CSRF-Token": csrf})
        assert response.status_code == 422, response.text
