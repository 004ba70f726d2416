"""Kafka Connect schemas (as the JSON converter writes them) to Arrow types and Python values.

Debezium encodes decimals as base64 big-endian two's complement with a ``scale`` parameter,
dates as days since the epoch, timestamps as epoch milli/micro/nanoseconds and zoned times as
ISO-8601 text; this module turns them back into what the mirror stores.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pyarrow as pa

EPOCH = datetime(1970, 1, 1)
DECIMAL = "org.apache.kafka.connect.data.Decimal"
Converter = Callable[[Any], Any]

_PRIMITIVE = {"int8": pa.int32(), "int16": pa.int32(), "int32": pa.int32(), "int64": pa.int64(),
              "float32": pa.float32(), "float64": pa.float64(), "float": pa.float32(),
              "double": pa.float64(), "boolean": pa.bool_(), "string": pa.string(),
              "bytes": pa.binary()}


def _decimal(scale: int) -> Converter:
    def conv(v):
        if v is None or isinstance(v, (int, float)):
            return None if v is None else Decimal(str(v))
        raw = base64.b64decode(v)
        return Decimal(int.from_bytes(raw, "big", signed=True)).scaleb(-scale)
    return conv


def field_type(schema: dict) -> tuple[pa.DataType, Converter]:
    """The Arrow type and value converter of one Connect field schema."""
    name = schema.get("name") or ""
    params = schema.get("parameters") or {}
    typ = schema.get("type")
    if name == DECIMAL or name == "io.debezium.data.VariableScaleDecimal":
        scale = int(params.get("scale", 0))
        precision = int(params.get("connect.decimal.precision", 38))
        return pa.decimal128(min(max(precision, scale + 1), 38), scale), _decimal(scale)
    if name in ("io.debezium.time.Date", "org.apache.kafka.connect.data.Date"):
        return pa.date32(), lambda v: None if v is None else date(1970, 1, 1) + timedelta(days=v)
    if name in ("io.debezium.time.Timestamp", "org.apache.kafka.connect.data.Timestamp"):
        return pa.timestamp("us"), lambda v: None if v is None else EPOCH + timedelta(milliseconds=v)
    if name == "io.debezium.time.MicroTimestamp":
        return pa.timestamp("us"), lambda v: None if v is None else EPOCH + timedelta(microseconds=v)
    if name == "io.debezium.time.NanoTimestamp":
        return pa.timestamp("us"), lambda v: None if v is None else EPOCH + timedelta(microseconds=v // 1000)
    if name == "io.debezium.time.ZonedTimestamp":
        return pa.timestamp("us", tz="UTC"), _zoned
    if name in ("io.debezium.time.MicroTime", "io.debezium.time.Time",
                "org.apache.kafka.connect.data.Time"):
        unit = 1 if name == "io.debezium.time.MicroTime" else 1000
        return pa.time64("us"), lambda v: None if v is None else \
            (datetime.min + timedelta(microseconds=v * unit)).time()
    if typ == "bytes":
        return pa.binary(), lambda v: None if v is None else base64.b64decode(v)
    if typ in _PRIMITIVE:
        return _PRIMITIVE[typ], _identity
    return pa.string(), _text  # structs, arrays, maps and unknown logical types: kept as JSON text


def _identity(v):
    return v


def _text(v):
    import json

    return None if v is None else v if isinstance(v, str) else json.dumps(v, sort_keys=True)


def _zoned(v):
    if v is None:
        return None
    when = datetime.fromisoformat(v.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def row_schema(struct: dict | None) -> dict[str, tuple[pa.DataType, Converter]] | None:
    """Column types of a before/after struct schema (None when there is no schema)."""
    if not struct or not struct.get("fields"):
        return None
    return {f["field"]: field_type(f) for f in struct["fields"]}


def envelope_row_schema(schema: dict | None) -> dict[str, tuple[pa.DataType, Converter]] | None:
    """The row schema inside an envelope schema (its ``after`` or ``before`` field)."""
    if not schema or not schema.get("fields"):
        return None
    by_name = {f.get("field"): f for f in schema["fields"]}
    for part in ("after", "before"):
        found = row_schema(by_name.get(part))
        if found:
            return found
    return None


def convert(row: dict | None, types: dict[str, tuple[pa.DataType, Converter]] | None) -> dict | None:
    if row is None or types is None:
        return row
    return {k: (types[k][1](v) if k in types else v) for k, v in row.items()}

