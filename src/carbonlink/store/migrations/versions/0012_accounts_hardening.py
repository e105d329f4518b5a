"""Accounts hardening: e-mail unique per organization, password resets, shared login limits.

- ``users``: an address is unique within its organization only (``uq_users_organization_id_email``
  replaces the service-wide ``uq_users_email``), so no organization learns or blocks the
  addresses of another; ``must_change_password`` asks for a new password at the next log-in.
- ``password_resets``: one-time, expiring reset links (only the token's digest is stored).
- ``auth_throttle``: failed-attempt counters per key (client address, account, device) and
  fixed window, shared by every worker of the service and kept across restarts.

Revision ID: 0012_accounts_hardening
Revises: 0011_source_accounting
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_accounts_hardening"
down_revision: str | None = "0011_source_accounting"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_email", type_="unique")
        batch.create_unique_constraint(
            "uq_users_organization_id_email", ["organization_id", "email"]
        )
        batch.add_column(
            sa.Column(
                "must_change_password",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
                comment="the user must choose a new password at the next log-in",
            )
        )
    op.create_index("ix_users_email", "users", ["email"])
    op.create_table(
        "password_resets",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=True, comment="subject of the admin"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_password_resets_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_hash", name="pk_password_resets"),
    )
    op.create_index("ix_password_resets_user_id", "password_resets", ["user_id"])
    op.create_table(
        "auth_throttle",
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False, comment="epoch seconds"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False, comment="epoch seconds"),
        sa.PrimaryKeyConstraint("key", "window_start", name="pk_auth_throttle"),
    )
    op.create_index("ix_auth_throttle_expires_at", "auth_throttle", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_auth_throttle_expires_at", table_name="auth_throttle")
    op.drop_table("auth_throttle")
    op.drop_index("ix_password_resets_user_id", table_name="password_resets")
    op.drop_table("password_resets")
    op.drop_index("ix_users_email", table_name="users")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("must_change_password")
        batch.drop_constraint("uq_users_organization_id_email", type_="unique")
        batch.create_unique_constraint("uq_users_email", ["email"])
