"""The ingest-log envelope: readings and rejected records survive the trip, the message id is
the body's digest, and no message — however malformed — makes decoding raise or lose a record."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from carbonlink.ingest.base import Reading, Rejected
from carbonlink.ingest.envelope import decode, encode, message_id, split

DOC = Path(__file__).resolve().parents[2] / "docs" / "scale-out-ingest.md"
T0 = datetime(2026, 11, 1, 8, 15, tzinfo=UTC)


def test_readings_and_rejected_records_survive_the_trip() -> None:
    readings = [
        Reading("mill1.EM-07", T0, 812.5, "kWh", source_ref="mqtt:plant/mill1/energy/EM-07"),
        Reading("mill1.GM-01", T0 + timedelta(microseconds=1), 3.25, "Nm3", quality="uncertain"),
    ]
    rejected = [Rejected(b"\xff\x00raw", "payload is not JSON", "mqtt:plant/x", "x", 4)]
    envelope = encode(readings, rejected, source="mqtt://10.0.0.5:1883")
    out = decode(envelope.body, "jetstream:S#7")
    assert out.readings[0] == readings[0]
    # A reading without a source reference is named after the message and its position.
    assert out.readings[1].source_ref == "jetstream:S#7#r1"
    assert out.readings[1].ts == T0 + timedelta(microseconds=1)
    assert out.readings[1].quality == "uncertain"
    assert out.rejected == rejected
    assert (envelope.readings, envelope.rejected) == (2, 1)


def test_the_message_id_is_the_digest_of_the_body() -> None:
    one = encode([Reading("m", T0, 1.0, "kWh")])
    again = encode([Reading("m", T0, 1.0, "kWh")])
    other = encode([Reading("m", T0, 1.5, "kWh")])
    assert one.msg_id == again.msg_id == message_id(one.body)
    assert one.msg_id != other.msg_id
    # sha256 of the canonical body, hex, after the version prefix
    assert re.fullmatch(r"cl1-[0-9a-f]{64}", one.msg_id)


def test_large_flushes_are_split_and_the_rejected_go_once() -> None:
    readings = [Reading("m", T0 + timedelta(minutes=i), float(i), "kWh") for i in range(12)]
    rejected = [Rejected(b"x", "bad", "ref")]
    parts = list(split(readings, rejected, size=5))
    assert [p.readings for p in parts] == [5, 5, 2]
    assert [p.rejected for p in parts] == [1, 0, 0]
    assert [p.rejected for p in split([], rejected)] == [1]
    assert list(split([], [])) == []


def test_the_example_in_the_manual_decodes() -> None:
    (block,) = re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    out = decode(block.encode(), "doc")
    assert [(r.meter_id, r.value, r.unit) for r in out.readings] == [("mill1.EM-07", 812.5, "kWh")]
    assert out.readings[0].ts == datetime(2025, 12, 1, tzinfo=UTC)
    assert [(r.reason, r.raw) for r in out.rejected] == [
        ("value 'n/a' is not a number", b'{"value":"n/a"}')
    ]


def test_malformed_messages_become_named_records() -> None:
    cases = {
        b"\x00\x01": "not JSON",
        b'{"v": 2}': "version 1",
        b"[1, 2]": "version 1",
        b'{"v": 1, "readings": {}}': "must be lists",
    }
    for body, reason in cases.items():
        out = decode(body, "jetstream:S#1")
        assert out.readings == []
        assert len(out.rejected) == 1 and reason in out.rejected[0].reason
        assert out.rejected[0].raw == body and out.rejected[0].source_ref == "jetstream:S#1"
    body = json.dumps(
        {
            "v": 1,
            "readings": [["m", 0, 1.0, "kWh", "good", None], ["m", True, 1.0, "kWh", "good", None]],
        }
    ).encode()
    out = decode(body, "S#2")
    assert len(out.readings) == 1
    assert out.rejected[0].source_ref == "S#2#r1"
    assert "whole microseconds" in out.rejected[0].reason


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=7) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=200),
        json_values.map(lambda v: json.dumps(v).encode()),
        st.lists(json_values, max_size=6).map(
            lambda items: json.dumps({"v": 1, "readings": items, "rejected": items}).encode()
        ),
    )
)
def test_decoding_never_raises_and_accounts_for_every_element(body: bytes) -> None:
    out = decode(body, "S#9")
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        document = None
    if (
        isinstance(document, dict)
        and document.get("v") == 1
        and isinstance(document.get("readings", []), list)
        and isinstance(document.get("rejected", []), list)
    ):
        elements = len(document.get("readings", [])) + len(document.get("rejected", []))
        assert len(out.readings) + len(out.rejected) == elements
    else:
        assert out.readings == [] and len(out.rejected) == 1
