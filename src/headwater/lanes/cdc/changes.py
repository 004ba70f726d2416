"""Row changes as every CDC source delivers them, and their folding into one state per key.

A source turns its native events (wal2json messages, Debezium envelopes) into ``Change``
objects in source commit order, grouped so that a batch never splits a source transaction.
``fold`` collapses an ordered batch into the final state of each primary key: an upsert (a full
row), a patch (a partial update whose missing columns keep their current values -- PostgreSQL's
unchanged TOASTed values) or a delete. Applying the folded state in one Iceberg commit gives the
same table as applying every change one by one, and never shows half of a transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import pyarrow as pa

Op = Literal["c", "u", "d", "r"]
POSITION_COLUMN = "_cdc_position"
COMMIT_TS_COLUMN = "_cdc_commit_ts"
OP_COLUMN = "_cdc_op"
META_COLUMNS = (POSITION_COLUMN, COMMIT_TS_COLUMN, OP_COLUMN)


@dataclass(frozen=True)
class Change:
    """One row change. ``row`` is the after-image (None for a delete); ``key`` the primary key
    values of the row before the change (an update that changes the key is a delete + insert)."""

    op: Op
    key: tuple
    position: str                      # sortable within one source: applied in this order
    row: dict[str, Any] | None = None
    unchanged: frozenset[str] = frozenset()  # columns absent from a partial update
    tx: str | None = None              # source transaction id (changes of one tx commit together)
    commit_ts: datetime | None = None
    types: dict[str, pa.DataType] | None = None  # source column types, when the source knows them


@dataclass
class KeyState:
    kind: Literal["upsert", "patch", "delete"]
    row: dict[str, Any] | None
    position: str
    op: Op
    commit_ts: datetime | None
    unchanged: set[str] = field(default_factory=set)


def key_of(row: dict[str, Any], primary_key: list[str]) -> tuple:
    if len(primary_key) == 1:
        return (row.get(primary_key[0]),)
    return tuple(row.get(c) for c in primary_key)


def fold(changes: list[Change], primary_key: list[str]) -> dict[tuple, KeyState]:
    """The final state of every key touched by ``changes`` (which are in apply order)."""
    states: dict[tuple, KeyState] = {}
    for ch in changes:
        if ch.op == "d":
            states[ch.key] = KeyState("delete", None, ch.position, "d", ch.commit_ts)
            continue
        row = dict(ch.row or {})
        new_key = key_of(row, primary_key)
        if ch.op == "u" and new_key != ch.key and all(v is not None for v in ch.key):
            # the primary key itself changed: the old key disappears
            old = states.get(ch.key)
            states[ch.key] = KeyState("delete", None, ch.position, "d", ch.commit_ts)
            if ch.unchanged and old is not None and old.row is not None:
                row = {**{c: old.row.get(c) for c in ch.unchanged}, **row}
                ch = Change(ch.op, new_key, ch.position, row, frozenset(), ch.tx, ch.commit_ts, ch.types)
        prev = states.get(new_key)
        if ch.unchanged:
            if prev is not None and prev.kind == "upsert":
                merged = {**prev.row, **row}
                states[new_key] = KeyState("upsert", merged, ch.position, ch.op, ch.commit_ts)
            elif prev is not None and prev.kind == "patch":
                merged = {**prev.row, **row}
                still = (prev.unchanged | set(ch.unchanged)) - set(row)
                states[new_key] = KeyState("patch", merged, ch.position, ch.op, ch.commit_ts, still)
            else:  # after a delete in this batch a partial image cannot be completed: keep it partial
                states[new_key] = KeyState("patch", row, ch.position, ch.op, ch.commit_ts,
                                           set(ch.unchanged))
        else:
            states[new_key] = KeyState("upsert", row, ch.position, ch.op, ch.commit_ts)
    return states


def source_types(changes: list[Change]) -> dict[str, pa.DataType]:
    """Column types declared by the source across a batch (last one wins: newest schema)."""
    out: dict[str, pa.DataType] = {}
    for ch in changes:
        if ch.types:
            out.update(ch.types)
    return out
