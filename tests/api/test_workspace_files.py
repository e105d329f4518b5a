"""A copied workspace serves its own report files, never the original folder's."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from carbonlink.api import results
from carbonlink.demo.service import DEMO_ORG_ID
from carbonlink.store.workspace import workspace_path

if TYPE_CHECKING:
    from conftest import Service


def test_a_copied_workspace_serves_its_own_files(
    service: Service, engine: sa.Engine, tmp_path: Path
) -> None:
    original = Path(service.app.state.ctx.settings.workspace)
    inside = original / "reports" / "q1.json"
    inside.parent.mkdir(parents=True)
    inside.write_text('{"copy": "original"}', "utf-8")
    outputs = {"inventory result": workspace_path(inside, original)}
    assert outputs == {"inventory result": "reports/q1.json"}
    results.save_monitoring(engine, DEMO_ORG_ID, {}, outputs)
    client, _ = service.login(service.users["viewer"])
    assert client.get("/files/inventory%20result").text == '{"copy": "original"}'

    # The same database served from a copy of the folder (a copied SQLite workspace).
    copy = tmp_path.parent / f"{tmp_path.name}-copy" / "workspace"
    shutil.copytree(original / "reports", copy / "reports")
    (copy / "reports" / "q1.json").write_text('{"copy": "the copy"}', "utf-8")
    ctx = service.app.state.ctx
    ctx.settings = ctx.settings.model_copy(update={"workspace": copy})
    assert client.get("/files/inventory%20result").text == '{"copy": "the copy"}'
    # A copy without the file answers 404 rather than serving the original's.
    (copy / "reports" / "q1.json").unlink()
    assert client.get("/files/inventory%20result").status_code == 404
