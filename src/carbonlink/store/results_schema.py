"""Tables of computed results: inventory runs with their lineage lines, and monitoring alerts.

They live on their own ``results_metadata``; the Alembic revision ``0006_inventories`` creates
them. An inventory run is what the accounting engine computed for one organization, period and
GWP set; each of its lines keeps the activity and the factor (with its citation) it came from,
so the dashboard shows the engine's numbers and can explain every one of them after a restart.

Beside the results, the revision ``0011_source_accounting`` adds the service's accounting
configuration: the scope and emission factor given to each source through the API, the alert
rules an organization checks its posted readings against, and on each alert the rule's kind and
limits (``detail``) from which its message is worded in the reader's language.
"""

from __future__ import annotations

import sqlalchemy as sa

from carbonlink.store.schema import NAMING_CONVENTION, UtcTimestamp

results_metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

ALERT_STATUS_CHECK = "status IN ('open','acknowledged','closed')"

inventories = sa.Table(
    "inventories",
    results_metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("organization_id", sa.String(64), nullable=False, index=True),
    sa.Column("title", sa.Text, nullable=False, comment="organization named in the document"),
    sa.Column("period_start", sa.String(10), nullable=False),
    sa.Column("period_end", sa.String(10), nullable=False),
    sa.Column("gwp_set", sa.String(8), nullable=False),
    sa.Column("settings_hash", sa.String(64), nullable=False, comment="sha256 of the input"),
    sa.Column("totals", sa.Text, nullable=False, comment="JSON: t CO2e per scope key"),
    sa.Column("created_at", UtcTimestamp, nullable=False),
)

