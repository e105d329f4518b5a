"""Alert rules evaluated by ingest workers, in the transaction that stores the readings.

Several workers share one stream, so readings of one meter reach them in any order and a
worker holds no state of its own between batches. The rules are therefore evaluated on the
meter's *stored* series. For each meter a batch brought new readings to, the worker reads the
stored readings around them (two before, one after, widened while the reading at an edge still
meets a threshold, so that every episode they touch lies whole inside), finds the episodes of
that stretch (a run of readings meeting the rule: opened at its first reading, closed at the
first one after that does not), and brings the alerts table in line with them: an episode no
alert overlaps is a new alert; an alert whose episode now starts or ends at another reading
(a late reading extended it, or ended it early) gets those times; a late reading that splits
an episode closes the alert and opens a second one. The result is the same whatever the order
of arrival and however the readings are split into batches (tests/monitor/test_stream_alerts.py
checks orders drawn at random against the in-order result).

Exactly once: a reading is new in exactly one committed transaction (the writer inserts with
``ON CONFLICT DO NOTHING``), and its alert changes are written in that transaction; a batch
redelivered after a crash finds its readings stored and evaluates nothing. On PostgreSQL each
transaction first takes a transaction-scoped advisory lock for each watched meter (one of 256
buckets by hash, so that a batch of many meters takes few locks), in sorted order,
so two workers evaluate one meter one after the other and each sees the other's readings.

Rules evaluated here: ``threshold`` and ``rate_of_change`` on the organization's saved rules
(the same ones readings posted to the API go through). ``above_baseline`` and ``meter_offline``
need a learnt baseline or a clock, not a stretch of readings: they are not evaluated on this
path yet, and the worker says so once for each such rule.

Known limit: a rate-of-change condition depends on the previous reading, so the stretch
cannot be widened on its condition alone; a late reading two or more readings before the start
of a rate-of-change episode leaves that episode's alert as it was.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from carbonlink.monitor.rules import AlertEvent, AlertRule, RuleEngine
from carbonlink.store import schema as t
from carbonlink.store.batch_writer import NewReadings
from carbonlink.store.results import alert_detail
from carbonlink.store.results_schema import alert_rules, alerts
from carbonlink.store.schema import from_epoch_us, to_epoch_us

log = logging.getLogger(__name__)

EVALUATED_KINDS = frozenset({"threshold", "rate_of_change"})
_BEFORE = 2  # readings before the earliest new one: enough for a rate of change's state
LOCK_NAMESPACE = 0x43_4C_41  # "CLA": keeps these advisory keys apart from other users'
LOCK_BUCKETS = 256
"""Meters share this many advisory locks (by hash): a batch of many meters takes at most this
many, well inside PostgreSQL's lock table, and two meters of one bucket merely take turns."""
LOCK_KEY = f"(hashtext({{meter}}) & {LOCK_BUCKETS - 1})"
"""The SQL expression of a meter's lock key (its bucket)."""


_AROUND = """
SELECT b.m, x.ts, x.value
FROM unnest(CAST(:meters AS text[]), CAST(:lows AS bigint[]), CAST(:highs AS bigint[]))
     AS b(m, lo, hi)
CROSS JOIN LATERAL (
    (SELECT ts, value FROM readings WHERE meter_id = b.m AND ts < b.lo
     ORDER BY ts DESC LIMIT :before)
    UNION ALL
    (SELECT ts, value FROM readings WHERE meter_id = b.m AND ts BETWEEN b.lo AND b.hi)
    UNION ALL
    (SELECT ts, value FROM readings WHERE meter_id = b.m AND ts > b.hi ORDER BY ts LIMIT 1)
) AS x
"""
_WIDEN = 64  # readings read at a time when an episode runs past the stretch
_FOREVER = 2**62


def _us(ts: np.datetime64) -> int:
    return int(ts.astype("datetime64[us]").astype(np.int64))


def _maybe_us(instant: datetime | None) -> int | None:
    return None if instant is None else to_epoch_us(instant)


def _maybe_instant(us: int | None) -> datetime | None:
    return None if us is None else from_epoch_us(us)


def _holds(rule: AlertRule, value: float) -> bool:
    """Whether one reading meets a threshold rule (other kinds: unknown from one reading)."""
    if rule.kind != "threshold":
        return False
    return bool(
        (rule.above is not None and value > rule.above)
        or (rule.below is not None and value < rule.below)
    )


@dataclass
class Episode:
    """A run of readings meeting a rule: opened at one reading, closed at the first after it
    that does not (None: still open)."""

    opened: int
    closed: int | None
    event: AlertEvent


