"""The runtime-built Sparkplug B descriptor agrees with the shipped .proto and round-trips."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from carbonlink.ingest.sparkplug.host import metric_value
from carbonlink.ingest.sparkplug.schema import DataType, Payload, build_file_descriptor

PROTO = Path(__file__).resolve().parents[3] / "src/carbonlink/ingest/sparkplug/sparkplug_b.proto"
_FIELD = re.compile(r"^(optional|repeated)?\s*(\w+)\s+(\w+)\s*=\s*(\d+);")
_TYPES = {
    1: "double",
    2: "float",
    4: "uint64",
    8: "bool",
    9: "string",
    12: "bytes",
    13: "uint32",
}


def _fields_in_proto() -> set[tuple[str, str, str, int, str | None]]:
    """(message path, label, type, name, number, oneof) for every field line of the .proto."""
    fields = set()
    scopes: list[tuple[str, str]] = []  # (kind, name)
    for raw in PROTO.read_text(encoding="utf-8").splitlines():
        line = raw.split("//")[0].strip()
        if not line:
            continue
        opened = re.match(r"^(message|oneof|enum)\s+(\w+)\s*\{", line)
        if opened:
            scopes.append((opened[1], opened[2]))
            continue
        if line == "}":
            scopes.pop()
            continue
        field = _FIELD.match(line)
        if field and scopes and scopes[-1][0] != "enum":
            oneof = scopes[-1][1] if scopes[-1][0] == "oneof" else None
            path = ".".join(name for kind, name in scopes if kind == "message")
            label = field[1] or "optional"
            fields.add((path, label, field[2].split(".")[-1], field[3], int(field[4]), oneof))
    return fields


def _fields_in_descriptor() -> set[tuple[str, str, str, int, str | None]]:
    fields = set()

    def walk(message: object, scope: str) -> None:
        path = f"{scope}.{message.name}" if scope else message.name  # type: ignore[attr-defined]
        for f in message.field:  # type: ignore[attr-defined]
            kind = f.type_name.split(".")[-1] if f.type_name else _TYPES[f.type]
            label = "repeated" if f.label == 3 else "optional"
            oneof = (
                message.oneof_decl[f.oneof_index].name  # type: ignore[attr-defined]
                if f.HasField("oneof_index")
                else None
            )
            fields.add((path, label, kind, f.name, f.number, oneof))
        for nested in message.nested_type:  # type: ignore[attr-defined]
            walk(nested, path)

    for message in build_file_descriptor().message_type:
        walk(message, "")
    return fields


def test_descriptor_matches_the_proto_file_field_by_field() -> None:
    in_proto = _fields_in_proto()
    # Payload 5, Template 5, Parameter 9, DataSet 4, DataSetValue 7, Row 1, PropertyValue 11,
    # PropertySet 2, PropertySetList 1, MetaData 8, Metric 19.
    assert len(in_proto) == 72
    assert in_proto == _fields_in_descriptor()


def test_data_type_enum_matches_the_proto_file() -> None:
    text = PROTO.read_text(encoding="utf-8")
    enum_body = text[text.index("enum DataType") : text.index("}")]
    pairs = re.findall(r"(\w+)\s*=\s*(\d+);", enum_body)
    assert [(m.name, m.value) for m in DataType] == [(n, int(v)) for n, v in pairs]


def test_known_encoding_of_a_small_payload() -> None:
    """Hand-encoded: timestamp (field 1) varint 1000 = e8 07; metrics (field 2, 11 bytes):
    alias (field 2) 7, double_value (field 13, tag 0x69) 1.5; seq (field 3) 5."""
    payload = Payload(timestamp=1000, seq=5)
    payload.metrics.add(alias=7, double_value=1.5)
    double = bytes.fromhex("000000000000f83f")  # 1.5 as IEEE 754 binary64, little-endian
    expected = bytes.fromhex("08e807120b100769") + double + bytes.fromhex("1805")
    assert payload.SerializeToString() == expected


@given(st.integers(-(2**31), 2**31 - 1))
def test_signed_int32_survives_the_unsigned_wire_field(value: int) -> None:
    metric = Payload.Metric(datatype=int(DataType.Int32), int_value=value & 0xFFFFFFFF)
    decoded = Payload.FromString(Payload(metrics=[metric]).SerializeToString()).metrics[0]
    assert metric_value(decoded, DataType.Int32) == value


@given(st.integers(-(2**63), 2**63 - 1))
def test_signed_int64_survives_the_unsigned_wire_field(value: int) -> None:
    metric = Payload.Metric(datatype=int(DataType.Int64), long_value=value & (2**64 - 1))
    assert metric_value(metric, DataType.Int64) == float(value)


def test_int8_travels_as_its_twos_complement() -> None:
    # -23 in 8-bit two's complement is 0xE9 = 233; a 32-bit encoding (0xFFFFFFE9) reads the same.
    metric = Payload.Metric(datatype=int(DataType.Int8), int_value=233)
    assert metric_value(metric, DataType.Int8) == -23.0
    metric = Payload.Metric(datatype=int(DataType.Int8), int_value=0xFFFFFFE9)
    assert metric_value(metric, DataType.Int8) == -23.0
