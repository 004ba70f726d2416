"""Decoding: JSON lines or records to Arrow, aligned to the table's schema, and event times.

Event times are normalised to ``timestamp[us, UTC]``: ISO 8601 strings (an offset or ``Z``;
none means UTC) or numbers of epoch seconds (milliseconds when larger than 1e11). A value that
cannot be read becomes null, and the lane quarantines that row with the reason.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone

import numpy as np
import pyarrow as pa

from headwater.errors import RunFailed

TS = pa.timestamp("us", tz="UTC")


def decode_lines(data: bytes, schema: pa.Schema | None, event_time: str) -> pa.Table:
    """JSON lines to Arrow in C++; known columns are parsed as the table stores them."""
    import pyarrow.json as pj

    explicit = pa.schema([f for f in schema if f.name != event_time]) if schema is not None else None
    opts = pj.ParseOptions(explicit_schema=explicit, unexpected_field_behavior="infer") \
        if explicit is not None and len(explicit) else None
    read = pj.ReadOptions(block_size=max(1 << 20, min(len(data) + 1, 64 << 20)))
    try:
        return pj.read_json(io.BytesIO(data), read_options=read, parse_options=opts)
    except pa.ArrowInvalid:
        if opts is None:  # lines the C++ reader refuses: decode them one by one instead
            return decode_values([json.loads(line) for line in data.splitlines() if line.strip()],
                                 schema)
        return decode_lines(data, None, event_time)  # a value that does not fit: infer, then align


def decode_values(values: list, schema: pa.Schema | None) -> pa.Table:
    rows = [v if isinstance(v, dict) else {"value": v} for v in values]
    try:
        return pa.Table.from_pylist(rows)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types in one field: keep them as text
        keys = list(dict.fromkeys(k for r in rows for k in r))
        return pa.table({k: pa.array([_text(r.get(k)) for r in rows], pa.string()) for k in keys})


def _text(value):
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, default=str)


def align(table: pa.Table, schema: pa.Schema | None, event_time: str) -> pa.Table:
    """Cast columns the table already has to its types; new columns stay as inferred."""
    columns, names = [], []
    for name in table.column_names:
        col = table.column(name)
        if name == event_time:
            col = event_times(col)
        elif schema is not None and name in schema.names and col.type != schema.field(name).type:
            target = schema.field(name).type
            try:
                col = col.cast(target) if not pa.types.is_null(col.type) else pa.nulls(len(col), target)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise RunFailed(f"field {name!r} arrived as {col.type}, the table stores {target}: {exc}",
                                fix="fix the producer, or declare the type in the product's contract "
                                    "so the gate quarantines such rows") from exc
        columns.append(col)
        names.append(name)
    return pa.table(columns, names=names)


def event_times(col: pa.ChunkedArray) -> pa.ChunkedArray:
    t = col.type
    if pa.types.is_timestamp(t):
        return col.cast(pa.timestamp("us", tz=t.tz or "UTC")).cast(TS)
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        values = col.to_numpy(zero_copy_only=False).astype("float64")
        scale = np.where(np.abs(np.nan_to_num(values)) > 1e11, 1_000, 1_000_000)  # ms or s, per value
        micros = np.where(np.isnan(values), 0, values * scale).astype("int64")
        return pa.chunked_array([pa.array(micros, pa.int64(), mask=np.isnan(values)).cast(TS)])
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        try:
            return col.cast(TS)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        try:  # no zone in the text: UTC
            return col.cast(pa.timestamp("us")).cast(TS)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # mixed or odd: value by value
            return pa.chunked_array([pa.array([_parse(v) for v in col.to_pylist()], TS)])
    if pa.types.is_null(t):
        return pa.chunked_array([pa.nulls(len(col), TS)])
    return pa.chunked_array([pa.array([_parse(v) for v in col.to_pylist()], TS)])


def _parse(value) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, tz=timezone.utc)
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def micros(col: pa.ChunkedArray) -> np.ndarray:
    """Event times as int64 microseconds (no nulls: the lane removed those rows)."""
    return col.cast(pa.int64()).to_numpy()
