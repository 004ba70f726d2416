"""The Iceberg mirror of a source table: folded changes merged by primary key in one commit.

A merge marks the replaced rows deleted with position delete files and appends the new rows
(merge-on-read, ADR 0006); files that collect too many deletes are compacted by the merge itself.

The mirror holds the source columns plus ``_cdc_position`` (the position of the change that
wrote the row), ``_cdc_commit_ts`` (the source commit time) and ``_cdc_op``. Its snapshot summary
holds the lane position (``headwater.cdc.position``), so a restart resumes after the last change
whose effect is committed and re-applies nothing.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from headwater.errors import HeadwaterError, StorageError
from headwater.lanes.cdc.changes import (
    COMMIT_TS_COLUMN,
    META_COLUMNS,
    OP_COLUMN,
    POSITION_COLUMN,
    Change,
    KeyState,
    fold,
    source_types,
)
from headwater.lanes.cdc.rewrite import SMALL_FILE_BYTES, RewriteStats, key_array, merge_on_read
from headwater.lanes.cdc.schema import SchemaChange, check_schema
from headwater.storage.arrow_types import iceberg_compatible
from headwater.storage.txn_metadata import memoise

TARGET_FILE_BYTES = 64 * 1024 * 1024
META_FIELDS = [pa.field(POSITION_COLUMN, pa.string()), pa.field(COMMIT_TS_COLUMN, pa.timestamp("us", tz="UTC")),
               pa.field(OP_COLUMN, pa.string())]


@dataclass
class ApplyResult:
    changes: int
    inserted_or_updated: int
    deleted: int
    snapshot_id: int | None
    stats: RewriteStats
    schema_changes: list[SchemaChange]


class Mirror:
    """Applies batches of changes to the table ``name`` keyed by ``primary_key``."""

    def __init__(self, lakehouse, name: str, primary_key: list[str], threads: int = 4,
                 small_file_bytes: int = SMALL_FILE_BYTES) -> None:
        if not primary_key:
            raise HeadwaterError(f"the CDC product {name!r} has no primary_key",
                                 fix="add 'primary_key: [id]' (the source table's key) to the product")
        self.lakehouse = lakehouse
        self.name = name
        self.primary_key = primary_key
        self.threads = threads
        self.small_file_bytes = small_file_bytes  # touched files under this are rewritten (ADR 0006)

    def schema(self) -> pa.Schema | None:
        if not self.lakehouse.exists(self.name):
            return None
        from pyiceberg.io.pyarrow import schema_to_pyarrow

        return iceberg_compatible(schema_to_pyarrow(self.lakehouse.load(self.name).schema(),
                                                    include_field_ids=False))

    def apply_arrow(self, batch: pa.Table, properties: dict[str, str], *,
                    allow_drop: bool = False) -> ApplyResult:
        """Merge a columnar batch of full-row changes in one commit: the source columns plus
        ``_cdc_op`` (c/u/r/d) and ``_cdc_position`` (and optionally ``_cdc_commit_ts``), in any
        order; the highest position per key wins. Deletes need only the key columns filled."""
        if COMMIT_TS_COLUMN not in batch.column_names:
            batch = batch.append_column(COMMIT_TS_COLUMN, pa.nulls(batch.num_rows, META_FIELDS[1].type))
        final = fold_arrow(batch, self.primary_key)
        data = [f for f in batch.schema if f.name not in META_COLUMNS]
        declared = {f.name: f.type for f in data}
        probe = {(): KeyState("upsert", {f.name: None for f in data}, "", "c", None)}
        current = self.schema()
        target, evolutions = check_schema(self.name, current, probe, declared, self.primary_key,
                                          allow_drop=allow_drop)
        is_delete = pc.equal(final.column(OP_COLUMN), "d")
        upserts = final.filter(pc.invert(is_delete))
        deleted = final.num_rows - upserts.num_rows
        cols = [upserts.column(f.name).cast(f.type) if f.name in upserts.column_names
                else pa.nulls(upserts.num_rows, f.type) for f in target]
        rows = pa.Table.from_arrays(cols, schema=target)
        props = {f"headwater.{k}" if not k.startswith("headwater.") else k: str(v)
                 for k, v in properties.items()}
        if current is None:
            current = self._create(target)
        stats, snap = self._merge(current, target, props, allow_drop,
                                  lambda txn, io: (key_array(final, self.primary_key), rows))
        return ApplyResult(batch.num_rows, rows.num_rows, deleted, snap.snapshot_id if snap else None,
                           stats, evolutions)

    def _merge(self, current: pa.Schema, target: pa.Schema, props: dict[str, str], allow_drop: bool,
               changes_of) -> tuple[RewriteStats, Any]:
        """One commit: evolve the schema to ``target`` if it differs, then merge the (keys, new
        rows) that ``changes_of(txn, io)`` gives (it may read the table as the transaction sees it)."""
        table = self.lakehouse.load(self.name)
        try:
            txn = memoise(table.transaction())  # metadata computed once per staged change
            if not target.equals(current, check_metadata=False):
                with txn.update_schema(allow_incompatible_changes=allow_drop) as update:
                    for dropped in [f.name for f in current if f.name not in target.names]:
                        update.delete_column(dropped)
                    update.union_by_name(target)
            keys, rows = changes_of(txn, table.io)
            stats = merge_on_read(txn, table.io, self.primary_key, keys, rows, props, self.threads,
                                  small_file_bytes=self.small_file_bytes)
            txn.commit_transaction()
        except HeadwaterError:
            raise
        except Exception as exc:  # pyiceberg: CommitFailedException, OSError, ArrowInvalid...
            raise StorageError(f"merging changes into {self.name!r} failed: {exc}",
                               fix="the mirror is unchanged; the lane resumes from its last commit") from exc
        return stats, self.lakehouse.current(self.name)

    def _create(self, schema: pa.Schema) -> pa.Schema:
        """Create the empty mirror (its summary holds no position: a crash right after it simply
        starts over) with data files smaller than the 512 MB default, so that a merge rewrites,
        in parallel, only the files holding changed keys."""
        self.lakehouse.write(self.name, schema.empty_table(), mode="append",
                             properties={"cdc.created": "empty"})
        table = self.lakehouse.load(self.name)
        with table.transaction() as txn:
            txn.set_properties({"write.target-file-size-bytes": str(TARGET_FILE_BYTES),
                                # what other engines should do when they change the mirror
                                "write.delete.mode": "merge-on-read", "write.update.mode": "merge-on-read",
                                "write.merge.mode": "merge-on-read"})
        return schema

    def apply(self, changes: list[Change], properties: dict[str, str], *,
              types: dict[str, pa.DataType] | None = None, replace: bool = False,
              allow_drop: bool = False) -> ApplyResult:
        """Merge ``changes`` (in apply order) in one commit. ``replace``: the table becomes just
        these rows (a fresh initial snapshot)."""
        states = fold(changes, self.primary_key)
        declared = {**(types or {}), **source_types(changes)}
        current = self.schema()
        target, evolutions = check_schema(self.name, current, states, declared, self.primary_key,
                                          allow_drop=allow_drop)
        props = {f"headwater.{k}" if not k.startswith("headwater.") else k: str(v)
                 for k, v in properties.items()}
        upserts = [s for s in states.values() if s.kind == "upsert"]
        patches = {k: s for k, s in states.items() if s.kind == "patch"}
        deleted = sum(1 for s in states.values() if s.kind == "delete")
        if current is None:
            current = self._create(target)
        if replace:
            rows = _to_arrow([*upserts, *patches.values()], target)
            with warnings.catch_warnings():  # a whole-table replace needs no row-level deletes
                warnings.filterwarnings("ignore", message="Merge on read is not yet supported")
                snap = self.lakehouse.write(self.name, rows, mode="replace", properties=properties,
                                            allow_breaking=True)
            return ApplyResult(len(changes), rows.num_rows, deleted, snap.snapshot_id, RewriteStats(
                rows_added=rows.num_rows), evolutions)

        def changes_of(txn, io) -> tuple[pa.Array, pa.Table]:
            new_rows = _to_arrow(upserts, target)
            if patches:  # partial updates are completed from the rows they replace
                base = lookup(txn.table_metadata, io, self.primary_key, list(patches), target)
                done = [KeyState("upsert", {**{c: base.get(_norm_key(k, self.primary_key, target), {})
                                               .get(c) for c in s.unchanged}, **s.row},
                                 s.position, s.op, s.commit_ts) for k, s in patches.items()]
                new_rows = pa.concat_tables([new_rows, _to_arrow(done, target)])
            return _keys(list(states), self.primary_key, target), new_rows

        stats, snap = self._merge(current, target, props, allow_drop, changes_of)
        return ApplyResult(len(changes), len(upserts) + len(patches), deleted,
                           snap.snapshot_id if snap else None, stats, evolutions)


def fold_arrow(batch: pa.Table, pk: list[str]) -> pa.Table:
    """The last change per key of an Arrow change batch (columns + _cdc_op + _cdc_position)."""
    order = pc.sort_indices(batch, [*[(c, "ascending") for c in pk], (POSITION_COLUMN, "ascending")])
    ordered = batch.take(order)
    keys = key_array(ordered, pk)
    n = len(keys)
    if n == 0:
        return ordered
    differs = pc.not_equal(keys.slice(0, n - 1), keys.slice(1))
    last = pa.concat_arrays([differs, pa.array([True])])
    return ordered.filter(last)


def lookup(meta, io, pk: list[str], keys: list[tuple], schema: pa.Schema) -> dict[tuple, dict]:
    """The current rows of ``keys`` in the table described by ``meta`` (key -> row)."""
    from pyiceberg.expressions import AlwaysTrue
    from pyiceberg.io.pyarrow import ArrowScan

    from headwater.lanes.cdc.rewrite import _candidate_tasks

    wanted = _keys(keys, pk, schema)
    found: dict[tuple, dict] = {}
    for task in _candidate_tasks(meta, io, pk, wanted):
        data = ArrowScan(table_metadata=meta, io=io, projected_schema=meta.schema(),
                         row_filter=AlwaysTrue()).to_table(tasks=[task])
        for row in data.filter(pc.is_in(key_array(data, pk), value_set=wanted)).to_pylist():
            found[tuple(row[c] for c in pk)] = row
    return found


def _norm_key(key: tuple, pk: list[str], schema: pa.Schema) -> tuple:
    arr = pa.Table.from_pylist([dict(zip(pk, key))], schema=pa.schema([schema.field(c) for c in pk]))
    return tuple(arr.column(c)[0].as_py() for c in pk)


def _keys(keys: list[tuple], pk: list[str], schema: pa.Schema) -> pa.Array:
    columns = [_array([k[i] for k in keys], schema.field(c).type) for i, c in enumerate(pk)]
    return key_array(pa.Table.from_arrays(columns, names=pk), pk)


def _to_arrow(states: list[KeyState], schema: pa.Schema) -> pa.Table:
    names = [f.name for f in schema if f.name not in META_COLUMNS]
    cols: dict[str, list[Any]] = {n: [] for n in names}
    for s in states:
        row = s.row or {}
        for n in names:
            cols[n].append(row.get(n))
    cols[POSITION_COLUMN] = [s.position for s in states]
    cols[COMMIT_TS_COLUMN] = [s.commit_ts for s in states]
    cols[OP_COLUMN] = [s.op for s in states]
    arrays = [_array(cols[f.name], f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def _array(values: list[Any], type_: pa.DataType) -> pa.Array:
    try:
        return pa.array(values, type=type_)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        # JSON sources deliver text for timestamps and numbers as text or floats: cast through Arrow
        return pa.array([None if v is None else str(v) for v in values], pa.string()).cast(type_)


def mirror_schema(data_fields: list[pa.Field]) -> pa.Schema:
    return iceberg_compatible(pa.schema([*data_fields, *META_FIELDS]))
