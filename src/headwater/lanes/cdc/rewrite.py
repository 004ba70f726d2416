"""Copy-on-write merge by key into an Iceberg table, in ONE snapshot.

The data files that may hold an affected key are found from the key column's bounds in the
manifests, read in parallel, split into rows to keep and rows matched, and rewritten; the new
rows are added; the removed and added files are committed as one ``overwrite`` snapshot whose
summary carries the lane's position. Files without an affected key are not read. Headwater
writes no delete files, so every engine reads the result without merge-on-read support.
"""

from __future__ import annotations

import bisect
import itertools
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

import pyarrow as pa
import pyarrow.compute as pc

MatchedFn = Callable[[pa.Table], "pa.Table | None"]


@dataclass
class RewriteStats:
    files_scanned: int = 0
    files_rewritten: int = 0
    files_added: int = 0
    rows_matched: int = 0
    rows_added: int = 0


def key_array(table: pa.Table, key_columns: list[str]) -> pa.Array:
    """One comparable array for the key (composite keys joined as text)."""
    if len(key_columns) == 1:
        col = table.column(key_columns[0])
        return col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    parts = [pc.cast(table.column(c), pa.string()) for c in key_columns]
    return pc.binary_join_element_wise(*parts, "\x1f").combine_chunks()


def rewrite(txn, io, key_columns: list[str], keys: pa.Array, new_rows: pa.Table,
            properties: dict[str, str], on_matched: MatchedFn | None = None,
            threads: int = 4) -> RewriteStats:
    """Remove rows whose key is in ``keys`` (passing them to ``on_matched``, whose result is
    written back), add ``new_rows``; stage it all as one snapshot in ``txn``."""
    from pyiceberg.expressions import AlwaysTrue
    from pyiceberg.io.pyarrow import ArrowScan, _dataframe_to_data_files

    meta = txn.table_metadata
    schema = meta.schema()
    stats = RewriteStats()
    tasks = _candidate_tasks(meta, io, key_columns, keys) if len(keys) else []
    stats.files_scanned = len(tasks)
    commit_uuid = uuid.uuid4()
    counter = itertools.count(0)
    value_set = keys.unique() if len(keys) else keys

    def process(task):
        data = ArrowScan(table_metadata=meta, io=io, projected_schema=schema,
                         row_filter=AlwaysTrue()).to_table(tasks=[task])
        mask = pc.is_in(key_array(data, key_columns), value_set=value_set)
        hits = pc.sum(mask).as_py() or 0
        if hits == 0:
            return None
        kept = data.filter(pc.invert(mask))
        matched = data.filter(mask)
        back = on_matched(matched) if on_matched is not None else None
        if back is not None and back.num_rows:
            kept = pa.concat_tables([kept, back.select(kept.schema.names).cast(kept.schema)])
        files = list(_dataframe_to_data_files(meta, kept, io, commit_uuid, counter)) \
            if kept.num_rows else []
        return task.file, files, hits

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        results = [r for r in pool.map(process, tasks) if r is not None]
    added = list(_dataframe_to_data_files(meta, new_rows, io, commit_uuid, counter)) \
        if new_rows.num_rows else []
    stats.rows_added = new_rows.num_rows
    stats.files_rewritten = len(results)
    stats.rows_matched = sum(r[2] for r in results)
    stats.files_added = len(added) + sum(len(r[1]) for r in results)
    if results:
        with txn.update_snapshot(snapshot_properties=properties).overwrite(commit_uuid) as snap:
            for old, new, _ in results:
                snap.delete_data_file(old)
                for f in new:
                    snap.append_data_file(f)
            for f in added:
                snap.append_data_file(f)
    else:
        # nothing rewritten: an append (possibly empty, so the position still moves forward)
        with txn.update_snapshot(snapshot_properties=properties).fast_append() as snap:
            for f in added:
                snap.append_data_file(f)
    return stats


def _candidate_tasks(meta, io, key_columns: list[str], keys: pa.Array):
    """Scan tasks of files that may contain a key: pruned by the key column's min/max bounds."""
    from pyiceberg.conversions import from_bytes
    from pyiceberg.table import DataScan

    snapshot = meta.current_snapshot()
    if snapshot is None:
        return []
    scan = DataScan(table_metadata=meta, io=io, snapshot_id=snapshot.snapshot_id)
    tasks = list(scan.plan_files())
    if len(key_columns) != 1 or not (pa.types.is_integer(keys.type)):
        return tasks
    field = meta.schema().find_field(key_columns[0])
    sorted_keys = pc.sort_indices(keys)
    ordered = pc.take(keys, sorted_keys).to_pylist()
    out = []
    for task in tasks:
        lower = (task.file.lower_bounds or {}).get(field.field_id)
        upper = (task.file.upper_bounds or {}).get(field.field_id)
        if lower is None or upper is None:
            out.append(task)
            continue
        lo, hi = from_bytes(field.field_type, lower), from_bytes(field.field_type, upper)
        i = bisect.bisect_left(ordered, lo)
        if i < len(ordered) and ordered[i] <= hi:
            out.append(task)
    return out
