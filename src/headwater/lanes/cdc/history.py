"""The optional SCD2 history table ``<product>__history`` beside the mirror.

Every insert and update becomes a version (``valid_from`` = the source commit time,
``valid_to`` null, ``is_current`` true, ``op``); the version it supersedes is closed
(``valid_to`` set, ``is_current`` false); a delete closes the current version. The table keeps
its own last applied change position in its snapshot summary, so re-delivered changes after a
crash (the history commits just before the mirror) are not recorded twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from headwater.errors import HeadwaterError, StorageError
from headwater.lanes.cdc.changes import META_COLUMNS, POSITION_COLUMN, Change
from headwater.lanes.cdc.rewrite import key_array, rewrite
from headwater.storage.txn_metadata import memoise

HISTORY_FIELDS = [pa.field("valid_from", pa.timestamp("us", tz="UTC")),
                  pa.field("valid_to", pa.timestamp("us", tz="UTC")),
                  pa.field("is_current", pa.bool_()), pa.field("op", pa.string()),
                  pa.field(POSITION_COLUMN, pa.string())]


def history_name(product: str) -> str:
    return f"{product}__history"


class History:
    def __init__(self, lakehouse, product: str, primary_key: list[str]) -> None:
        self.lakehouse = lakehouse
        self.product = product
        self.name = history_name(product)
        self.primary_key = primary_key

    def _last(self) -> str | None:
        if not self.lakehouse.exists(self.name):
            return None
        snap = self.lakehouse.current(self.name)
        return snap.summary.get("headwater.cdc.last-change") if snap else None

    def apply(self, changes: list[Change], properties: dict[str, str], *, types=None,
              replace: bool = False) -> int:
        """Record ``changes`` as versions in one commit; returns the number of versions added."""
        from headwater.lanes.cdc.mirror import Mirror, lookup

        last = None if replace else self._last()
        todo = [c for c in changes if last is None or c.position > last]
        if not todo:
            return 0
        props = dict(properties)
        props["cdc.last-change"] = max(c.position for c in todo)
        mirror = Mirror(self.lakehouse, self.product, self.primary_key)
        data_schema = mirror.schema()
        if data_schema is None:
            from headwater.lanes.cdc.changes import fold
            from headwater.lanes.cdc.schema import check_schema

            data_schema, _ = check_schema(self.product, None, fold(todo, self.primary_key),
                                          {**(types or {})}, self.primary_key)
        data_fields = [f for f in data_schema if f.name not in META_COLUMNS]
        schema = pa.schema([*data_fields, *HISTORY_FIELDS])
        pk = self.primary_key
        # rows needed to complete partial updates: the mirror still holds the pre-batch state
        partial = [c.key for c in todo if c.unchanged]
        base: dict[tuple, dict] = {}
        if partial and self.lakehouse.exists(self.product):
            table = self.lakehouse.load(self.product)
            base = lookup(table.metadata, table.io, pk, partial, data_schema)
        versions: list[dict[str, Any]] = []
        open_version: dict[tuple, dict[str, Any]] = {}
        first_change: dict[tuple, datetime | None] = {}
        for ch in todo:
            when = ch.commit_ts
            first_change.setdefault(ch.key, when)
            prev = open_version.pop(ch.key, None)
            if prev is not None:
                prev["valid_to"], prev["is_current"] = when, False
            if ch.op == "d":
                continue
            row = dict(ch.row)
            if ch.unchanged:
                source = prev or base.get(ch.key) or {}
                row = {**{c: source.get(c) for c in ch.unchanged}, **row}
            version = {**{f.name: row.get(f.name) for f in data_fields}, "valid_from": when,
                       "valid_to": None, "is_current": True, "op": ch.op, POSITION_COLUMN: ch.position}
            new_key = tuple(row.get(c) for c in pk)
            first_change.setdefault(new_key, when)
            open_version[new_key] = version
            versions.append(version)
        new_rows = pa.Table.from_pylist(versions, schema=schema)
        if not self.lakehouse.exists(self.name) or replace:
            self.lakehouse.write(self.name, new_rows, mode="replace" if replace else "append",
                                 properties=props, allow_breaking=replace)
            return len(versions)
        closing = {k: v for k, v in first_change.items()}

        def close(rows: pa.Table) -> pa.Table:
            keys = rows.select(pk).to_pylist()
            current = rows.column("is_current").to_pylist()
            valid_to = rows.column("valid_to").to_pylist()
            for i, (k, cur) in enumerate(zip(keys, current)):
                if cur:
                    valid_to[i] = closing.get(tuple(k[c] for c in pk))
            rows = rows.set_column(rows.schema.get_field_index("valid_to"), "valid_to",
                                   pa.array(valid_to, rows.schema.field("valid_to").type))
            return rows.set_column(rows.schema.get_field_index("is_current"), "is_current",
                                   pa.array([False] * rows.num_rows, pa.bool_()))

        table = self.lakehouse.load(self.name)
        try:
            txn = memoise(table.transaction())  # metadata computed once per staged change
            existing = txn.table_metadata.schema()
            if len(existing.fields) != len(schema):
                with txn.update_schema() as update:
                    update.union_by_name(schema)
            key_table = pa.Table.from_pylist([dict(zip(pk, k)) for k in first_change],
                                             schema=pa.schema([schema.field(c) for c in pk]))
            props = {f"headwater.{k}": str(v) for k, v in props.items()}
            rewrite(txn, table.io, pk, key_array(key_table, pk), new_rows, props, close)
            txn.commit_transaction()
        except HeadwaterError:
            raise
        except Exception as exc:  # pyiceberg commit and IO errors
            raise StorageError(f"recording history of {self.product!r} failed: {exc}",
                               fix="nothing was committed; the lane resumes from its last commit") from exc
        return len(versions)


def current_versions(table: pa.Table) -> pa.Table:
    return table.filter(pc.equal(table.column("is_current"), True))
