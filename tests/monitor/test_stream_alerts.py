"""Alert rules evaluated on the stored series by the ingest writer: the alerts do not depend on
the order in which readings arrive, nor on how they are split into batches.

The series, one meter, threshold "above 100": values 50 150 150 50 150 50 200 at quarter
hours 0..6. Worked by hand, in time order there are three episodes: opened at 1 (closed at 3),
opened at 4 (closed at 5), opened at 6 (still open). Any order of arrival, and any split into
batches, must give exactly these three alerts.
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from carbonlink.domain.metering import Facility, Meter, Organization
from carbonlink.ingest.base import Reading
from carbonlink.monitor.rules import AlertRule
from carbonlink.monitor.stream_alerts import StreamAlerts
from carbonlink.store import Store
from carbonlink.store.batch_writer import BatchWriter
from carbonlink.store.results import save_alert_rules
from carbonlink.store.results_schema import alerts

T0 = datetime(2026, 11, 1, tzinfo=UTC)
VALUES = [50.0, 150.0, 150.0, 50.0, 150.0, 50.0, 200.0]
Q = timedelta(minutes=15)
EXPECTED = [(T0 + 1 * Q, T0 + 3 * Q), (T0 + 4 * Q, T0 + 5 * Q), (T0 + 6 * Q, None)]


def setup(engine: sa.Engine) -> None:
    store = Store(engine)
    store.save_organization(Organization("org", "Org"))
    store.save_facility(Facility("f1", "org", "Mill", "UTC"))
    store.save_meter(Meter("EM-1", "interval", "kWh", facility_id="f1"))
    save_alert_rules(
        engine, "org", [AlertRule(id="hot", kind="threshold", meter_id="*", above=100)]
    )


def alerts_after(
    engine: sa.Engine, batches: list[list[int]]
) -> list[tuple[datetime, datetime | None]]:
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM readings"))
        conn.execute(alerts.delete())
    watcher = StreamAlerts(engine)
    writer = BatchWriter(engine, before=watcher.lock, after=watcher.evaluate)
    for batch in batches:
        writer.write([Reading("EM-1", T0 + i * Q, VALUES[i], "kWh") for i in batch], [])
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(alerts.c.opened_at, alerts.c.closed_at).order_by(alerts.c.opened_at)
        ).all()
    return [tuple(row) for row in rows]


def test_alerts_in_time_order(engine: sa.Engine) -> None:
    setup(engine)
    assert alerts_after(engine, [[i] for i in range(len(VALUES))]) == EXPECTED
    assert alerts_after(engine, [list(range(len(VALUES)))]) == EXPECTED


def test_alerts_do_not_depend_on_arrival_order_or_batches(engine: sa.Engine) -> None:
    setup(engine)
    rng = random.Random(20)
    orders = list(itertools.permutations(range(len(VALUES))))
    for order in rng.sample(orders, 25):
        cut = sorted(rng.sample(range(1, len(VALUES)), rng.randint(1, 4)))
        batches = [list(order[a:b]) for a, b in itertools.pairwise([0, *cut, len(VALUES)])]
        assert alerts_after(engine, batches) == EXPECTED, batches


def test_a_batch_written_twice_opens_nothing_more(engine: sa.Engine) -> None:
    setup(engine)
    batches = [[0, 1, 2], [3, 4, 5, 6]]
    assert alerts_after(engine, [*batches, *batches]) == EXPECTED
