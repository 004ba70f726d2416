"""Debezium change events as a CDC source: from a JSON lines file or any other source.

Accepted shapes, one event per line (or per record of the wrapped source):

* the envelope ``{before, after, op, source, ts_ms, transaction}``, bare or inside the Connect
  JSON converter's ``{"schema": ..., "payload": ...}`` (the schema then types the columns);
* a Kafka Connect ``SourceRecord`` dump ``{key, keySchema, value, valueSchema, sourceOffset}``;
* flattened rows (``ExtractNewRecordState``), with ``__deleted``/``__op`` when present;
* tombstones (``null``: the delete before it already removed the row) and transaction metadata
  ``{status: BEGIN|END, id, event_count}``, used to keep a transaction inside one batch.

The position of an event is its offset in the stream (line number in a file): Debezium emits a
partition in source commit order, so the offset is the apply order. The connector's own
position (PostgreSQL LSN, MySQL binlog file/pos, SQL Server change LSN, Oracle SCN) travels in
``Change.tx`` metadata and the lane's snapshot summary for reference.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from headwater.errors import HeadwaterError
from headwater.lanes.cdc.changes import Change
from headwater.sources.base import Batch, Record
from headwater.sources.debezium_connect import convert, envelope_row_schema, row_schema


@dataclass(frozen=True)
class Skipped:
    """An event that changes no row, and why (counted and reported, never silently dropped)."""

    reason: str


def position_of(offset: int) -> str:
    return f"{offset:012d}"


def _tx_of(payload: dict) -> str | None:
    tx = payload.get("transaction")
    if isinstance(tx, dict) and tx.get("id") is not None:
        return str(tx["id"])
    src = payload.get("source") or {}
    for k in ("txId", "gtid", "change_lsn", "commit_lsn", "scn", "txid"):
        if src.get(k) is not None:
            return f"{k}:{src[k]}"
    return None


def source_position(payload: dict) -> dict[str, Any]:
    """The connector's own position of an event (for reporting)."""
    src = payload.get("source") or {}
    keys = ("lsn", "txId", "file", "pos", "row", "change_lsn", "commit_lsn", "scn", "ord", "gtid")
    return {k: src[k] for k in keys if src.get(k) is not None}


def _table_of(payload: dict) -> str | None:
    src = payload.get("source") or {}
    table = src.get("table") or src.get("collection")
    if not table:
        return None
    ns = src.get("schema") or src.get("db")
    return f"{ns}.{table}" if ns else table


def _flat_table_of(row: dict) -> str | None:
    """The table of a flattened row, when ExtractNewRecordState added it (``add.fields``)."""
    table = row.get("__table") or row.get("__source_table")
    if not isinstance(table, str):
        return None
    ns = row.get("__schema") or row.get("__source_schema") or row.get("__db") or row.get("__source_db")
    return f"{ns}.{table}" if isinstance(ns, str) and ns else table


