"""Column types in a contract, and whether an Arrow column keeps that promise.

Type strings: string, boolean, int (32 bit), long/bigint, float, double, decimal(p,s), date,
time, timestamp (no time zone), timestamptz (timezone-aware, UTC), binary, list<T>,
struct<name: T, ...>, map<K, V>.
"""

from __future__ import annotations

import re

import pyarrow as pa

_SIMPLE: dict[str, pa.DataType] = {
    "string": pa.string(), "varchar": pa.string(), "text": pa.string(),
    "boolean": pa.bool_(), "bool": pa.bool_(),
    "int": pa.int32(), "integer": pa.int32(), "int32": pa.int32(),
    "long": pa.int64(), "bigint": pa.int64(), "int64": pa.int64(),
    "float": pa.float32(), "real": pa.float32(), "double": pa.float64(),
    "date": pa.date32(), "time": pa.time64("us"),
    "timestamp": pa.timestamp("us"), "timestamp_ntz": pa.timestamp("us"),
    "timestamptz": pa.timestamp("us", tz="UTC"), "timestamp_tz": pa.timestamp("us", tz="UTC"),
    "binary": pa.binary(), "bytes": pa.binary(),
}
_DECIMAL = re.compile(r"^decimal\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$")


def parse_type(text: str) -> pa.DataType:
    """The Arrow type a contract type string stands for; ValueError naming the allowed forms."""
    t = text.strip().lower()
    if t in _SIMPLE:
        return _SIMPLE[t]
    if m := _DECIMAL.match(t):
        precision, scale = int(m.group(1)), int(m.group(2))
        if not 1 <= precision <= 38 or scale > precision:
            raise ValueError(f"decimal({precision},{scale}) is out of range: precision 1-38, scale <= precision")
        return pa.decimal128(precision, scale)
    for prefix in ("list<", "array<"):
        if t.startswith(prefix) and t.endswith(">"):
            return pa.list_(parse_type(text.strip()[len(prefix):-1]))
    if t.startswith("map<") and t.endswith(">"):
        key, value = _split(text.strip()[4:-1])
        return pa.map_(parse_type(key), parse_type(value))
    if t.startswith("struct<") and t.endswith(">"):
        fields = []
        for part in _split_all(text.strip()[7:-1]):
            name, _, typ = part.partition(":")
            if not typ:
                raise ValueError(f"struct field {part!r} needs 'name: type'")
            fields.append(pa.field(name.strip(), parse_type(typ)))
        return pa.struct(fields)
    raise ValueError(f"unknown type {text!r}: use one of {', '.join(sorted(_SIMPLE))}, decimal(p,s), "
                     "list<T>, struct<name: T, ...>, map<K, V>")


def _split_all(body: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(body):
        if ch == "<" or ch == "(":
            depth += 1
        elif ch == ">" or ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(body[start:i].strip())
            start = i + 1
    parts.append(body[start:].strip())
    return [p for p in parts if p]


def _split(body: str) -> tuple[str, str]:
    parts = _split_all(body)
    if len(parts) != 2:
        raise ValueError(f"map<{body}> needs exactly a key type and a value type")
    return parts[0], parts[1]


def type_name(t: pa.DataType) -> str:
    """The contract spelling of an Arrow type (used by exporters and messages)."""
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_integer(t):
        return "long" if t.bit_width > 32 else "int"
    if pa.types.is_floating(t):
        return "double" if t.bit_width > 32 else "float"
    if pa.types.is_decimal(t):
        return f"decimal({t.precision},{t.scale})"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_time(t):
        return "time"
    if pa.types.is_timestamp(t):
        return "timestamptz" if t.tz else "timestamp"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return "binary"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return f"list<{type_name(t.value_type)}>"
    if pa.types.is_map(t):
        return f"map<{type_name(t.key_type)}, {type_name(t.item_type)}>"
    if pa.types.is_struct(t):
        return "struct<" + ", ".join(f"{f.name}: {type_name(f.type)}" for f in t) + ">"
    return str(t)


def matches(declared: pa.DataType, actual: pa.DataType) -> bool:
    """Whether values of ``actual`` keep the promise of ``declared`` without loss.

    Narrower integers and floats fit wider declarations; a decimal fits when its scale is the
    same and its precision is not larger; time zones must agree (aware vs naive); units do not
    matter. Nested types are compared field by field.
    """
    if pa.types.is_dictionary(actual):
        actual = actual.value_type
    if pa.types.is_null(actual):
        return True
    if type_name(declared) == type_name(actual):
        if pa.types.is_struct(declared):
            return _struct_matches(declared, actual)
        if pa.types.is_list(declared):
            return matches(declared.value_type, actual.value_type)
        if pa.types.is_map(declared):
            return matches(declared.key_type, actual.key_type) and matches(declared.item_type, actual.item_type)
        return True
    if pa.types.is_integer(declared) and pa.types.is_integer(actual):
        return actual.bit_width <= declared.bit_width
    if pa.types.is_floating(declared) and (pa.types.is_floating(actual) or pa.types.is_integer(actual)):
        return actual.bit_width < declared.bit_width or pa.types.is_floating(actual)
    if pa.types.is_decimal(declared) and pa.types.is_decimal(actual):
        return actual.scale == declared.scale and actual.precision <= declared.precision
    if pa.types.is_decimal(declared) and pa.types.is_integer(actual):
        return declared.precision - declared.scale >= (10 if actual.bit_width <= 32 else 19)
    if pa.types.is_list(declared) and (pa.types.is_large_list(actual) or pa.types.is_list_view(actual)):
        return matches(declared.value_type, actual.value_type)
    return False


def _struct_matches(declared: pa.StructType, actual: pa.StructType) -> bool:
    have = {f.name: f.type for f in actual}
    return all(f.name in have and matches(f.type, have[f.name]) for f in declared)
