"""Activity from meters: sum a meter's stored readings over an inventory's period.

An inventory source may say ``activity: {meter: <id>, unit: kWh}`` instead of a quantity. When
the inventory is accounted against a workspace, the meter's readings go through meter
processing (validate, estimate, edit) and the interval totals whose start lies in the period —
local days in the facility's time zone, both ends of the period inclusive — become the
quantity. Estimated intervals count, flagged with the rules that made them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from carbonlink.domain.inventory import Activity, Inventory
from carbonlink.domain.units import conversion_factor
from carbonlink.errors import InputError
from carbonlink.ingest.vee import derive_activity
from carbonlink.store.repository import Store


@dataclass(frozen=True)
class MeteredUse:
    """What a meter contributed to one source of an inventory."""

    facility: str
    source: str
    meter_id: str
    quantity: float
    unit: str
    days: int
    estimated_quantity: float
    rules: tuple[str, ...]


def has_metered_activity(inventory: Inventory) -> bool:
    """Whether any source takes its activity from a meter."""
    return any(
        source.activity is not None and source.activity.meter is not None
        for facility in inventory.facilities
        for source in facility.sources
    )


def resolve_metered_activity(
    inventory: Inventory, store: Store, *, save: bool = True
) -> tuple[Inventory, list[MeteredUse]]:
    """The inventory with every metered activity replaced by its summed quantity.

    ``save=False`` derives without storing the derived activity (for audits).
    """
    uses: list[MeteredUse] = []
    facilities = []
    for facility in inventory.facilities:
        sources = []
        for source in facility.sources:
            activity = source.activity
            if activity is None or activity.meter is None:
                sources.append(source)
                continue
            record = f"facility {facility.id}, source {source.id}"
            use = _sum_meter(store, activity, facility.timezone, inventory, record, save)
            uses.append(
                MeteredUse(
                    facility.id,
                    source.id,
                    activity.meter,
                    use[0],
                    activity.unit,
                    use[1],
                    use[2],
                    use[3],
                )
            )
            resolved = Activity(
                quantity=use[0],
                unit=activity.unit,
                id=activity.id or f"meter:{activity.meter}@{inventory.period.label}",
            )
            sources.append(source.model_copy(update={"activity": resolved}))
        facilities.append(facility.model_copy(update={"sources": tuple(sources)}))
    return inventory.model_copy(update={"facilities": tuple(facilities)}), uses


def _sum_meter(
    store: Store,
    activity: Activity,
    time_zone: str,
    inventory: Inventory,
    record: str,
    save: bool,
) -> tuple[float, int, float, tuple[str, ...]]:
    assert activity.meter is not None
    meter = store.meter(activity.meter)
    if meter is None:
        raise InputError(
            f"no meter {activity.meter!r} in the workspace",
            record=record,
            hint="import the meter's readings first (carbonlink ingest …) or fix the meter id",
        )
    derived = derive_activity(
        store, activity.meter, periods=("day",), time_zone=time_zone, save=save
    )
    start, end = inventory.period.start, inventory.period.end
    days = [
        day for day in derived.activity["day"] if start <= dt.date.fromisoformat(day.label) <= end
    ]
    if not days:
        raise InputError(
            f"meter {activity.meter!r} has no readings between {start} and {end}",
            record=record,
            hint="import the readings of the period, or give the activity as a quantity",
        )
    scale = conversion_factor(meter.unit, activity.unit, record=record)
    quantity = sum(day.quantity for day in days) * scale
    estimated = sum(day.estimated_quantity for day in days) * scale
    rules = tuple(sorted({rule for day in days for rule in day.rules}))
    return quantity, len(days), estimated, rules
