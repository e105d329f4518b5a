"""Revision 0015: written files recorded with absolute paths become relative to the workspace."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from carbonlink.api import results
from carbonlink.store.migrate import alembic_config, current_revision, downgrade, upgrade

REVISION = "0015_relative_paths"
BEFORE = ScriptDirectory.from_config(alembic_config()).get_revision(REVISION).down_revision


def test_absolute_paths_in_and_beside_the_workspace_become_relative(
    engine: sa.Engine, tmp_path: Path
) -> None:
    # On SQLite the workspace is the database file's folder; a server database is told it.
    workspace = tmp_path
    named = None if engine.dialect.name == "sqlite" else workspace
    assert isinstance(BEFORE, str)
    downgrade(engine, BEFORE, workspace=named)
    elsewhere = "/srv/shared-reports/plan.pdf"
    absolute = {
        "inside": str(workspace / "reports" / "q1.html"),
        "beside": str(workspace.parent / "china.pdf"),
        "elsewhere": elsewhere,
        "relative already": "reports/q2.html",
    }
    results.save_monitoring(engine, "plant", {"n": 1}, absolute)

    upgrade(engine, REVISION, workspace=named)
    assert current_revision(engine) == REVISION
    assert _outputs(engine) == {
        "inside": "reports/q1.html",
        "beside": "../china.pdf",
        "elsewhere": elsewhere,
        "relative already": "reports/q2.html",
    }

    downgrade(engine, BEFORE, workspace=named)
    assert _outputs(engine) == absolute | {"relative already": str(workspace / "reports/q2.html")}
    upgrade(engine, workspace=named)


def _outputs(engine: sa.Engine) -> dict[str, str]:
    table = sa.table("monitoring_reports", sa.column("outputs", sa.Text))
    with engine.connect() as conn:
        [text] = conn.execute(sa.select(table.c.outputs)).scalars().all()
    return dict(json.loads(text))
