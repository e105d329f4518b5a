"""The message a collector puts on the ingest log: canonical readings in a versioned envelope.

With a durable ingest log (NATS JetStream) between the protocol adapters and the database
writers, a collector's flush becomes one message: a JSON object

    {"v": 1, "source": "mqtt://10.0.0.5:1883",
     "readings": [[meter_id, ts_us, value, unit, quality, source_ref], ...],
     "rejected": [[source_ref, meter_id, line, reason, raw_base64], ...]}

``ts_us`` is whole microseconds since 1970-01-01 UTC (as the store keeps it); ``rejected``
carries what the collector could not read, so that it is quarantined by the writer rather than
lost. The body is written canonically (sorted keys, no blanks), and the message id is the
SHA-256 of the body: a collector that sends the same flush twice (after a lost publish
acknowledgement) is recognised by JetStream's de-duplication window (``Nats-Msg-Id``), and the
writer, keyed on (meter, timestamp), ignores any copy that gets through all the same.

Decoding never raises: an unreadable message, or one element of it, becomes a `Rejected`
record naming the message and the element, with the reason.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from carbonlink.ingest.base import Reading, Rejected

VERSION = 1
MSG_ID_PREFIX = "cl1-"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# NATS refuses messages above its max_payload (1 MiB by default); ~80 bytes a reading.
MAX_READINGS_PER_MESSAGE = 5000

__all__ = [
    "Decoded",
    "Envelope",
    "decode",
    "encode",
    "message_id",
    "split",
]


@dataclass(frozen=True, slots=True)
class Envelope:
    """One message's body and its de-duplication id."""

    body: bytes
    msg_id: str
    readings: int
    rejected: int


@dataclass(slots=True)
class Decoded:
    """What one message held: readings to store and records to quarantine."""

    readings: list[Reading] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def _epoch_us(ts: datetime) -> int:
    if ts.tzinfo is None:
        raise ValueError(f"reading time {ts.isoformat()} has no time zone")
    return (ts - _EPOCH) // timedelta(microseconds=1)


def message_id(body: bytes) -> str:
    """The JetStream de-duplication id of a body: the same body always gets the same id."""
    return MSG_ID_PREFIX + hashlib.sha256(body).hexdigest()


def encode(
    readings: Sequence[Reading], rejected: Sequence[Rejected] = (), *, source: str = ""
) -> Envelope:
    """One envelope holding the readings and rejected records (see `split` for large flushes)."""
    document = {
        "v": VERSION,
        "source": source,
        "readings": [
            [r.meter_id, _epoch_us(r.ts), float(r.value), r.unit, r.quality, r.source_ref]
            for r in readings
        ],
        "rejected": [
            [
                r.source_ref,
                r.meter_id,
                r.line,
                r.reason,
                base64.b64encode(r.raw).decode("ascii"),
            ]
            for r in rejected
        ],
    }
    body = json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")
    return Envelope(body, message_id(body), len(readings), len(rejected))


def split(
    readings: Sequence[Reading],
    rejected: Sequence[Rejected] = (),
    *,
    source: str = "",
    size: int = MAX_READINGS_PER_MESSAGE,
) -> Iterator[Envelope]:
    """Envelopes of at most ``size`` readings each (the rejected records go in the first)."""
    if not readings:
        if rejected:
            yield encode([], rejected, source=source)
        return
    for start in range(0, len(readings), size):
        yield encode(readings[start : start + size], rejected if start == 0 else (), source=source)


def _reading(item: object, ref: str) -> Reading:
    if not isinstance(item, list) or len(item) != 6:
        raise ValueError("a reading must be [meter_id, ts_us, value, unit, quality, source_ref]")
    meter_id, ts_us, value, unit, quality, source_ref = item
    if not isinstance(meter_id, str) or not meter_id:
        raise ValueError(f"meter id {meter_id!r} is not a text")
    if isinstance(ts_us, bool) or not isinstance(ts_us, int):
        raise ValueError(f"time {ts_us!r} is not whole microseconds since 1970")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"value {value!r} is not a finite number")
    if not isinstance(unit, str) or not unit:
        raise ValueError(f"unit {unit!r} is not a text")
    if not isinstance(quality, str) or not quality:
        raise ValueError(f"quality {quality!r} is not a text")
    if source_ref is not None and not isinstance(source_ref, str):
        raise ValueError(f"source reference {source_ref!r} is not a text")
    try:
        ts = _EPOCH + timedelta(microseconds=ts_us)
    except OverflowError as exc:
        raise ValueError(f"time {ts_us} µs since 1970 is out of range") from exc
    return Reading(meter_id, ts, float(value), unit, quality=quality, source_ref=source_ref or ref)


def _rejected(item: object) -> Rejected:
    if not isinstance(item, list) or len(item) != 5:
        raise ValueError("a rejected record must be [source_ref, meter_id, line, reason, raw]")
    source_ref, meter_id, line, reason, raw = item
    if not isinstance(source_ref, str) or not isinstance(reason, str) or not isinstance(raw, str):
        raise ValueError("source_ref, reason and raw of a rejected record must be texts")
    if meter_id is not None and not isinstance(meter_id, str):
        raise ValueError(f"meter id {meter_id!r} is not a text")
    if line is not None and (isinstance(line, bool) or not isinstance(line, int)):
        raise ValueError(f"line {line!r} is not a whole number")
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"raw bytes are not base64: {exc}") from exc
    return Rejected(data, reason, source_ref, meter_id, line)


def _element_bytes(item: object) -> bytes:
    return json.dumps(item, ensure_ascii=False, default=str).encode("utf-8", "surrogatepass")


def decode(body: bytes, ref: str) -> Decoded:
    """The readings and rejected records of one message; ``ref`` names the message (e.g.
    ``jetstream:CARBONLINK_READINGS#1042``) in every record made of it."""
    out = Decoded()
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        out.rejected.append(Rejected(body, f"message is not JSON: {exc}", ref))
        return out
    if not isinstance(document, dict) or document.get("v") != VERSION:
        version = document.get("v") if isinstance(document, dict) else None
        out.rejected.append(
            Rejected(
                body,
                f"message is not a version {VERSION} reading envelope (v={version!r}); "
                "upgrade the worker or the collector so that both speak the same version",
                ref,
            )
        )
        return out
    readings = document.get("readings", [])
    rejected = document.get("rejected", [])
    if not isinstance(readings, list) or not isinstance(rejected, list):
        out.rejected.append(Rejected(body, "'readings' and 'rejected' must be lists", ref))
        return out
    for index, item in enumerate(readings):
        try:
            out.readings.append(_reading(item, f"{ref}#r{index}"))
        except ValueError as exc:
            first = item[0] if isinstance(item, list) and item else None
            meter = first if isinstance(first, str) else None
            out.rejected.append(Rejected(_element_bytes(item), str(exc), f"{ref}#r{index}", meter))
    for index, item in enumerate(rejected):
        try:
            out.rejected.append(_rejected(item))
        except ValueError as exc:
            out.rejected.append(Rejected(_element_bytes(item), str(exc), f"{ref}#q{index}"))
    return out
