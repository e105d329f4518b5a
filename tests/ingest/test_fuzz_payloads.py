"""Fuzzing the stream payload parsers: whatever arrives is parsed or quarantined with a reason,
never an unhandled exception (bounded: each test runs a few hundred examples, well under 10 s)."""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf.message import DecodeError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from carbonlink.domain.metering import Meter
from carbonlink.ingest.base import MemorySink, Reading, Rejected
from carbonlink.ingest.mqtt import MeterCheck, TimeWindow, TopicMapping, parse_message
from carbonlink.ingest.sparkplug.host import SparkplugHost, SparkplugHostConfig
from carbonlink.ingest.sparkplug.schema import DataType, Payload
from carbonlink.ingest.sparkplug.topics import SparkplugTopic
from fuzzing import byte_mutated, mutated

BOUNDED = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
MAPPING = TopicMapping(topic="plant/+", meter="{1}", unit="kWh", timezone="Asia/Shanghai")
NOW = datetime(2024, 3, 1, tzinfo=UTC)
WINDOW = TimeWindow(datetime(2000, 1, 1, tzinfo=UTC), NOW + timedelta(days=1))
REGISTRY = {"EM-07": Meter("EM-07", "register", "kWh", min_value=0, max_value=1e9)}
CHECK = MeterCheck(lambda: REGISTRY)


def _accounted(payload: bytes, readings: list[Reading], rejected: list[Rejected]) -> None:
    for record in rejected:
        assert isinstance(record, Rejected)
        assert record.reason.strip()
        assert record.source_ref.startswith("mqtt:plant/EM-07")
    for reading in readings:
        assert math.isfinite(reading.value)
        assert WINDOW.earliest <= reading.ts <= WINDOW.latest
    try:
        document = json.loads(payload)
    except (ValueError, RecursionError):
        assert readings == [] and len(rejected) == 1
        return
    items = document if isinstance(document, list) else [document]
    assert len(readings) + len(rejected) == max(len(items), 1)


@BOUNDED
@given(st.binary(max_size=400))
@example(b'{"ts": "2024-03-01T00:00:00Z", "value": 1, "unit": "\\ud800"}')  # lone surrogate
@example(b'{"ts": "\\ud800", "value": 1}')  # ... in a record that is rejected
@example(b"[" * 100_000)  # nested deeper than the parser's recursion limit
@example(b'{"ts": 1709252100000, "value": ' + b"9" * 5000 + b"}")  # past int digit limit
@example(b"[]")
@example(b'{"ts": 1709252100000, "value": NaN}')
@example(b'{"ts": 1709252100000, "value": 1e999}')
@example(b'{"ts": 1e999, "value": 1}')
@example(b'{"ts": 1709252100000, "value": 1, "unit": "kWh)"}')
@example(b'{"ts": 1709252100000, "value": 1, "unit": "kWh/0"}')
def test_mqtt_any_bytes(payload: bytes) -> None:
    readings, rejected = parse_message(MAPPING, "plant/EM-07", payload, window=WINDOW, check=CHECK)
    _accounted(payload, readings, rejected)


_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        [
            "2024-03-01T08:15:00+08:00",
            "2024-03-01T08:15:00",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59+14:00",
            "kWh",
            "MWh",
            "Nm3",
            "kWh)",
            "~",
            "kWh/0",
            "10^4 Nm3",
            "😀",
        ]
    ),
    st.sampled_from([1_709_252_100_000, 1_709_252_100, 0, -1, 2**63, 1e300, 253402300800000]),
)
_json = st.recursive(
    _scalar,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["ts", "value", "unit", "quality", "x"]), inner, max_size=5
        )
    ),
    max_leaves=12,
)
_reading_like = st.fixed_dictionaries(
    {}, optional={"ts": _scalar, "value": _scalar, "unit": _scalar, "quality": _json}
)


@settings(BOUNDED, max_examples=200)
@given(st.one_of(_json, _reading_like, st.lists(_reading_like, max_size=5)))
def test_mqtt_json_shaped_payloads(document: Any) -> None:
    payload = json.dumps(document).encode()
    readings, rejected = parse_message(MAPPING, "plant/EM-07", payload, window=WINDOW, check=CHECK)
    _accounted(payload, readings, rejected)


VALID = [
    {"ts": "2024-03-01T08:15:00+08:00", "value": 812.5, "unit": "MWh", "quality": "good"},
    {"ts": 1_709_252_100_000, "value": 3},
]


@settings(BOUNDED, max_examples=200)
@given(mutated(VALID))
def test_mqtt_valid_messages_changed_in_one_place(document: Any) -> None:
    payload = json.dumps(document).encode()
    readings, rejected = parse_message(MAPPING, "plant/EM-07", payload, window=WINDOW, check=CHECK)
    _accounted(payload, readings, rejected)


# --- Sparkplug B -----------------------------------------------------------------------------
def _host() -> tuple[SparkplugHost, MemorySink]:
    sink = MemorySink()
    # Not connected: rebirth requests are queued by paho, never sent.
    host = SparkplugHost(SparkplugHostConfig(default_unit="kWh", reorder_timeout=0.01), sink)
    birth = Payload(timestamp=1_709_252_100_000, seq=0)
    birth.metrics.add(name="bdSeq", datatype=int(DataType.Int64), long_value=0)
    birth.metrics.add(name="Power", alias=5, datatype=int(DataType.Double), double_value=1.0)
    birth.metrics.add(name="Count", alias=6, datatype=int(DataType.Int32), int_value=1)
    host.receive("spBv1.0/g/NBIRTH/e", birth.SerializeToString())
    return host, sink


