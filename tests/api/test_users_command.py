"""`carbonlink users add` then log in to the service built on the same workspace."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from carbonlink.api import create_app
from carbonlink.cli import app
from carbonlink.settings import Settings


@pytest.mark.slow
def test_users_add_creates_a_working_log_in(tmp_path: Path) -> None:
    env = {
        "CARBONLINK_WORKSPACE": str(tmp_path),
        "CARBONLINK_DATABASE_URL": "",
        "CARBONLINK_NEW_USER_PASSWORD": "a long enough password",
    }
    result = CliRunner().invoke(
        app,
        ["users", "add", "chief@plant.test", "--organization", "org-plant", "--role", "admin"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "organization org-plant created" in result.output
    service = create_app(Settings(workspace=tmp_path))
    client = TestClient(service)
    client.get("/login")
    response = client.post(
        "/login",
        data={
            "email": "chief@plant.test",
            "password": "a long enough password",
            "csrf_token": client.cookies["carbonlink_login_csrf"],
        },
    )
    assert response.status_code == 200
    assert "尚无设施" in response.text  # the empty overview tells the user what to do next
    assert client.get("/api/v1/me").json()["organization"] == "org-plant"
