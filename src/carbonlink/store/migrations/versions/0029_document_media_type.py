"""Kept documents take media types of any registered length: the XLSX type alone is 65
characters, over the 64 the column held (RFC 6838 allows 127 for the type and for the subtype).

Revision ID: 0029_document_media_type
Revises: 0020_cets_operations
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029_document_media_type"
down_revision: str | None = "0020_cets_operations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.alter_column(
            "media_type", existing_type=sa.String(64), type_=sa.String(255), existing_nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.alter_column(
            "media_type", existing_type=sa.String(255), type_=sa.String(64), existing_nullable=False
        )
