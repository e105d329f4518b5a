"""Alert rules evaluated by ingest workers, in the transaction that stores the readings.

Several workers share one stream, so readings of one meter reach them in any order and a
worker holds no state of its own between batches. The rules are therefore evaluated on the
meter's *stored* series: for each meter a batch brought new readings to, the worker reads the
stored readings from two before the earliest new one to one after the latest, and runs the rule
engine over that stretch twice, with and without the new readings. The alert changes are the
events on a new reading, plus the differences on the reading just after one: a late reading can
open an episode its successor closes, end one early, or split one in two; and when it starts an
episode earlier than was known, the alert's opening moves to it (likewise a closing). The
changes are applied to the alerts table as the service does (`record_alert_events`: an
"opened" while the condition already has a live alert is the same alert).

Exactly once: a reading is new in exactly one committed transaction (the writer inserts with
``ON CONFLICT DO NOTHING``), and its alert changes are written in that transaction; a batch
redelivered after a crash finds its readings stored and evaluates nothing. On PostgreSQL each
transaction first takes a transaction-scoped advisory lock per watched meter, in sorted order,
so two workers evaluate one meter one after the other and each sees the other's readings.

Rules evaluated here: ``threshold`` and ``rate_of_change`` on the organization's saved rules
(the same ones readings posted to the API go through). ``above_baseline`` and ``meter_offline``
need a learnt baseline or a clock, not a stretch of readings; the worker leaves them to the
service and says so once at start.

Known limit: a rate-of-change condition depends on the previous reading, so a late reading
changes its successor's condition too; the transition two readings after a late one is not
revisited. Readings sent in time order per meter, as collectors do, are not affected.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from carbonlink.monitor.rules import AlertEvent, AlertRule, RuleEngine
from carbonlink.store import schema as t
from carbonlink.store.batch_writer import NewReadings
from carbonlink.store.results import alert_detail
from carbonlink.store.results_schema import alert_rules, alerts
from carbonlink.store.schema import from_epoch_us

log = logging.getLogger(__name__)

EVALUATED_KINDS = frozenset({"threshold", "rate_of_change"})
_BEFORE = 2  # readings before the earliest new one: enough for a rate of change's state
LOCK_NAMESPACE = 0x43_4C_41  # "CLA": keeps these advisory keys apart from other users'


def _us(ts: np.datetime64) -> int:
    return int(ts.astype("datetime64[us]").astype(np.int64))


@dataclass(frozen=True)
class Move:
    """A transition a fresh reading takes over from the stored reading after it."""

    action: str
    from_us: int
    event: AlertEvent


@dataclass(frozen=True)
class WatchedRule:
    """A rule of an organization, on one meter."""

    organization_id: str
    rule: AlertRule


@dataclass
class StreamAlerts:
    """Loads the organizations' rules (re-read every ``refresh`` seconds) and evaluates them."""

    engine: Engine
    refresh: float = 5.0
    opened: int = 0
    _watch: dict[str, list[WatchedRule]] = field(default_factory=dict)
    _loaded: float = -1e18
    _warned: set[tuple[str, str]] = field(default_factory=set)

    def watched(self) -> dict[str, list[WatchedRule]]:
        """Meter id → the rules that watch it."""
        if time.monotonic() - self._loaded >= self.refresh:
            self._watch = self._load()
            self._loaded = time.monotonic()
        return self._watch

    def _load(self) -> dict[str, list[WatchedRule]]:
        owner_query = sa.select(t.meters.c.id, t.facilities.c.organization_id).join(
            t.facilities, t.facilities.c.id == t.meters.c.facility_id
        )
        with self.engine.connect() as conn:
            meters_of: dict[str, list[str]] = defaultdict(list)
            for meter_id, organization_id in conn.execute(owner_query):
                meters_of[organization_id].append(meter_id)
            saved = conn.execute(
                sa.select(alert_rules.c.organization_id, alert_rules.c.rule).order_by(
                    alert_rules.c.organization_id, alert_rules.c.position
                )
            ).all()
        watch: dict[str, list[WatchedRule]] = defaultdict(list)
        for organization_id, text in saved:
            rule = AlertRule.model_validate_json(text)
            if rule.kind not in EVALUATED_KINDS:
                if (organization_id, rule.id) not in self._warned:
                    self._warned.add((organization_id, rule.id))
                    log.warning(
                        "rule %s of %s is a %s rule: the service evaluates it, not the worker",
                        rule.id,
                        organization_id,
                        rule.kind,
                    )
                continue
            targets = meters_of[organization_id] if rule.meter_id == "*" else [rule.meter_id]
            for meter_id in targets:
                if meter_id in meters_of[organization_id]:
                    watch[meter_id].append(WatchedRule(organization_id, rule))
        return dict(watch)

    # --- hooks for `BatchWriter` ------------------------------------------------------------
    def lock(self, connection: Connection, meter_ids: Sequence[str]) -> None:
        """Serialise the evaluation of each watched meter of the batch across workers."""
        if connection.dialect.name != "postgresql":
            return  # SQLite has one writer at a time
        watched = self.watched()
        keys = [m for m in meter_ids if m in watched]
        if keys:
            connection.execute(
                sa.text(
                    "SELECT pg_advisory_xact_lock(:ns, hashtext(m)) "
                    "FROM unnest(CAST(:meters AS text[])) AS m ORDER BY hashtext(m), m"
                ),
                {"ns": LOCK_NAMESPACE, "meters": sorted(keys)},
            )

    def evaluate(self, connection: Connection, new: NewReadings) -> int:
        """Apply the alert changes the new readings make; return how many alerts opened."""
        watched = self.watched()
        by_meter: dict[str, list[int]] = defaultdict(list)
        for meter_id, ts_us, _value in new:
            if meter_id in watched:
                by_meter[meter_id].append(ts_us)
        opened = 0
        for meter_id in sorted(by_meter):
            fresh = np.array(sorted(by_meter[meter_id]), dtype=np.int64)
            series = self._stretch(connection, meter_id, int(fresh[0]), int(fresh[-1]))
            for watch in watched[meter_id]:
                events, moves = self._changes(watch.rule, meter_id, series, fresh)
                opened += self._apply(connection, watch, events, moves)
        self.opened += opened
        return opened

    @staticmethod
    def _stretch(
        connection: Connection, meter_id: str, first: int, last: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The stored (ts µs, value) of the meter from _BEFORE readings before ``first`` to one
        after ``last``, oldest first."""
        r = t.readings
        ts = sa.type_coerce(r.c.ts, sa.BigInteger)
        before = (
            sa.select(ts.label("ts"), r.c.value)
            .where(r.c.meter_id == meter_id, ts < first)
            .order_by(ts.desc())
            .limit(_BEFORE)
        )
        inside = sa.select(ts.label("ts"), r.c.value).where(
            r.c.meter_id == meter_id, ts >= first, ts <= last
        )
        after = (
            sa.select(ts.label("ts"), r.c.value)
            .where(r.c.meter_id == meter_id, ts > last)
            .order_by(ts)
            .limit(1)
        )
        rows = sorted(
            [tuple(row) for query in (before, inside, after) for row in connection.execute(query)]
        )
        stamps = np.array([row[0] for row in rows], dtype=np.int64)
        values = np.array([row[1] for row in rows], dtype=np.float64)
        return stamps, values

    @staticmethod
    def _events(
        rule: AlertRule, meter_id: str, stamps: np.ndarray, values: np.ndarray
    ) -> dict[tuple[int, str], AlertEvent]:
        """(ts µs, action) → event, over a stretch evaluated from a blank state."""
        if not len(stamps):
            return {}
        engine = RuleEngine([rule], [meter_id])
        events = engine.evaluate(
            np.zeros(len(stamps), dtype=np.int64), stamps.astype("datetime64[us]"), values
        )
        return {(_us(e.ts), e.action): e for e in events}

    @classmethod
    def _changes(
        cls,
        rule: AlertRule,
        meter_id: str,
        series: tuple[np.ndarray, np.ndarray],
        fresh: np.ndarray,
    ) -> tuple[list[AlertEvent], list[Move]]:
        """The alert changes the fresh readings make: events on them and on the reading after
        each (compared with that reading's events before they came), and transitions that a
        fresh reading moves from its follower to itself (an episode that starts, or ends,
        earlier than was known)."""
        stamps, values = series
        if not len(stamps):
            return [], []
        with_fresh = cls._events(rule, meter_id, stamps, values)
        old = ~np.isin(stamps, fresh)
        without = cls._events(rule, meter_id, stamps[old], values[old])
        fresh_set = set(fresh.tolist())
        position = np.searchsorted(stamps, fresh)
        follower_at = position + 1
        followers = {int(stamps[i]) for i in follower_at[follower_at < len(stamps)].tolist()}
        followers -= fresh_set
        events = {k: e for k, e in with_fresh.items() if k[0] in fresh_set}
        for key, event in with_fresh.items():
            if key[0] in followers and key not in without:
                events[key] = event
        moves: list[Move] = []
        for (ts, action), _event in sorted(without.items()):
            if ts not in followers or (ts, action) in with_fresh:
                continue
            # The fresh reading just before this follower took its transition over.
            earlier = stamps[(stamps < ts) & np.isin(stamps, fresh)]
            if len(earlier) and (int(earlier[-1]), action) in events:
                moves.append(Move(action, ts, events.pop((int(earlier[-1]), action))))
        return [events[k] for k in sorted(events)], moves

    @staticmethod
    def _move(connection: Connection, watch: WatchedRule, move: Move) -> bool:
        """Shift an alert's opening or closing from a follower to the fresh reading before it;
        False when no alert holds that time (then the event is applied as it is)."""
        mine = sa.and_(
            alerts.c.organization_id == watch.organization_id,
            alerts.c.rule_id == watch.rule.id,
            alerts.c.meter_id == move.event.meter_id,
        )
        at = from_epoch_us(_us(move.event.ts))
        if move.action == "opened":
            value = None if np.isnan(move.event.value) else float(move.event.value)
            done = connection.execute(
                alerts.update()
                .where(mine, alerts.c.opened_at == from_epoch_us(move.from_us))
                .values(opened_at=at, value=value, message=move.event.message)
            )
        else:
            done = connection.execute(
                alerts.update()
                .where(mine, alerts.c.closed_at == from_epoch_us(move.from_us))
                .values(closed_at=at)
            )
        return bool(done.rowcount)

    @classmethod
    def _apply(
        cls,
        connection: Connection,
        watch: WatchedRule,
        events: list[AlertEvent],
        moves: Sequence[Move] = (),
    ) -> int:
        rule = watch.rule
        unmoved = [m.event for m in moves if not cls._move(connection, watch, m)]
        events = sorted(events + unmoved, key=lambda e: (_us(e.ts), e.action == "opened"))
        opened = 0
        for event in events:
            at = from_epoch_us(_us(event.ts))
            live = sa.and_(
                alerts.c.organization_id == watch.organization_id,
                alerts.c.rule_id == rule.id,
                alerts.c.meter_id == event.meter_id,
                alerts.c.status != "closed",
            )
            existing = connection.execute(sa.select(alerts.c.id).where(live)).first()
            if event.action == "opened":
                if existing is None:
                    connection.execute(
                        alerts.insert().values(
                            organization_id=watch.organization_id,
                            rule_id=rule.id,
                            meter_id=event.meter_id,
                            severity=event.severity,
                            message=event.message,
                            status="open",
                            value=None if np.isnan(event.value) else float(event.value),
                            opened_at=at,
                            detail=json.dumps(alert_detail(rule)),
                        )
                    )
                    opened += 1
            elif existing is not None:
                connection.execute(
                    alerts.update()
                    .where(alerts.c.id == existing.id)
                    .values(status="closed", closed_at=at)
                )
        return opened
