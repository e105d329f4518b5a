"""Inventory activity summed from a meter's stored readings over the period, in local days."""

from datetime import UTC, datetime, timedelta

import pytest

from carbonlink.domain.engine import account
from carbonlink.domain.inventory import parse_inventory
from carbonlink.domain.metering import Meter
from carbonlink.errors import InputError
from carbonlink.ingest.base import Reading
from carbonlink.ingest.metered_activity import resolve_metered_activity
from carbonlink.store import Store

INVENTORY = """
organization: Test
period: {start: 2025-01-01, end: 2025-01-31}
jurisdiction: CN
facilities:
  - id: works
    timezone: Asia/Shanghai
    grid: CN-East
    sources:
      - id: power
        method: electricity
        activity: {meter: feeder, unit: MWh}
"""


def _hourly(store: Store, first: datetime, hours: int, kwh: float) -> None:
    store.save_meter(
        Meter(id="feeder", kind="interval", unit="kWh", time_zone="Asia/Shanghai", interval_s=3600)
    )
    store.add_readings(
        Reading("feeder", first + timedelta(hours=h + 1), kwh, "kWh") for h in range(hours)
    )


def test_metered_quantity_is_the_sum_over_local_days(store: Store) -> None:
    # Hourly end-stamped readings of 10 kWh from 2024-12-31 00:00 to 2025-02-01 24:00 Shanghai
    # time (UTC+8). January has 31 × 24 intervals inside the period: 7 440 kWh = 7.44 MWh.
    first = datetime(2024, 12, 30, 16, tzinfo=UTC)
    _hourly(store, first, 24 * 33, 10.0)
    inventory, uses = resolve_metered_activity(parse_inventory(INVENTORY), store)
    source = inventory.facilities[0].sources[0]
    assert source.activity is not None
    assert source.activity.quantity == pytest.approx(7.44)
    assert source.activity.id == "meter:feeder@2025-01-01/2025-01-31"
    [use] = uses
    assert use.days == 31 and use.estimated_quantity == 0.0
    # 7.44 MWh × 0.5500 t/MWh (East China grid 2023, the latest vintage not after 2025).
    result = account(inventory)
    assert result.totals()["scope2_location"] == pytest.approx(7.44 * 0.55)


def test_gaps_are_estimated_and_flagged(store: Store) -> None:
    first = datetime(2024, 12, 31, 16, tzinfo=UTC)  # 2025-01-01 00:00 local
    _hourly(store, first, 24 * 31, 10.0)
    with store.engine.begin() as connection:
        low = int((first + timedelta(hours=100)).timestamp() * 1e6)
        high = int((first + timedelta(hours=103)).timestamp() * 1e6)
        connection.exec_driver_sql(f"DELETE FROM readings WHERE ts > {low} AND ts <= {high}")
    _, [use] = resolve_metered_activity(parse_inventory(INVENTORY), store)
    assert use.estimated_quantity > 0
    assert use.rules
    assert use.quantity == pytest.approx(7.44, rel=0.01)


def test_unknown_meter_and_empty_period_say_what_to_do(store: Store) -> None:
    with pytest.raises(InputError, match="no meter 'feeder'") as info:
        resolve_metered_activity(parse_inventory(INVENTORY), store)
    assert info.value.record == "facility works, source power"
    _hourly(store, datetime(2023, 1, 1, tzinfo=UTC), 48, 1.0)
    with pytest.raises(InputError, match="no readings between 2025-01-01 and 2025-01-31"):
        resolve_metered_activity(parse_inventory(INVENTORY), store)


def test_accounting_a_metered_inventory_without_a_store_is_refused() -> None:
    with pytest.raises(InputError, match="account the file against the workspace"):
        account(parse_inventory(INVENTORY))


def test_quantity_and_meter_are_exclusive() -> None:
    text = INVENTORY.replace(
        "{meter: feeder, unit: MWh}", "{meter: feeder, quantity: 1, unit: MWh}"
    )
    with pytest.raises(InputError, match="either 'quantity' or 'meter'"):
        parse_inventory(text)
