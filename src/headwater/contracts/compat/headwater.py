"""A headwater contract seen as an Avro record, so Schema Registry modes apply to contracts too.

A nullable column is a union with null and a null default (it may be added or dropped freely
by readers); a required column has no default. Types map to Avro types and logical types.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from headwater.contracts.model import Contract
from headwater.contracts.types import parse_type


def to_avro(contract: Contract) -> dict[str, Any]:
    fields = []
    for column in contract.columns:
        avro = _avro(parse_type(column.type), f"{contract.product}_{column.name}")
        if column.nullable:
            fields.append({"name": column.name, "type": ["null", avro], "default": None})
        else:
            fields.append({"name": column.name, "type": avro})
    return {"type": "record", "name": contract.product, "fields": fields}


def _avro(t: pa.DataType, name: str) -> Any:
    if pa.types.is_string(t):
        return "string"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_integer(t):
        return "long" if t.bit_width > 32 else "int"
    if pa.types.is_floating(t):
        return "double" if t.bit_width > 32 else "float"
    if pa.types.is_decimal(t):
        return {"type": "bytes", "logicalType": "decimal", "precision": t.precision, "scale": t.scale}
    if pa.types.is_date(t):
        return {"type": "int", "logicalType": "date"}
    if pa.types.is_time(t):
        return {"type": "long", "logicalType": "time-micros"}
    if pa.types.is_timestamp(t):
        return {"type": "long", "logicalType": "timestamp-micros" if t.tz else "local-timestamp-micros"}
    if pa.types.is_binary(t):
        return "bytes"
    if pa.types.is_list(t):
        return {"type": "array", "items": _avro(t.value_type, name + "_item")}
    if pa.types.is_map(t):
        return {"type": "map", "values": _avro(t.item_type, name + "_value")}
    if pa.types.is_struct(t):
        return {"type": "record", "name": name,
                "fields": [{"name": f.name, "type": ["null", _avro(f.type, f"{name}_{f.name}")], "default": None}
                           for f in t]}
    raise ValueError(f"no Avro type for {t}")
