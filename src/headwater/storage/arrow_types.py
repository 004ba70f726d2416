"""Arrow types an engine returns, normalised to what Iceberg stores."""

from __future__ import annotations

import pyarrow as pa


def iceberg_compatible(schema: pa.Schema) -> pa.Schema:
    """The schema with every field cast to a type Iceberg (and pyiceberg) can store."""
    return pa.schema([pa.field(f.name, _normalise(f.type), nullable=True) for f in schema])


def _normalise(t: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(t):
        return pa.timestamp("us", tz="UTC" if t.tz is not None else None)
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return pa.binary()
    if pa.types.is_unsigned_integer(t):
        return pa.int64() if t.bit_width <= 32 else pa.decimal128(20, 0)
    if pa.types.is_int8(t) or pa.types.is_int16(t):
        return pa.int32()
    if pa.types.is_float16(t):
        return pa.float32()
    if pa.types.is_dictionary(t):
        return _normalise(t.value_type)
    if pa.types.is_null(t):
        return pa.string()
    if pa.types.is_decimal(t) and t.precision > 38:
        return pa.decimal128(38, t.scale)
    if pa.types.is_time(t):
        return pa.time64("us")
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t):
        return pa.list_(_normalise(t.value_type))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, _normalise(f.type)) for f in t])
    if pa.types.is_map(t):
        return pa.map_(_normalise(t.key_type), _normalise(t.item_type))
    return t


def conform(table: pa.Table) -> pa.Table:
    """Cast ``table`` to its Iceberg-compatible schema (a no-op when already compatible)."""
    target = iceberg_compatible(table.schema)
    if target.equals(table.schema):
        return table
    return table.cast(target)
