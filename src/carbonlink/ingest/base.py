"""The canonical reading every adapter emits, and the interfaces between readers and the store.

One reader per source kind (CSV, XLSX, HTTP batch, MQTT, Sparkplug B, OPC UA) turns what it
receives into `RawRecord` (the bytes as received, for storage or quarantine) and `Reading`
(the parsed value). A `ReadingSink` stores both; the store implements it, and tests use the
in-memory `MemorySink`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Reading:
    """One value from one meter at one instant (UTC), as received."""

    meter_id: str
    ts: datetime
    value: float
    unit: str
    quality: str = "good"
    batch_id: str | None = None
    source_ref: str | None = None

    @property
    def key(self) -> tuple[str, datetime]:
        """Natural key: a second copy of the same (meter, timestamp) changes nothing."""
        return (self.meter_id, self.ts)


@dataclass(frozen=True, slots=True)
class Rejected:
    """A received record that could not become a reading, kept with the reason."""

    raw: bytes
    reason: str
    source_ref: str
    meter_id: str | None = None
    line: int | None = None


class Reader(Protocol):
    """A source of readings (a file, a stream)."""

    def __iter__(self) -> Iterator[Reading | Rejected]: ...


class ReadingSink(Protocol):
    """Where readers put what they receive. Implementations must be idempotent on the key."""

    def add_readings(self, readings: Iterable[Reading]) -> int:
        """Store readings; return how many were new."""
        ...

    def quarantine(self, rejected: Iterable[Rejected]) -> int:
        """Store rejected records with their reasons; return how many."""
        ...


@runtime_checkable
class MessageSetSink(ReadingSink, Protocol):
    """A sink that also takes a stream collector's flush whole: the raw messages received, in
    order, with the readings and rejected records made of them (one import batch, e.g. one
    recorded in the ledger with the hash of the message set)."""

    def add_message_set(
        self,
        kind: str,
        source_ref: str,
        messages: Sequence[bytes],
        readings: Sequence[Reading],
        rejected: Sequence[Rejected],
    ) -> tuple[int, int]:
        """Store one flush; return (new readings, newly quarantined records)."""
        ...


@dataclass
class MemorySink:
    """In-memory sink for tests: keeps one reading per key, first write wins."""

    readings: dict[tuple[str, datetime], Reading] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)

    def add_readings(self, readings: Iterable[Reading]) -> int:
        new = 0
        for reading in readings:
            if reading.key not in self.readings:
                self.readings[reading.key] = reading
                new += 1
        return new

    def quarantine(self, rejected: Iterable[Rejected]) -> int:
        before = len(self.rejected)
        self.rejected.extend(rejected)
        return len(self.rejected) - before