def decode(obj: Any, offset: int, primary_key: list[str], *, table: str | None = None,
           key: Any = None) -> Change | Skipped:
    """One decoded JSON event -> a Change, or the reason it changes nothing."""
    if obj is None:
        return Skipped("tombstone")
    if not isinstance(obj, dict):
        raise HeadwaterError(f"event at offset {offset} is not a JSON object",
                             fix="feed Debezium JSON: one envelope per line")
    schema = None
    if "valueSchema" in obj and "value" in obj:       # a SourceRecord dump
        key, schema, obj = obj.get("key", key), obj.get("valueSchema"), obj["value"]
        if obj is None:
            return Skipped("tombstone")
    if "payload" in obj and "schema" in obj:          # the Connect JSON converter with schemas
        schema, obj = obj["schema"], obj["payload"]
        if obj is None:
            return Skipped("tombstone")
    if obj.get("status") in ("BEGIN", "END") and "id" in obj and "op" not in obj:
        return Skipped(f"transaction {obj['status']}")
    if "ddl" in obj or "tableChanges" in obj:
        return Skipped("schema change event (columns are evolved from the rows)")
    pos = position_of(offset)
    flat = "op" not in obj or ("before" not in obj and "after" not in obj)
    if table is not None:
        found = _flat_table_of(obj) if flat else _table_of(obj)
        if found is not None and found != table and found.split(".")[-1] != table.split(".")[-1]:
            return Skipped(f"other table {found}")
    if flat:
        return _flattened(obj, pos, primary_key, schema)
    op = obj["op"]
    types = envelope_row_schema(schema) if isinstance(schema, dict) else None
    before, after = convert(_doc(obj.get("before")), types), convert(_doc(obj.get("after")), types)
    ts = obj.get("ts_ms") or (obj.get("source") or {}).get("ts_ms")
    commit_ts = _when(ts)
    col_types = {c: t for c, (t, _) in types.items()} if types else None
    tx = _tx_of(obj) if op != "r" else None  # snapshot reads are not a transaction to keep whole
    if op == "t":
        raise HeadwaterError(f"a TRUNCATE of {_table_of(obj)} at offset {offset}: the CDC lane does "
                             "not apply truncates", fix="resnapshot the table: drop the mirror and "
                             "replay from a snapshot ('op': 'r') of the source")
    if op == "d":
        image = before or (key if isinstance(key, dict) else None)
        if not image or any(image.get(c) is None for c in primary_key):
            return Skipped("delete without key (REPLICA IDENTITY DEFAULT without the record key)")
        return Change("d", tuple(image[c] for c in primary_key), pos, None, tx=tx,
                      commit_ts=commit_ts, types=col_types)
    if op not in ("c", "u", "r") or after is None:
        return Skipped(f"op {op!r} without an after image")
    if any(after.get(c) is None for c in primary_key):
        return Skipped(f"row without a value for the primary key {primary_key}")
    old = before or (key if isinstance(key, dict) else None) or after
    if any(old.get(c) is None for c in primary_key):
        old = after
    return Change("u" if op == "u" else op, tuple(old.get(c) for c in primary_key), pos, after,
                  tx=tx, commit_ts=commit_ts, types=col_types)


def _doc(image: Any) -> dict | None:
    """A row image; the MongoDB connector sends documents as extended-JSON text."""
    if isinstance(image, str):
        try:
            image = json.loads(image)
        except ValueError:
            return {"value": image}
    return image if isinstance(image, dict) or image is None else {"value": image}


def _when(ts_ms: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(ts_ms) / 1000, tz=timezone.utc) if ts_ms else None
    except (TypeError, ValueError, OverflowError):
        return None


def _flattened(obj: dict, pos: str, primary_key: list[str], schema: Any) -> Change:
    types = row_schema(schema) if isinstance(schema, dict) else None
    row = convert({k: v for k, v in obj.items() if not k.startswith("__")}, types)
    deleted = str(obj.get("__deleted", "false")).lower() == "true" or obj.get("__op") == "d"
    key = tuple(row.get(c) for c in primary_key)
    col_types = {c: t for c, (t, _) in types.items()} if types else None
    if deleted:
        return Change("d", key, pos, None, types=col_types)
    return Change(obj.get("__op", "c") if obj.get("__op") in ("c", "u", "r") else "c", key, pos, row,
                  types=col_types)


def loads(line: str) -> Any:
    return json.loads(line)