inventory_lines = sa.Table(
    "inventory_lines",
    results_metadata,
    sa.Column(
        "inventory_id",
        sa.ForeignKey("inventories.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("line_no", sa.Integer, nullable=False),
    sa.Column("facility", sa.String(64), nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("scope", sa.String(16), nullable=False, comment="1, 2_location, 2_market, 3, …"),
    sa.Column("gas", sa.String(32), nullable=False),
    sa.Column("method", sa.String(32)),
    sa.Column("tco2e", sa.Float, nullable=False),
    sa.Column("activity_id", sa.Text),
    sa.Column("activity_quantity", sa.Float),
    sa.Column("activity_unit", sa.String(32)),
    sa.Column("factor_id", sa.Text),
    sa.Column("factor_version", sa.String(32)),
    sa.Column("factor_value", sa.Float),
    sa.Column("factor_unit", sa.String(32)),
    sa.Column("factor_source", sa.Text),
    sa.Column("lineage", sa.Text, nullable=False, comment="JSON: the engine's whole line"),
    sa.PrimaryKeyConstraint("inventory_id", "line_no"),
)

alerts = sa.Table(
    "alerts",
    results_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("organization_id", sa.String(64), nullable=False),
    sa.Column("rule_id", sa.String(64), nullable=False),
    sa.Column("meter_id", sa.String(64), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="open"),
    sa.Column("value", sa.Float),
    sa.Column("opened_at", UtcTimestamp, nullable=False),
    sa.Column("acknowledged_at", UtcTimestamp),
    sa.Column("acknowledged_by", sa.String(254)),
    sa.Column("closed_at", UtcTimestamp),
    sa.Column(
        "detail",
        sa.Text,
        comment="JSON: the rule's kind and limits, to word the message in the reader's language",
    ),
    sa.CheckConstraint(ALERT_STATUS_CHECK, name="status"),
    sa.Index("ix_alerts_organization_id_status", "organization_id", "status"),
)

monitoring_reports = sa.Table(
    "monitoring_reports",
    results_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("organization_id", sa.String(64), nullable=False, index=True),
    sa.Column("report", sa.Text, nullable=False, comment="JSON of monitor.demo.monitoring_report"),
    sa.Column("outputs", sa.Text, nullable=False, comment="JSON: label → file written beside it"),
    sa.Column("created_at", UtcTimestamp, nullable=False),
)

monitoring_plans = sa.Table(
    "monitoring_plans",
    results_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("organization_id", sa.String(64), nullable=False),
    sa.Column("facility_id", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("replaces", sa.String(64), comment="content hash of the previous version"),
    sa.Column("template_id", sa.String(64), nullable=False),
    sa.Column("plan", sa.Text, nullable=False, comment="JSON: MonitoringPlan.model_dump(json)"),
    sa.Column("created_at", UtcTimestamp, nullable=False),
    sa.Column("created_by", sa.String(254), nullable=False),
    sa.UniqueConstraint(
        "organization_id", "facility_id", "version", name="uq_monitoring_plans_facility_version"
    ),
    # Two organizations may hold an identical plan; within one, a plan is saved once.
    sa.UniqueConstraint(
        "organization_id", "content_hash", name="uq_monitoring_plans_organization_content_hash"
    ),
)

source_accounting = sa.Table(
    "source_accounting",
    results_metadata,
    sa.Column("source_id", sa.String(64), primary_key=True),
    sa.Column("organization_id", sa.String(64), nullable=False, index=True),
    sa.Column("scope", sa.Integer, nullable=False),
    sa.Column("factor_co2e_t_per_unit", sa.Float, comment="t CO2e per unit of activity"),
    sa.Column("factor_activity_unit", sa.String(32)),
    sa.Column("factor_source", sa.Text, comment="citation of the factor"),
    sa.Column("factor_name", sa.Text),
    sa.Column("updated_at", UtcTimestamp, nullable=False),
    sa.CheckConstraint("scope IN (1, 2, 3)", name="scope"),
)

alert_rules = sa.Table(
    "alert_rules",
    results_metadata,
    sa.Column("organization_id", sa.String(64), nullable=False),
    sa.Column("rule_id", sa.String(64), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("rule", sa.Text, nullable=False, comment="JSON: monitor.rules.AlertRule"),
    sa.Column("updated_at", UtcTimestamp, nullable=False),
    sa.PrimaryKeyConstraint("organization_id", "rule_id"),
)

quarantine_owners = sa.Table(
    "quarantine_owners",
    results_metadata,
    sa.Column(
        "quarantine_id",
        sa.Integer,
        primary_key=True,
        autoincrement=False,
        comment="id of the quarantined record",
    ),
    sa.Column("organization_id", sa.String(64), nullable=False, index=True),
)
"""The organization whose caller sent each quarantined record (revision ``0014_quarantine_owner``).

Its rows are read by this exact key: the ``org:<id>:`` prefix of ``source_ref`` says the same to
a person, but as a pattern it would let ``org_b`` match ``org-b``.
"""

# Revision ``0016_app_operations``: what the web app sets and runs -------------------------------
alert_channels = sa.Table(
    "alert_channels",
    results_metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("organization_id", sa.String(64), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column(
        "config",
        sa.Text,
        nullable=False,
        comment="JSON: webhook url, or SMTP host, port, sender, recipients, user, STARTTLS",
    ),
    sa.Column(
        "secret",
        sa.Text,
        comment="webhook: the HMAC key the receiver checks; e-mail: the SMTP password; sealed "
        "under the service key ('v1:' + base64url(nonce, AES-256-GCM ciphertext), "
        "carbonlink.store.sealing); a plain value from before sealing is sealed at start-up",
    ),
    sa.Column("min_severity", sa.String(16), nullable=False, server_default="warning"),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("updated_at", UtcTimestamp, nullable=False),
    sa.Column("updated_by", sa.String(254), nullable=False),
    sa.CheckConstraint("kind IN ('email','webhook')", name="kind"),
)
"""Where the organization's alerts are sent: signed webhooks and e-mail over SMTP."""

alert_notes = sa.Table(
    "alert_notes",
    results_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("alert_id", sa.Integer, nullable=False, index=True),
    sa.Column("organization_id", sa.String(64), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("comment", sa.Text, nullable=False),
    sa.Column("assignee", sa.String(32), comment="id of the user the alert is handed to"),
    sa.Column("author", sa.String(254), nullable=False),
    sa.Column("created_at", UtcTimestamp, nullable=False),
)
"""An alert's history beside its opening and closing: acknowledgements with comment and assignee."""

emission_targets = sa.Table(
    "emission_targets",
    results_metadata,
    sa.Column("organization_id", sa.String(64), nullable=False),
    sa.Column("target_id", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("base_year", sa.Integer, nullable=False),
    sa.Column("base_tco2e", sa.Float, nullable=False),
    sa.Column("target_year", sa.Integer, nullable=False),
    sa.Column("reduction_pct", sa.Float, nullable=False, comment="cut by the target year, %"),
    sa.Column("pathway", sa.String(16), nullable=False, comment="linear or constant_rate"),
    sa.Column("scopes", sa.String(64), nullable=False, comment="scope keys joined by '+'"),
    sa.Column("boundary", sa.Text, nullable=False, comment="the boundary in the owner's words"),
    sa.Column("updated_at", UtcTimestamp, nullable=False),
    sa.Column("updated_by", sa.String(254), nullable=False),
    sa.PrimaryKeyConstraint("organization_id", "target_id"),
)
"""Emission targets an organization declares in the app (base, target year, pathway, boundary)."""

report_jobs = sa.Table(
    "report_jobs",
    results_metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("organization_id", sa.String(64), nullable=False, index=True),
    sa.Column("report", sa.String(32), nullable=False),
    sa.Column("period", sa.String(32), nullable=False),
    sa.Column("format", sa.String(8), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("progress", sa.Integer, nullable=False, server_default="0"),
    sa.Column("step", sa.Text, comment="what the job is doing now"),
    sa.Column("error", sa.Text),
    sa.Column("file", sa.Text, comment="the written file, relative to the workspace"),
    sa.Column("receipt", sa.Text, comment="its ledger receipt, relative to the workspace"),
    sa.Column("ledger_index", sa.Integer),
    sa.Column("created_by", sa.String(254), nullable=False),
    sa.Column("created_at", UtcTimestamp, nullable=False),
    sa.Column("finished_at", UtcTimestamp),
    sa.Column("updated_at", UtcTimestamp, comment="the job's last progress record"),
    sa.CheckConstraint("status IN ('queued','running','done','failed')", name="status"),
)
"""Reports generated on demand: a job per request, its progress, the file and its receipt."""
