"""Files a workspace's database records are named relative to the workspace folder.

The monitoring reports' written files (``monitoring_reports.outputs``, label → file) were kept
as absolute paths, so a copied or restored workspace went on serving the original folder's
files. This revision rewrites each absolute path that lies in the workspace, or in the folder
that holds it (where ``carbonlink demo`` writes its outputs), as a path relative to the
workspace with ``/`` separators; other paths are left as they are. The workspace is the one
`carbonlink.store.migrate.upgrade` names, else the folder of a SQLite database file; a server
database migrated without a workspace keeps its paths, which are still read as before.

Revision ID: 0015_relative_paths
Revises: 0011_source_accounting
Create Date: 2026-12-07
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath

import sqlalchemy as sa
from alembic import context, op

revision: str = "0015_relative_paths"
down_revision: str | None = "0014_quarantine_owner"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_reports = sa.table(
    "monitoring_reports", sa.column("id", sa.Integer), sa.column("outputs", sa.Text)
)


def _workspace(bind: sa.Connection) -> Path | None:
    named = context.config.attributes.get("workspace")
    if named is not None:
        return Path(os.path.abspath(named))
    database = bind.engine.url.database
    if bind.dialect.name == "sqlite" and database and database != ":memory:":
        return Path(os.path.abspath(database)).parent
    return None


def _relative(stored: str, root: Path) -> str:
    path = Path(stored)
    if not path.is_absolute():
        return stored
    if path.is_relative_to(root):
        return path.relative_to(root).as_posix()
    if root.parent not in (root, Path(root.anchor)) and path.is_relative_to(root.parent):
        return (PurePosixPath("..") / path.relative_to(root.parent).as_posix()).as_posix()
    return stored


def _absolute(stored: str, root: Path) -> str:
    path = Path(stored)
    return stored if path.is_absolute() else os.path.normpath(root / path)


def _rewrite(change: Callable[[str, Path], str]) -> None:
    bind = op.get_bind()
    root = _workspace(bind)
    if root is None:
        return
    rows = bind.execute(sa.select(_reports.c.id, _reports.c.outputs)).all()
    for row_id, text in rows:
        outputs = json.loads(text)
        if not isinstance(outputs, dict):
            continue
        rewritten = {
            label: change(value, root) if isinstance(value, str) else value
            for label, value in outputs.items()
        }
        if rewritten != outputs:
            bind.execute(
                _reports.update()
                .where(_reports.c.id == row_id)
                .values(outputs=json.dumps(rewritten, ensure_ascii=False))
            )


def upgrade() -> None:
    _rewrite(_relative)


def downgrade() -> None:
    _rewrite(_absolute)
