"""PostgreSQL column types to Arrow, and wal2json (format 2) messages to Changes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pyarrow as pa

from headwater.lanes.cdc.changes import Change

# Types PostgreSQL may store out of line (TOAST): an update that leaves them unchanged omits them.
TOASTABLE = ("text", "character varying", "bytea", "json", "jsonb", "numeric", "xml", "[]",
             "character", "tsvector", "anyarray")


def parse_lsn(text: str) -> int:
    hi, _, lo = text.partition("/")
    return (int(hi, 16) << 32) | int(lo, 16)


def format_lsn(value: int) -> str:
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"


def position(commit_lsn: int, seq: int) -> str:
    """Sortable text: commit LSN, then the change's order within its transaction."""
    return f"{commit_lsn:016X}:{seq:010d}"


def arrow_type(pg_type: str) -> pa.DataType:
    """The Arrow type the mirror stores a PostgreSQL column type as (``format_type`` text)."""
    t = pg_type.lower()
    if t.endswith("[]"):
        return pa.string()
    if t in ("smallint", "integer"):
        return pa.int32()
    if t == "bigint":
        return pa.int64()
    if t == "real":
        return pa.float32()
    if t == "double precision":
        return pa.float64()
    m = re.fullmatch(r"numeric\((\d+),(\d+)\)", t.replace(" ", ""))
    if m and int(m.group(1)) <= 38:
        return pa.decimal128(int(m.group(1)), int(m.group(2)))
    if t == "boolean":
        return pa.bool_()
    if t == "date":
        return pa.date32()
    if t.startswith("timestamp") and "with time zone" in t:
        return pa.timestamp("us", tz="UTC")
    if t.startswith("timestamp"):
        return pa.timestamp("us")
    if t.startswith("time") and "with time zone" not in t:
        return pa.time64("us")
    if t == "bytea":
        return pa.binary()
    return pa.string()  # text, varchar, uuid, json(b), enums, unconstrained numeric, intervals...


def snapshot_expr(column: str, pg_type: str) -> str:
    """The SELECT expression of a column in the initial snapshot (text for string-mapped types,
    so the snapshot and wal2json render json, uuid and numeric the same way)."""
    ident = '"' + column.replace('"', '""') + '"'
    if pa.types.is_string(arrow_type(pg_type)):
        return f"{ident}::text AS {ident}"
    return ident


def converter(pg_type: str) -> Callable[[Any], Any]:
    """wal2json value (JSON, numbers parsed as Decimal) -> the Python value of ``arrow_type``."""
    at = arrow_type(pg_type)
    if pa.types.is_integer(at):
        return lambda v: None if v is None else int(v)
    if pa.types.is_floating(at):
        return lambda v: None if v is None else float(v)
    if pa.types.is_decimal(at):
        return lambda v: None if v is None else Decimal(str(v))
    if pa.types.is_timestamp(at):
        return lambda v: None if v is None else _timestamp(v)
    if pa.types.is_date(at):
        return lambda v: None if v is None else date.fromisoformat(v)
    if pa.types.is_time(at):
        return lambda v: None if v is None else time.fromisoformat(v)
    if pa.types.is_binary(at):
        return lambda v: None if v is None else bytes.fromhex(v.removeprefix("\\x"))
    if pa.types.is_boolean(at):
        return lambda v: None if v is None else bool(v)
    return lambda v: None if v is None else (v if isinstance(v, str) else _text(v))


def _text(v: Any) -> str:
    if isinstance(v, Decimal):
        return str(v)
    return json.dumps(v)


def _timestamp(v: str) -> datetime:
    if v in ("infinity", "-infinity"):
        return datetime.max if v == "infinity" else datetime.min
    return datetime.fromisoformat(v)


def toastable(pg_type: str) -> bool:
    t = pg_type.lower()
    return any(t.startswith(x) or t.endswith(x) for x in TOASTABLE)


def decode_message(msg: dict, commit_lsn: int, seq: int, primary_key: list[str],
                   columns: dict[str, str], commit_ts: datetime | None, xid: str) -> Change:
    """One wal2json I/U/D message -> a Change. ``columns``: name -> type known for the table,
    updated in place when an insert shows the table's columns changed."""
    action = msg["action"]
    pos = position(commit_lsn, seq)
    row = None
    types = None
    if action in ("I", "U"):
        cols = msg.get("columns") or []
        row = {c["name"]: converter(c["type"])(c.get("value")) for c in cols}
        types = {c["name"]: arrow_type(c["type"]) for c in cols}
        if action == "I":
            columns.clear()
            columns.update({c["name"]: c["type"] for c in cols})
        else:
            for c in cols:
                columns[c["name"]] = c["type"]
    identity = {c["name"]: converter(c["type"])(c.get("value")) for c in msg.get("identity") or []}
    if action == "D":
        return Change("d", tuple(identity.get(c) for c in primary_key), pos, tx=xid, commit_ts=commit_ts)
    assert row is not None
    old = identity if identity and all(c in identity for c in primary_key) else row
    key = tuple(old.get(c) for c in primary_key)
    unchanged = frozenset()
    if action == "U":
        # absent toastable columns are unchanged TOAST values; absent others were dropped
        unchanged = frozenset(c for c, t in columns.items() if c not in row and toastable(t))
    return Change("c" if action == "I" else "u", key, pos, row, unchanged, xid, commit_ts, types)


def loads(data: str) -> dict:
    return json.loads(data, parse_float=Decimal)
