"""The Sparkplug B payload schema, built as a protobuf descriptor at import of this module.

Why not protoc output: generated ``_pb2`` modules pin the protobuf runtime they were generated
for and warn on any other major version; a descriptor built from the table below works with
whatever protobuf runtime is installed. The table is the Eclipse Sparkplug 3.0.0 payload
definition (§6.4), mirrored by ``sparkplug_b.proto`` beside this module; a test checks that the
two agree field by field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

PACKAGE = "org.eclipse.tahu.protobuf"
FILE_NAME = "carbonlink/sparkplug_b.proto"

_F = descriptor_pb2.FieldDescriptorProto
_SCALARS = {
    "uint32": _F.TYPE_UINT32,
    "uint64": _F.TYPE_UINT64,
    "float": _F.TYPE_FLOAT,
    "double": _F.TYPE_DOUBLE,
    "bool": _F.TYPE_BOOL,
    "string": _F.TYPE_STRING,
    "bytes": _F.TYPE_BYTES,
}


class DataType(IntEnum):
    """Sparkplug B metric data types (specification §6.4.16)."""

    Unknown = 0
    Int8 = 1
    Int16 = 2
    Int32 = 3
    Int64 = 4
    UInt8 = 5
    UInt16 = 6
    UInt32 = 7
    UInt64 = 8
    Float = 9
    Double = 10
    Boolean = 11
    String = 12
    DateTime = 13
    Text = 14
    UUID = 15
    DataSet = 16
    Bytes = 17
    File = 18
    Template = 19
    PropertySet = 20
    PropertySetList = 21
    Int8Array = 22
    Int16Array = 23
    Int32Array = 24
    Int64Array = 25
    UInt8Array = 26
    UInt16Array = 27
    UInt32Array = 28
    UInt64Array = 29
    FloatArray = 30
    DoubleArray = 31
    BooleanArray = 32
    StringArray = 33
    DateTimeArray = 34


@dataclass(frozen=True)
class FieldSpec:
    """One field: label ('optional'/'repeated'), type (scalar or message name), oneof group."""

    label: str
    type: str
    name: str
    number: int
    oneof: str | None = None


@dataclass(frozen=True)
class MessageSpec:
    """One message with its fields, nested messages and extension range start."""

    name: str
    fields: tuple[FieldSpec, ...]
    nested: tuple[MessageSpec, ...] = ()
    extensions_from: int | None = None
    oneofs: tuple[str, ...] = field(default=())


def _value_oneof(first: int, extra: tuple[tuple[str, str], ...]) -> tuple[FieldSpec, ...]:
    """The scalar `value` oneof shared by metrics, properties, parameters and data-set cells."""
    scalars = (
        ("uint32", "int_value"),
        ("uint64", "long_value"),
        ("float", "float_value"),
        ("double", "double_value"),
        ("bool", "boolean_value"),
        ("string", "string_value"),
    )
    return tuple(
        FieldSpec("optional", kind, name, first + i, "value")
        for i, (kind, name) in enumerate(scalars + extra)
    )


def _extension(name: str) -> MessageSpec:
    return MessageSpec(name, (), extensions_from=1)


PAYLOAD = MessageSpec(
    "Payload",
    (
        FieldSpec("optional", "uint64", "timestamp", 1),
        FieldSpec("repeated", "Metric", "metrics", 2),
        FieldSpec("optional", "uint64", "seq", 3),
        FieldSpec("optional", "string", "uuid", 4),
        FieldSpec("optional", "bytes", "body", 5),
    ),
    nested=(
        MessageSpec(
            "Template",
            (
                FieldSpec("optional", "string", "version", 1),
                FieldSpec("repeated", "Metric", "metrics", 2),
                FieldSpec("repeated", "Parameter", "parameters", 3),
                FieldSpec("optional", "string", "template_ref", 4),
                FieldSpec("optional", "bool", "is_definition", 5),
            ),
            nested=(
                MessageSpec(
                    "Parameter",
                    (
                        FieldSpec("optional", "string", "name", 1),
                        FieldSpec("optional", "uint32", "type", 2),
                        *_value_oneof(3, (("ParameterValueExtension", "extension_value"),)),
                    ),
                    nested=(_extension("ParameterValueExtension"),),
                    oneofs=("value",),
                ),
            ),
            extensions_from=6,
        ),
        MessageSpec(
            "DataSet",
            (
                FieldSpec("optional", "uint64", "num_of_columns", 1),
                FieldSpec("repeated", "string", "columns", 2),
                FieldSpec("repeated", "uint32", "types", 3),
                FieldSpec("repeated", "Row", "rows", 4),
            ),
            nested=(
                MessageSpec(
                    "DataSetValue",
                    _value_oneof(1, (("DataSetValueExtension", "extension_value"),)),
                    nested=(_extension("DataSetValueExtension"),),
                    oneofs=("value",),
                ),
                MessageSpec(
                    "Row",
                    (FieldSpec("repeated", "DataSetValue", "elements", 1),),
                    extensions_from=2,
                ),
            ),
            extensions_from=5,
        ),
        MessageSpec(
            "PropertyValue",
            (
                FieldSpec("optional", "uint32", "type", 1),
                FieldSpec("optional", "bool", "is_null", 2),
                *_value_oneof(
                    3,
                    (
                        ("PropertySet", "propertyset_value"),
                        ("PropertySetList", "propertysets_value"),
                        ("PropertyValueExtension", "extension_value"),
                    ),
                ),
            ),
            nested=(_extension("PropertyValueExtension"),),
            oneofs=("value",),
        ),
        MessageSpec(
            "PropertySet",
            (
                FieldSpec("repeated", "string", "keys", 1),
                FieldSpec("repeated", "PropertyValue", "values", 2),
            ),
            extensions_from=3,
        ),
        MessageSpec(
            "PropertySetList",
            (FieldSpec("repeated", "PropertySet", "propertyset", 1),),
            extensions_from=2,
        ),
        MessageSpec(
            "MetaData",
            (
                FieldSpec("optional", "bool", "is_multi_part", 1),
                FieldSpec("optional", "string", "content_type", 2),
                FieldSpec("optional", "uint64", "size", 3),
                FieldSpec("optional", "uint64", "seq", 4),
                FieldSpec("optional", "string", "file_name", 5),
                FieldSpec("optional", "string", "file_type", 6),
                FieldSpec("optional", "string", "md5", 7),
                FieldSpec("optional", "string", "description", 8),
            ),
            extensions_from=9,
        ),
        MessageSpec(
            "Metric",
            (
                FieldSpec("optional", "string", "name", 1),
                FieldSpec("optional", "uint64", "alias", 2),
                FieldSpec("optional", "uint64", "timestamp", 3),
                FieldSpec("optional", "uint32", "datatype", 4),
                FieldSpec("optional", "bool", "is_historical", 5),
                FieldSpec("optional", "bool", "is_transient", 6),
                FieldSpec("optional", "bool", "is_null", 7),
                FieldSpec("optional", "MetaData", "metadata", 8),
                FieldSpec("optional", "PropertySet", "properties", 9),
                FieldSpec("optional", "uint32", "int_value", 10, "value"),
                FieldSpec("optional", "uint64", "long_value", 11, "value"),
                FieldSpec("optional", "float", "float_value", 12, "value"),
                FieldSpec("optional", "double", "double_value", 13, "value"),
                FieldSpec("optional", "bool", "boolean_value", 14, "value"),
                FieldSpec("optional", "string", "string_value", 15, "value"),
                FieldSpec("optional", "bytes", "bytes_value", 16, "value"),
                FieldSpec("optional", "DataSet", "dataset_value", 17, "value"),
                FieldSpec("optional", "Template", "template_value", 18, "value"),
                FieldSpec("optional", "MetricValueExtension", "extension_value", 19, "value"),
            ),
            nested=(_extension("MetricValueExtension"),),
            oneofs=("value",),
        ),
    ),
    extensions_from=6,
)


def _message_names(spec: MessageSpec, scope: str, out: dict[str, str]) -> None:
    full = f"{scope}.{spec.name}"
    out[spec.name] = full
    for nested in spec.nested:
        _message_names(nested, full, out)


def _build_message(spec: MessageSpec, names: dict[str, str]) -> descriptor_pb2.DescriptorProto:
    proto = descriptor_pb2.DescriptorProto(name=spec.name)
    for nested in spec.nested:
        proto.nested_type.append(_build_message(nested, names))
    oneofs = list(spec.oneofs)
    for oneof in oneofs:
        proto.oneof_decl.add(name=oneof)
    for f in spec.fields:
        fd = proto.field.add(name=f.name, number=f.number, json_name=_camel(f.name))
        fd.label = _F.LABEL_REPEATED if f.label == "repeated" else _F.LABEL_OPTIONAL
        if f.type in _SCALARS:
            fd.type = _SCALARS[f.type]
        else:
            fd.type = _F.TYPE_MESSAGE
            fd.type_name = names[f.type]
        if f.oneof is not None:
            fd.oneof_index = oneofs.index(f.oneof)
    if spec.extensions_from is not None:
        proto.extension_range.add(start=spec.extensions_from, end=536870912)
    return proto


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def build_file_descriptor() -> descriptor_pb2.FileDescriptorProto:
    """The FileDescriptorProto of the Sparkplug B schema (proto2, package org.eclipse.tahu…)."""
    names: dict[str, str] = {}
    _message_names(PAYLOAD, f".{PACKAGE}", names)
    file_proto = descriptor_pb2.FileDescriptorProto(
        name=FILE_NAME, package=PACKAGE, syntax="proto2"
    )
    enum = file_proto.enum_type.add(name="DataType")
    for member in DataType:
        enum.value.add(name=member.name, number=int(member))
    file_proto.message_type.append(_build_message(PAYLOAD, names))
    return file_proto


def _payload_class() -> Any:
    pool = descriptor_pool.DescriptorPool()
    pool.Add(build_file_descriptor())
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{PACKAGE}.Payload"))


Payload: Any = _payload_class()
"""The generated ``Payload`` message class (with nested ``Payload.Metric`` etc.)."""
