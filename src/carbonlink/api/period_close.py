"""Computing a period's run from the organization's stored data, and what changed since the last.

The period's inventory document says where each source's activity comes from: a meter (the sum
of its stored readings over the period), a quantity, or, when activity values were entered by
hand for the source (``POST /api/v1/activity-entries``), the sum of those of the months in the
period, which replaces the document's quantity.
"""

from __future__ import annotations

from typing import Any

from carbonlink.api.deps import ServiceContext
from carbonlink.api.routes.inventory_reports import _check_meters
from carbonlink.api.security import Principal
from carbonlink.domain.inventory import Activity, Inventory
from carbonlink.domain.run_diff import LineChange, run_differences
from carbonlink.domain.units import conversion_factor
from carbonlink.store import Store, periods, results
from carbonlink.store.data_entry import activity_history


def run_changes(
    ctx: ServiceContext, organization_id: str, runs: list[periods.PeriodRun]
) -> list[LineChange]:
    """The current run against the previous one (an empty list for a first run)."""
    if len(runs) < 2:
        return []
    older = results.inventory_lines_of(ctx.engine, organization_id, runs[1].inventory_id)
    newer = results.inventory_lines_of(ctx.engine, organization_id, runs[0].inventory_id)
    return run_differences(older, newer)


def _month_in(month: str, start: str, end: str) -> bool:
    return start[:7] <= month <= end[:7]


def with_entered_activity(
    ctx: ServiceContext, organization_id: str, inventory: Inventory
) -> Inventory:
    """The inventory with each source's quantity replaced by its hand-entered monthly values.

    A source (stored as ``facility:source``, or under its own id) with current entries for
    months of the period takes their sum in the unit the document states; months outside the
    period do not count. Metered sources keep their meter.
    """
    current: dict[str, list[Any]] = {}
    history = activity_history(ctx.engine, organization_id)
    replaced = {e.supersedes for e in history if e.supersedes is not None}
    start, end = str(inventory.period.start), str(inventory.period.end)
    for entry in history:
        if entry.id not in replaced and _month_in(entry.period, start, end):
            current.setdefault(entry.source_id, []).append(entry)
    if not current:
        return inventory
    facilities = []
    for facility in inventory.facilities:
        sources = []
        for source in facility.sources:
            key = results.source_key(facility.id, source.id)
            entries = current.get(key) or current.get(source.id)
            if not entries or source.activity is None or source.activity.meter is not None:
                sources.append(source)
                continue
            unit = source.activity.unit
            quantity = sum(
                e.quantity * conversion_factor(e.unit, unit, record=f"activity entry {e.id}")
                for e in entries
            )
            activity = Activity(quantity=quantity, unit=unit, id=f"entered:{key}@{start}/{end}")
            sources.append(source.model_copy(update={"activity": activity}))
        facilities.append(facility.model_copy(update={"sources": tuple(sources)}))
    return inventory.model_copy(update={"facilities": tuple(facilities)})


def compute_run(
    ctx: ServiceContext, caller: Principal, period: periods.Period, reason: str | None = None
) -> str:
    """Compute the period from stored data, save the run and record it; return the run id."""
    from carbonlink.domain.engine import account
    from carbonlink.ingest.metered_activity import has_metered_activity, resolve_metered_activity

    inventory = Inventory.model_validate(period.document)
    where = f"period {period.period_start} – {period.period_end}"
    inventory = with_entered_activity(ctx, caller.organization_id, inventory)
    if has_metered_activity(inventory):
        _check_meters(ctx, caller.organization_id, inventory)
        inventory, _ = resolve_metered_activity(inventory, Store(ctx.engine), save=False)
    result = account(inventory, file=where)
    saved = results.save_inventory(
        ctx.engine, caller.organization_id, result.to_dict(), results.settings_hash(inventory)
    )
    return periods.add_run(ctx.engine, period, saved.id, caller.display_name, reason)
