"""Alert rules evaluated as readings arrive: a sink that stores first, then checks the rules.

`AlertingSink` wraps the store (or any `ReadingSink`) a collector writes to. Each batch is stored
first — nothing is lost if a rule raises — and then the rule engine sees the readings. A
QoS-1 redelivery or a late reading older than what the engine already saw for that meter is
stored but not evaluated again, so redeliveries never open an alert twice; its data still counts
in every later accounting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC

import numpy as np

from carbonlink.ingest.base import Reading, ReadingSink, Rejected
from carbonlink.monitor.rules import AlertEvent, RuleEngine


class AlertingSink:
    """A `ReadingSink` that evaluates alert rules on every batch after storing it."""

    def __init__(
        self,
        inner: ReadingSink,
        engine: RuleEngine,
        on_events: Callable[[list[AlertEvent]], None],
    ) -> None:
        self.inner = inner
        self.engine = engine
        self.on_events = on_events
        self.evaluated = 0

    def add_readings(self, readings: Iterable[Reading]) -> int:
        batch = list(readings)
        new = self.inner.add_readings(batch)
        watched = [r for r in batch if r.meter_id in self.engine.meter_ids]
        if watched:
            meter = self.engine.meter_index(r.meter_id for r in watched)
            ts = np.array(
                [r.ts.astimezone(UTC).replace(tzinfo=None) for r in watched],
                dtype="datetime64[ns]",
            )
            value = np.fromiter((r.value for r in watched), dtype=np.float64, count=len(watched))
            fresh = self.engine.is_new(meter, ts)
            if fresh.any():
                self.evaluated += int(fresh.sum())
                events = self.engine.evaluate(meter[fresh], ts[fresh], value[fresh])
                if events:
                    self.on_events(events)
        return new

    def quarantine(self, rejected: Iterable[Rejected]) -> int:
        return self.inner.quarantine(rejected)
