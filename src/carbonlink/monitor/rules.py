"""Alert rules evaluated on live readings, batch by batch, with one open alert per condition.

A rule is checked as readings arrive (each batch a collector stores), not by a nightly job. The
engine keeps, per meter, the last reading it has seen and, per (rule, meter), whether the
condition is currently true. An alert opens on the reading where the condition becomes true and
closes on the first reading where it no longer holds, so a furnace that stays hot for a day gives
one alert, not ninety-six. Conditions are computed on whole arrays per rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from carbonlink.errors import InputError
from carbonlink.monitor.anomaly import SeasonalBaseline, hour_of_week

RuleKind = Literal["threshold", "rate_of_change", "above_baseline", "meter_offline"]


class RuleError(InputError):
    """An alert rule is invalid; raised when the rule is saved, not when data arrives."""


class AlertRule(BaseModel):
    """One alert rule on one meter (``meter_id='*'`` applies it to every meter)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    kind: RuleKind
    meter_id: str = Field(min_length=1)
    above: float | None = Field(default=None, description="threshold: alert when value > above")
    below: float | None = Field(default=None, description="threshold: alert when value < below")
    max_change_per_hour: float | None = Field(
        default=None, gt=0, description="rate_of_change: alert when |Δvalue| per hour exceeds it"
    )
    baseline_ratio: float | None = Field(
        default=None,
        gt=1.0,
        description="above_baseline: alert when value > ratio × the seasonal median",
    )
    offline_after: timedelta | None = Field(
        default=None, description="meter_offline: alert when no reading came for this long"
    )
    severity: Literal["info", "warning", "critical"] = "warning"

    @model_validator(mode="after")
    def _parameters_fit_kind(self) -> AlertRule:
        needed = {
            "threshold": self.above is not None or self.below is not None,
            "rate_of_change": self.max_change_per_hour is not None,
            "above_baseline": self.baseline_ratio is not None,
            "meter_offline": self.offline_after is not None
            and self.offline_after.total_seconds() > 0,
        }
        if not needed[self.kind]:
            raise ValueError(
                {
                    "threshold": "a threshold rule needs 'above' and/or 'below'",
                    "rate_of_change": "a rate_of_change rule needs 'max_change_per_hour' > 0",
                    "above_baseline": "an above_baseline rule needs 'baseline_ratio' > 1",
                    "meter_offline": "a meter_offline rule needs a positive 'offline_after'",
                }[self.kind]
            )
        if self.above is not None and self.below is not None and self.below >= self.above:
            raise ValueError(
                f"'below' ({self.below}) must be smaller than 'above' ({self.above}): "
                "no reading could ever be normal"
            )
        return self


def validate_rules(
    raw_rules: Iterable[Mapping[str, object]], known_meters: Iterable[str]
) -> list[AlertRule]:
    """Parse rules as a user saves them; every error names the rule and says what to fix."""
    meters = set(known_meters)
    rules: list[AlertRule] = []
    seen: set[str] = set()
    for position, raw in enumerate(raw_rules, start=1):
        label = str(raw.get("id") or f"rule #{position}")
        try:
            rule = AlertRule.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'rule'}: {e['msg']}" for e in exc.errors()
            )
            raise RuleError(
                problems, record=label, hint="correct the rule and save it again"
            ) from exc
        if rule.meter_id != "*" and rule.meter_id not in meters:
            raise RuleError(
                f"unknown meter {rule.meter_id!r}",
                record=label,
                hint="use the id of a meter of this facility, or '*' for all meters",
            )
        if rule.id in seen:
            raise RuleError("duplicate rule id", record=label, hint="give each rule its own id")
        seen.add(rule.id)
        rules.append(rule)
    return rules


@dataclass(frozen=True)
class AlertEvent:
    """An alert opening or closing on one meter."""

    rule_id: str
    meter_id: str
    action: Literal["opened", "closed"]
    ts: np.datetime64
    value: float
    severity: str
    message: str