_TOPICS = st.sampled_from(
    [
        "spBv1.0/g/NDATA/e",
        "spBv1.0/g/DDATA/e/d",
        "spBv1.0/g/DBIRTH/e/d",
        "spBv1.0/g/NBIRTH/e",
        "spBv1.0/g/NDEATH/e",
        "spBv1.0/g/DDEATH/e/d",
        "spBv1.0/STATE/carbonlink",
        "spBv1.0/g/NCMD/e",
        "plant/x",
    ]
)


@BOUNDED
@given(_TOPICS, st.binary(max_size=300))
def test_sparkplug_any_bytes(topic: str, raw: bytes) -> None:
    host, sink = _host()
    before = len(sink.rejected)
    host.receive(topic, raw)
    host.check_reorder_timeouts(now=time.monotonic() + 1)
    try:
        Payload.FromString(raw)
    except DecodeError:
        if topic.startswith("spBv1.0/g/") and "CMD" not in topic:
            assert len(sink.rejected) == before + 1
            assert sink.rejected[-1].reason.startswith("not a Sparkplug B payload")
    for record in sink.rejected:
        assert record.reason.strip()


def _valid_data() -> bytes:
    data = Payload(timestamp=1_709_252_160_000, seq=1)
    data.metrics.add(alias=5, timestamp=1_709_252_160_000, double_value=2.5)
    data.metrics.add(alias=6, int_value=0xFFFFFFFF)
    data.metrics.add(name="Power", double_value=3.5)
    return bytes(data.SerializeToString())


@settings(BOUNDED, max_examples=200)
@given(byte_mutated(_valid_data()))
def test_sparkplug_valid_data_with_one_byte_changed(raw: bytes) -> None:
    host, sink = _host()
    before = len(sink.readings) + len(sink.rejected)
    host.receive("spBv1.0/g/NDATA/e", raw)
    host.check_reorder_timeouts(now=time.monotonic() + 1)
    for reading in sink.readings.values():
        assert math.isfinite(reading.value)
    for record in sink.rejected:
        assert record.reason.strip()
    # Something of the message was kept, or it decoded to a message with nothing to store.
    try:
        decoded = Payload.FromString(raw)
    except DecodeError:
        assert len(sink.rejected) == 1
        return
    if len(decoded.metrics):
        assert len(sink.readings) + len(sink.rejected) > before


_metric = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(["Power", "Count", "bdSeq", "Node Control/Rebirth", "", "New"]),
        "alias": st.integers(0, 2**64 - 1),
        "timestamp": st.integers(0, 2**64 - 1),
        "datatype": st.integers(0, 40),
        "is_null": st.booleans(),
        "int_value": st.integers(0, 2**32 - 1),
        "long_value": st.integers(0, 2**64 - 1),
        "float_value": st.floats(width=32),
        "double_value": st.floats(),
        "boolean_value": st.booleans(),
        "string_value": st.text(max_size=10),
    },
)


@settings(BOUNDED, max_examples=150)
@given(
    st.lists(
        st.tuples(
            _TOPICS,
            st.fixed_dictionaries(
                {"metrics": st.lists(_metric, max_size=4)},
                optional={"seq": st.integers(0, 2**64 - 1), "timestamp": st.integers(0, 2**64 - 1)},
            ),
        ),
        max_size=6,
    )
)
@example([("spBv1.0/g/NDATA/e", {"seq": 1, "metrics": [{"alias": 5, "double_value": math.nan}]})])
@example([("spBv1.0/g/NDATA/e", {"seq": 1, "metrics": [{"alias": 6, "long_value": 7}]})])
@example([("spBv1.0/g/NDATA/e", {"seq": 1, "timestamp": 2**64 - 1, "metrics": [{"alias": 5}]})])
@example([("spBv1.0/g/DBIRTH/e", {"seq": 1, "metrics": [{"name": "x"}]})])
def test_sparkplug_well_formed_payloads_in_any_order(messages: list[tuple[str, Any]]) -> None:
    host, sink = _host()
    for topic, fields in messages:
        payload = Payload()
        for key in ("seq", "timestamp"):
            if key in fields:
                setattr(payload, key, fields[key])
        for metric in fields["metrics"]:
            entry = payload.metrics.add()
            for key, value in metric.items():
                setattr(entry, key, value)  # the last value field set wins (a oneof)
        host.receive(topic, payload.SerializeToString())
        host.check_reorder_timeouts(now=time.monotonic() + 1)
    for reading in sink.readings.values():
        assert math.isfinite(reading.value)
    for record in sink.rejected:
        assert record.reason.strip()
    # Whatever was held is released (stored or quarantined) once the gap times out.
    assert all(not node.held for node in host.nodes.values())


def test_a_topic_of_the_node_is_well_formed() -> None:
    assert str(SparkplugTopic("g", "NDATA", "e")) == "spBv1.0/g/NDATA/e"