class DebeziumFileSource:
    """Debezium events from a JSON lines file (or a JSON array file); position = line number."""

    KIND = "debezium"

    def __init__(self, path: str | Path, primary_key: list[str], table: str | None = None, **_: Any) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            what = "a folder" if self.path.is_dir() else "no file"
            raise HeadwaterError(f"no Debezium change log at {self.path} ({what} there)",
                                 fix="check cdc.source.url, or the file given to 'headwater cdc replay' "
                                     "(a .jsonl file of Debezium events, relative to the project)")
        self.primary_key = primary_key
        self.table = table
        self._after = -1
        self._events: Iterator[tuple[int, Any]] | None = None
        self._pending: tuple[int, Any] | None = None
        self.skipped: dict[str, int] = {}
        self.last_source_position: dict[str, Any] = {}

    def _bad(self, line: int, why: str) -> HeadwaterError:
        return HeadwaterError(f"{self.path}, line {line}: {why}",
                              fix="a Debezium change log holds one JSON event per line (or one JSON "
                                  "array of events): fix or remove that line and run again; the "
                                  "mirror keeps what was committed before, and the run continues "
                                  "from there")

    def _lines(self, after: int = -1) -> Iterator[tuple[int, str]]:
        """(offset, text) of each non-blank line after offset ``after``; offset = line number - 1."""
        try:
            with open(self.path, encoding="utf-8") as fh:
                for i, line in enumerate(fh):
                    if i > after and line.strip():
                        yield i, line
        except UnicodeDecodeError as exc:
            raise HeadwaterError(f"{self.path} is not UTF-8 text ({exc.reason}): not a Debezium "
                                 "change log", fix="give a Debezium JSON lines file") from None

    def _is_array(self) -> bool:
        with open(self.path, "rb") as fh:
            return fh.read(4096).lstrip().startswith(b"[")

    def _iter(self, after: int = -1) -> Iterator[tuple[int, Any]]:
        """(offset, event) after offset ``after``; lines before it are not parsed."""
        if self._is_array():
            try:
                with open(self.path, encoding="utf-8") as fh:
                    events = json.load(fh)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                line = getattr(exc, "lineno", None)
                raise self._bad(line or 1, f"not a JSON array of events: {exc}") from None
            yield from ((i, e) for i, e in enumerate(events) if i > after)
            return
        for i, line in self._lines(after):
            try:
                obj = loads(line)
            except json.JSONDecodeError as exc:
                raise self._bad(i + 1, f"not JSON ({exc.msg} at column {exc.colno}): "
                                       f"{line.strip()[:80]!r}") from None
            if obj is not None and not isinstance(obj, dict):
                raise self._bad(i + 1, f"a JSON {type(obj).__name__}, not an event object")
            yield i, obj

    def seek(self, positions: dict[str, str]) -> None:
        self._after = int(positions.get("0", -1))
        self._events, self._pending = None, None

    def _next(self) -> tuple[int, Any] | None:
        if self._pending is not None:
            out, self._pending = self._pending, None
            return out
        if self._events is None:
            self._events = self._iter(self._after)
        return next(self._events, None)

    def read(self, max_records: int, timeout_seconds: float = 0.0) -> Batch:
        """Up to ``max_records`` changes, extended to the end of the last transaction."""
        batch = Batch()
        last_tx: str | None = None
        last = None
        while True:
            item = self._next()
            if item is None:
                self._events = None  # at the end: the next read looks again (the log may grow)
                break
            offset, obj = item
            event = decode(obj, offset, self.primary_key, table=self.table)
            tx = event.tx if isinstance(event, Change) else None
            if len(batch) >= max_records and (tx is None or tx != last_tx):
                self._pending = item
                break
            last = self._after = offset
            if isinstance(event, Skipped):
                self.skipped[event.reason] = self.skipped.get(event.reason, 0) + 1
                continue
            payload = obj.get("payload", obj) if isinstance(obj, dict) else {}
            self.last_source_position = source_position(payload or {})
            batch.records.append(Record(event, event.position))
            last_tx = tx
        if batch.records:
            batch.positions = {"0": str(last)}
        elif last is None and timeout_seconds > 0:
            time.sleep(timeout_seconds)  # nothing new: wait as a broker would, without spinning
        # only skipped events (another table's, transaction markers) at the end of the log: no
        # positions, so the lane commits nothing for them (a replayed file of another table
        # leaves the mirror as it was); a later run reads and skips them again
        return batch

    def commit(self, positions: dict[str, str]) -> None:
        """A file needs no acknowledgement: the position lives in the mirror's snapshot."""

    def lag(self) -> dict[str, Any]:
        """Events after the position, and the commit time of the oldest change of this table
        among them (None when none is pending)."""
        # counted without parsing: a change log can be large
        pending = sum(1 for _ in (self._iter if self._is_array() else self._lines)(self._after))
        oldest = None
        for offset, obj in self._iter(self._after):
            event = decode(obj, offset, self.primary_key, table=self.table)
            if isinstance(event, Change) and event.commit_ts is not None:
                oldest = event.commit_ts
                break
        return {"0": {"records": pending, "oldest_commit_ts": oldest}}

    def close(self) -> None:
        self._events = None