@dataclass
class RuleEngine:
    """Evaluates rules on batches of readings; holds the per-meter state between batches."""

    rules: Sequence[AlertRule]
    meters: Sequence[str]
    baselines: Mapping[str, SeasonalBaseline] = field(default_factory=dict)
    _index: dict[str, int] = field(init=False)
    _last_ts: npt.NDArray[np.datetime64] = field(init=False)
    _last_value: npt.NDArray[np.float64] = field(init=False)
    _open: dict[str, npt.NDArray[np.bool_]] = field(init=False)
    _targets: dict[str, npt.NDArray[np.bool_]] = field(init=False)
    _expected: dict[str, npt.NDArray[np.float64]] = field(init=False)

    def __post_init__(self) -> None:
        self._index = {m: i for i, m in enumerate(self.meters)}
        n = len(self.meters)
        # Seasonal medians as one (meter × hour-of-week) table per time zone, so a batch needs
        # one time-zone conversion per zone instead of one per meter.
        self._expected = {}
        for meter_id, baseline in self.baselines.items():
            if baseline.timezone not in self._expected:
                self._expected[baseline.timezone] = np.full((n, baseline.median.size), np.nan)
            self._expected[baseline.timezone][self._index[meter_id]] = baseline.median
        self._last_ts = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        self._last_value = np.full(n, np.nan)
        self._open = {r.id: np.zeros(n, dtype=np.bool_) for r in self.rules}
        self._targets = {}
        for rule in self.rules:
            mask = np.ones(n, dtype=np.bool_)
            if rule.meter_id != "*":
                mask[:] = False
                mask[self._index[rule.meter_id]] = True
            self._targets[rule.id] = mask

    @property
    def meter_ids(self) -> dict[str, int]:
        """Meter id → position, for the meters this engine watches."""
        return self._index

    def is_new(
        self, meter: npt.NDArray[np.int64], ts: npt.NDArray[np.datetime64]
    ) -> npt.NDArray[np.bool_]:
        """Readings later than the last one evaluated for their meter (redeliveries are not)."""
        last = self._last_ts[meter]
        return np.isnat(last) | (ts.astype("datetime64[ns]") > last)

    def meter_index(self, meter_ids: Iterable[str]) -> npt.NDArray[np.int64]:
        """Positions of meter ids in this engine (raises on an unknown meter)."""
        try:
            return np.fromiter((self._index[m] for m in meter_ids), dtype=np.int64)
        except KeyError as exc:
            raise RuleError(f"reading for unknown meter {exc.args[0]!r}") from exc

    def open_alerts(self) -> list[tuple[str, str]]:
        """(rule id, meter id) of every alert open now."""
        return [
            (rule_id, self.meters[int(i)])
            for rule_id, state in self._open.items()
            for i in np.flatnonzero(state)
        ]

    def evaluate(
        self,
        meter: npt.NDArray[np.int64],
        ts: npt.NDArray[np.datetime64],
        value: npt.NDArray[np.float64],
    ) -> list[AlertEvent]:
        """Check one batch of readings (any order) and return the alerts it opens or closes."""
        ts = ts.astype("datetime64[ns]")
        order = np.lexsort((ts, meter))
        meter, ts, value = meter[order], ts[order], np.asarray(value, dtype=np.float64)[order]
        first = np.ones(len(meter), dtype=np.bool_)
        first[1:] = meter[1:] != meter[:-1]
        prev_ts = np.where(first, self._last_ts[meter], np.roll(ts, 1))
        prev_value = np.where(first, self._last_value[meter], np.roll(value, 1))
        last = np.ones(len(meter), dtype=np.bool_)
        last[:-1] = first[1:]

        slots = {tz: hour_of_week(ts, tz) for tz in self._expected}
        events: list[AlertEvent] = []
        for rule in self.rules:
            applies = self._targets[rule.id][meter]
            if not applies.any():
                continue
            condition = self._condition(rule, meter, slots, ts, value, prev_ts, prev_value)
            condition &= applies
            if rule.kind == "meter_offline":
                events.extend(self._gaps(rule, meter, ts, value, prev_ts, applies))
            state_before = self._open[rule.id][meter]
            previous = np.where(first, state_before, np.roll(condition, 1))
            # Readings of meters the rule does not watch keep their state untouched.
            previous &= applies
            if rule.kind == "meter_offline":
                # _gaps() already reported the gaps; only alerts opened by tick() close here.
                previous &= first
            for i in np.flatnonzero(condition != previous):
                action: Literal["opened", "closed"] = "opened" if condition[i] else "closed"
                events.append(self._event(rule, int(meter[i]), ts[i], float(value[i]), action))
            ends = last & applies
            self._open[rule.id][meter[ends]] = condition[ends]
        self._last_ts[meter[last]] = ts[last]
        self._last_value[meter[last]] = value[last]
        events.sort(key=lambda e: (e.ts, e.rule_id, e.meter_id))
        return events

    def tick(self, now: np.datetime64) -> list[AlertEvent]:
        """Open meter-offline alerts for meters silent past their limit (called on a timer)."""
        now = now.astype("datetime64[ns]")
        events: list[AlertEvent] = []
        for rule in self.rules:
            if rule.kind != "meter_offline" or rule.offline_after is None:
                continue
            limit = np.timedelta64(int(rule.offline_after.total_seconds() * 1e9), "ns")
            silent = self._targets[rule.id] & ~np.isnat(self._last_ts)
            silent &= (now - self._last_ts) > limit
            for i in np.flatnonzero(silent & ~self._open[rule.id]):
                events.append(self._event(rule, int(i), now, float(self._last_value[i]), "opened"))
            self._open[rule.id] |= silent
        return events

    def _condition(
        self,
        rule: AlertRule,
        meter: npt.NDArray[np.int64],
        slots: dict[str, npt.NDArray[np.int64]],
        ts: npt.NDArray[np.datetime64],
        value: npt.NDArray[np.float64],
        prev_ts: npt.NDArray[np.datetime64],
        prev_value: npt.NDArray[np.float64],
    ) -> npt.NDArray[np.bool_]:
        if rule.kind == "threshold":
            condition = np.zeros(len(value), dtype=np.bool_)
            if rule.above is not None:
                condition |= value > rule.above
            if rule.below is not None:
                condition |= value < rule.below
            return condition
        if rule.kind == "rate_of_change":
            hours = (ts - prev_ts) / np.timedelta64(1, "h")
            with np.errstate(invalid="ignore", divide="ignore"):
                rate = np.abs(value - prev_value) / hours
            return np.nan_to_num(rate, nan=0.0, posinf=0.0) > (rule.max_change_per_hour or 0.0)
        if rule.kind == "above_baseline":
            condition = np.zeros(len(value), dtype=np.bool_)
            for timezone, table in self._expected.items():
                expected = table[meter, slots[timezone]]
                with np.errstate(invalid="ignore"):
                    condition |= value > (rule.baseline_ratio or 1.0) * expected
            return condition
        # meter_offline: any reading means the meter is online; the silence is found by
        # tick() or, for a gap inside the data, by _gaps().
        return np.zeros(len(value), dtype=np.bool_)

    def _gaps(
        self,
        rule: AlertRule,
        meter: npt.NDArray[np.int64],
        ts: npt.NDArray[np.datetime64],
        value: npt.NDArray[np.float64],
        prev_ts: npt.NDArray[np.datetime64],
        applies: npt.NDArray[np.bool_],
    ) -> list[AlertEvent]:
        """A silence longer than the limit between two readings: opened and closed at once."""
        assert rule.offline_after is not None
        limit = np.timedelta64(int(rule.offline_after.total_seconds() * 1e9), "ns")
        with np.errstate(invalid="ignore"):
            gap = applies & ~np.isnat(prev_ts) & ((ts - prev_ts) > limit)
        already_open = self._open[rule.id][meter]
        events = []
        for i in np.flatnonzero(gap):
            if not already_open[i]:
                opened_at = prev_ts[i] + limit
                events.append(self._event(rule, int(meter[i]), opened_at, np.nan, "opened"))
                events.append(self._event(rule, int(meter[i]), ts[i], float(value[i]), "closed"))
        return events

    def _event(
        self,
        rule: AlertRule,
        meter: int,
        ts: np.datetime64,
        value: float,
        action: Literal["opened", "closed"],
    ) -> AlertEvent:
        meter_id = self.meters[meter]
        if rule.kind == "threshold":
            describe = f"value {value:g} outside [{rule.below}, {rule.above}]"
        elif rule.kind == "rate_of_change":
            describe = f"change faster than {rule.max_change_per_hour} per hour"
        elif rule.kind == "above_baseline":
            describe = f"value {value:g} above {rule.baseline_ratio} × seasonal median"
        else:
            describe = f"no reading for more than {rule.offline_after}"
        message = f"{meter_id}: {describe}" if action == "opened" else f"{meter_id}: back to normal"
        return AlertEvent(rule.id, meter_id, action, ts, value, rule.severity, message)
