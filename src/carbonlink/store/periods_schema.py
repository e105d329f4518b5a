"""Tables of period close: an organization's reporting periods, their runs and comments.

They live on their own ``periods_metadata``; the Alembic revision ``0018_period_close`` creates
them. A period keeps the inventory document it is computed from and its current state (copied
from its newest run, so that refusing data for a locked period reads one indexed row). Every
computation is a run that is never deleted: drafts replaced by a newer computation are kept as
``superseded``, and a locked run reopened for restatement as ``restated``.
"""

from __future__ import annotations

import sqlalchemy as sa

from carbonlink.store.schema import NAMING_CONVENTION, UtcTimestamp

periods_metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

PERIOD_STATES = ("draft", "in_review", "approved", "locked")
RUN_STATES = (*PERIOD_STATES, "superseded", "restated")

periods = sa.Table(
    "periods",
    periods_metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("organization_id", sa.String(64), nullable=False, index=True),
    sa.Column("period_start", sa.String(10), nullable=False, comment="first day, YYYY-MM-DD"),
    sa.Column("period_end", sa.String(10), nullable=False, comment="last day, inclusive"),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("document", sa.Text, nullable=False, comment="inventory document as JSON"),
    sa.Column("state", sa.String(16), nullable=False, server_default="draft"),
    sa.Column("created_at", UtcTimestamp, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.CheckConstraint("state IN ('draft','in_review','approved','locked')", name="state"),
    sa.UniqueConstraint("organization_id", "period_start", "period_end", name="uq_periods_range"),
)

period_runs = sa.Table(
    "period_runs",
    periods_metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("period_id", sa.String(32), nullable=False, index=True),
    sa.Column("number", sa.Integer, nullable=False, comment="1 for the first run of the period"),
    sa.Column("inventory_id", sa.String(32), nullable=False, comment="the saved computation"),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text, comment="why the period was reopened (restatement runs)"),
    sa.Column("computed_by", sa.Text, nullable=False),
    sa.Column("computed_at", UtcTimestamp, nullable=False),
    sa.Column("submitted_by", sa.Text),
    sa.Column("submitted_by_id", sa.Text, comment="the submitter's subject, who may not approve"),
    sa.Column("submitted_at", UtcTimestamp),
    sa.Column("approved_by", sa.Text),
    sa.Column("approved_at", UtcTimestamp),
    sa.Column("locked_by", sa.Text),
    sa.Column("locked_at", UtcTimestamp),
    sa.Column("ledger_index", sa.BigInteger, comment="the approved run's ledger entry"),
    sa.Column("receipt_sha256", sa.String(64), comment="the kept JSON of the approved run"),
    sa.CheckConstraint(
        "state IN ('draft','in_review','approved','locked','superseded','restated')",
        name="state",
    ),
    sa.UniqueConstraint("period_id", "number", name="uq_period_runs_number"),
)

period_comments = sa.Table(
    "period_comments",
    periods_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("period_id", sa.String(32), nullable=False, index=True),
    sa.Column("run_id", sa.String(32), nullable=False),
    sa.Column("author", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", UtcTimestamp, nullable=False),
)