@dataclass
class StoredAlert:
    """An alert row as read for reconciling."""

    id: int
    opened: int
    closed: int | None
    status: str


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
    fresh: list[tuple[str, AlertEvent]] = field(default_factory=list)
    """(organization, event) of each alert the last evaluation opened: sent to the channels
    once its transaction has committed (`take_fresh`), never before."""

    def take_fresh(self) -> list[tuple[str, AlertEvent]]:
        """The alerts opened by the last evaluation, once; call after its commit."""
        fresh, self.fresh = self.fresh, []
        return fresh

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
                        "rule %s of %s is a %s rule: ingest workers do not evaluate it",
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
                    "SELECT pg_advisory_xact_lock(:ns, b) FROM (SELECT DISTINCT "
                    + LOCK_KEY.format(meter="m")
                    + " AS b FROM unnest(CAST(:meters AS text[])) AS m) AS k ORDER BY b"
                ),
                {"ns": LOCK_NAMESPACE, "meters": sorted(keys)},
            )

    def evaluate(self, connection: Connection, new: NewReadings) -> int:
        """Bring the alerts of the meters with new readings in line with their stored series;
        return how many alerts opened."""
        self.fresh = []  # a batch written again after a failure evaluates again
        watched = self.watched()
        by_meter: dict[str, list[int]] = defaultdict(list)
        for meter_id, ts_us, _value in new:
            if meter_id in watched:
                by_meter[meter_id].append(ts_us)
        spans = {m: (min(stamps), max(stamps)) for m, stamps in by_meter.items()}
        around = self._around(connection, spans)
        work = []
        for meter_id in sorted(by_meter):
            first, last = spans[meter_id]
            for watch in watched[meter_id]:
                stamps, values, known_start = self._stretch(
                    connection, watch.rule, meter_id, first, last, around.get(meter_id)
                )
                if len(stamps):
                    work.append((watch, meter_id, stamps, values, known_start))
        if not work:
            return 0
        stored = self._stored_alerts(
            connection,
            sorted({w[1] for w in work}),
            min(int(w[2][0]) for w in work),
            max(int(w[2][-1]) for w in work),
        )
        opened = 0
        for watch, meter_id, stamps, values, known_start in work:
            low, high = int(stamps[0]), int(stamps[-1])
            mine = [
                a
                for a in stored.get((watch.organization_id, watch.rule.id, meter_id), [])
                if a.opened <= high and (a.closed is None or a.closed > low)
            ]
            episodes = self._episodes(watch.rule, meter_id, stamps, values)
            opened += self._reconcile(
                connection, watch, meter_id, episodes, stamps, known_start, mine, self.fresh
            )
        self.opened += opened
        return opened

    @staticmethod
    def _fetch(connection: Connection, query: sa.Select[Any]) -> list[tuple[int, float]]:
        return [(int(ts), float(value)) for ts, value in connection.execute(query)]

    @staticmethod
    def _around(
        connection: Connection, spans: dict[str, tuple[int, int]]
    ) -> dict[str, list[tuple[int, float]]]:
        """PostgreSQL: the first stretch of every meter in one query (SQLite: none, each
        meter's stretch is read on its own)."""
        if connection.dialect.name != "postgresql" or not spans:
            return {}
        meters = sorted(spans)
        rows = connection.execute(
            sa.text(_AROUND),
            {
                "meters": meters,
                "lows": [spans[m][0] for m in meters],
                "highs": [spans[m][1] for m in meters],
                "before": _BEFORE,
            },
        )
        found: dict[str, list[tuple[int, float]]] = {m: [] for m in meters}
        for meter_id, ts, value in rows:
            found[meter_id].append((int(ts), float(value)))
        return found

    @classmethod
    def _stretch(
        cls,
        connection: Connection,
        rule: AlertRule,
        meter_id: str,
        first: int,
        last: int,
        initial: list[tuple[int, float]] | None = None,
    ) -> tuple[np.ndarray, np.ndarray, bool]:
        """The stored (ts µs, value) of the meter around the new readings, oldest first, and
        whether the first one is known to be outside any episode.

        From _BEFORE readings before ``first`` to one after ``last``, widened on either side
        while the reading at the edge meets the rule's condition, so that every episode the
        new readings touch lies whole inside (up to the meter's first or last reading).
        """
        r = t.readings
        ts = sa.type_coerce(r.c.ts, sa.BigInteger)
        pair = (ts.label("ts"), r.c.value)
        if initial is not None:
            rows = list(initial)
        else:
            rows = cls._fetch(
                connection,
                sa.select(*pair)
                .where(r.c.meter_id == meter_id, ts < first)
                .order_by(ts.desc())
                .limit(_BEFORE),
            )
            rows += cls._fetch(
                connection,
                sa.select(*pair).where(r.c.meter_id == meter_id, ts >= first, ts <= last),
            )
            rows += cls._fetch(
                connection,
                sa.select(*pair).where(r.c.meter_id == meter_id, ts > last).order_by(ts).limit(1),
            )
        rows.sort()
        while rows and _holds(rule, rows[-1][1]):
            more = cls._fetch(
                connection,
                sa.select(*pair)
                .where(r.c.meter_id == meter_id, ts > rows[-1][0])
                .order_by(ts)
                .limit(_WIDEN),
            )
            if not more:
                break
            rows += more
        known_start = False
        while rows:
            if not _holds(rule, rows[0][1]) and rule.kind == "threshold":
                known_start = True
                break
            more = cls._fetch(
                connection,
                sa.select(*pair)
                .where(r.c.meter_id == meter_id, ts < rows[0][0])
                .order_by(ts.desc())
                .limit(_WIDEN),
            )
            if not more:
                known_start = True  # the meter's first reading
                break
            rows = sorted(more) + rows
            if rule.kind != "threshold":
                break
        stamps = np.array([row[0] for row in rows], dtype=np.int64)
        values = np.array([row[1] for row in rows], dtype=np.float64)
        return stamps, values, known_start

    @staticmethod
    def _episodes(
        rule: AlertRule, meter_id: str, stamps: np.ndarray, values: np.ndarray
    ) -> list[Episode]:
        """The episodes of a stretch: opened at a reading, closed at a later one or open."""
        if not len(stamps):
            return []
        engine = RuleEngine([rule], [meter_id])
        events = engine.evaluate(
            np.zeros(len(stamps), dtype=np.int64), stamps.astype("datetime64[us]"), values
        )
        episodes: list[Episode] = []
        for event in events:
            if event.action == "opened":
                episodes.append(Episode(_us(event.ts), None, event))
            elif episodes and episodes[-1].closed is None:
                episodes[-1].closed = _us(event.ts)
        return episodes

    @staticmethod
    def _stored_alerts(
        connection: Connection, meter_ids: list[str], low: int, high: int
    ) -> dict[tuple[str, str, str], list[StoredAlert]]:
        """(organization, rule, meter) → its alerts overlapping [low, high], oldest first."""
        query = (
            sa.select(
                alerts.c.id,
                alerts.c.organization_id,
                alerts.c.rule_id,
                alerts.c.meter_id,
                alerts.c.opened_at,
                alerts.c.closed_at,
                alerts.c.status,
            )
            .where(
                alerts.c.meter_id.in_(meter_ids),
                alerts.c.opened_at <= from_epoch_us(high),
                sa.or_(alerts.c.closed_at.is_(None), alerts.c.closed_at > from_epoch_us(low)),
            )
            .order_by(alerts.c.opened_at, alerts.c.id)
        )
        found: dict[tuple[str, str, str], list[StoredAlert]] = defaultdict(list)
        for row in connection.execute(query):
            found[(row.organization_id, row.rule_id, row.meter_id)].append(
                StoredAlert(
                    row.id, to_epoch_us(row.opened_at), _maybe_us(row.closed_at), row.status
                )
            )
        return found

    @staticmethod
    def _reconcile(
        connection: Connection,
        watch: WatchedRule,
        meter_id: str,
        episodes: list[Episode],
        stamps: np.ndarray,
        known_start: bool,
        stored: list[StoredAlert],
        fresh: list[tuple[str, AlertEvent]],
    ) -> int:
        """Make the alerts table hold one alert per episode of the stretch; return how many
        were opened (inserted), each added to ``fresh``. ``stored``: the alerts of the rule and
        meter overlapping it."""
        rule = watch.rule
        edge = int(stamps[0])
        opened = 0
        for episode in episodes:
            end = episode.closed if episode.closed is not None else _FOREVER
            match = [
                a
                for a in stored
                if a.opened < end and (a.closed is None or a.closed > episode.opened)
            ]
            event = episode.event
            if not match:
                connection.execute(
                    alerts.insert().values(
                        organization_id=watch.organization_id,
                        rule_id=rule.id,
                        meter_id=meter_id,
                        severity=event.severity,
                        message=event.message,
                        status="open" if episode.closed is None else "closed",
                        value=None if np.isnan(event.value) else float(event.value),
                        opened_at=from_epoch_us(episode.opened),
                        closed_at=_maybe_instant(episode.closed),
                        detail=json.dumps(alert_detail(rule)),
                    )
                )
                fresh.append((watch.organization_id, event))
                opened += 1
                continue
            alert = match[0]
            changes: dict[str, Any] = {}
            # An episode at the stretch's first reading may have begun before it.
            start = episode.opened
            if episode.opened == edge and not known_start:
                start = min(alert.opened, episode.opened)
            if start != alert.opened:
                changes.update(
                    opened_at=from_epoch_us(start),
                    value=None if np.isnan(event.value) else float(event.value),
                    message=event.message,
                )
            if episode.closed != alert.closed:
                changes["closed_at"] = _maybe_instant(episode.closed)
                if episode.closed is None:
                    changes["status"] = "open" if alert.status == "closed" else alert.status
                else:
                    changes["status"] = "closed"
            if changes:
                connection.execute(alerts.update().where(alerts.c.id == alert.id).values(changes))
                alert.opened = start
                alert.closed = episode.closed
            # Two alerts found for one episode (a reading that joined two): keep the first.
            for extra in match[1:]:
                connection.execute(alerts.delete().where(alerts.c.id == extra.id))
                stored.remove(extra)
        return opened
