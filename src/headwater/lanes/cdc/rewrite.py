"""Merges by key into an Iceberg table, each in ONE snapshot whose summary carries the lane's position.

The data files that may hold an affected key are found from the key column's bounds in the
manifests; files without an affected key are not read. Two ways to remove the matched rows:

* ``merge_on_read`` (the CDC mirror): read only the key columns, mark the matched rows deleted
  in one position delete file per touched data file, add the new rows (ADR 0006). A file whose
  deleted share passes ``COMPACT_RATIO`` is rewritten instead, so reads never pay for many deletes.
* ``rewrite`` (copy-on-write, the SCD2 history, whose matched rows are closed and written back):
  read the touched files whole and rewrite them without the matched rows.
"""

from __future__ import annotations

import bisect
import itertools
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from headwater.arrays import sorted_union

MatchedFn = Callable[[pa.Table], "pa.Table | None"]


@dataclass
class RewriteStats:
    files_scanned: int = 0
    files_rewritten: int = 0
    files_added: int = 0
    rows_matched: int = 0
    rows_added: int = 0
    delete_files_written: int = 0
    files_compacted: int = 0


COMPACT_RATIO = 0.2  # a data file with more than this share of its rows deleted is rewritten
SMALL_FILE_BYTES = 4 * 1024 * 1024  # a touched data file under this is rewritten, not marked
MAX_SMALL_FILES = 8  # more small files than this: untouched ones are folded in too


def key_array(table: pa.Table, key_columns: list[str]) -> pa.Array:
    """One comparable array for the key (composite keys joined as text)."""
    if len(key_columns) == 1:
        col = table.column(key_columns[0])
        return col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    parts = [pc.cast(table.column(c), pa.string()) for c in key_columns]
    return pc.binary_join_element_wise(*parts, "\x1f").combine_chunks()


class KeySet:
    """A set of keys built once and probed per data file.

    Integer keys are probed with numpy (a bitmap over the key range when it is small, else a
    binary search): Arrow's ``is_in`` rebuilds its hash set on every call, which cost ~0.3 s per
    1M-row file against 100k keys. Other keys (text, composite) use ``is_in``.
    """

    MAX_BITMAP = 1 << 26  # 64 MB of bool at most

    def __init__(self, keys: pa.Array) -> None:
        import numpy as np

        self.keys = keys.unique() if len(keys) else keys
        self._sorted = self._bitmap = None
        if pa.types.is_integer(keys.type) and len(self.keys) and self.keys.null_count == 0:
            ordered = np.sort(self.keys.to_numpy())
            self.low, self.high = int(ordered[0]), int(ordered[-1])
            if self.high - self.low < self.MAX_BITMAP:
                self._bitmap = np.zeros(self.high - self.low + 1, dtype=bool)
                self._bitmap[ordered - self.low] = True
            else:
                self._sorted = ordered

    def __len__(self) -> int:
        return len(self.keys)

    def mask(self, values: pa.Array):
        """A numpy bool array: which of ``values`` are in the set (null is never in it)."""
        import numpy as np

        if self._bitmap is None and self._sorted is None or values.null_count:
            return np.array(pc.is_in(values, value_set=self.keys).fill_null(False), dtype=bool)
        v = values.to_numpy()
        if self._bitmap is not None:
            out = np.zeros(len(v), dtype=bool)
            inside = (v >= self.low) & (v <= self.high)
            out[inside] = self._bitmap[v[inside] - self.low]
            return out
        at = np.searchsorted(self._sorted, v)
        at[at == len(self._sorted)] = 0
        return self._sorted[at] == v


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
    key_set = KeySet(keys)

    def process(task):
        data = ArrowScan(table_metadata=meta, io=io, projected_schema=schema,
                         row_filter=AlwaysTrue()).to_table(tasks=[task])
        hit = key_set.mask(key_array(data, key_columns))
        hits = int(hit.sum())
        if hits == 0:
            return None
        mask = pa.array(hit)
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


def merge_on_read(txn, io, key_columns: list[str], keys: pa.Array, new_rows: pa.Table,
                  properties: dict[str, str], threads: int = 4, compact_ratio: float = COMPACT_RATIO,
                  small_file_bytes: int = SMALL_FILE_BYTES) -> RewriteStats:
    """Delete the live rows whose key is in ``keys`` by position, add ``new_rows``; stage it all
    as one snapshot in ``txn``. Only the key columns of candidate files are read.

    A file is compacted instead (its live rows rewritten without the changed keys, together with
    ``new_rows``) when more than ``compact_ratio`` of it would be deleted, or when it is small
    (under ``small_file_bytes``) and touched; untouched small files join them once there are
    more than ``MAX_SMALL_FILES``. Small commits (a lane streaming a few changes at a time) thus
    keep folding their files together instead of adding one per commit."""
    import numpy as np
    from pyiceberg.expressions import AlwaysTrue
    from pyiceberg.io.pyarrow import ArrowScan, _dataframe_to_data_files
    from pyiceberg.table import FileScanTask

    from headwater.storage.row_deletes import (
        dangling_deletes,
        read_positions,
        references_only,
        row_delta,
        write_position_deletes,
    )

    meta = txn.table_metadata
    schema = meta.schema()
    key_schema = schema.select(*key_columns)
    stats = RewriteStats()
    every = _scan_tasks(meta, io)
    tasks = _candidate_tasks(meta, io, key_columns, keys, every) if len(keys) else []
    small = [t for t in every if t.file.file_size_in_bytes < small_file_bytes]
    candidates = {t.file.file_path for t in tasks}
    sweep = [t for t in small if t.file.file_path not in candidates] if len(small) > MAX_SMALL_FILES else []
    stats.files_scanned = len(tasks)
    commit_uuid = uuid.uuid4()
    counter = itertools.count(0)
    key_set = KeySet(keys)

    def live_rows(task) -> pa.Table:
        live = ArrowScan(table_metadata=meta, io=io, projected_schema=schema,
                         row_filter=AlwaysTrue()).to_table(tasks=[task])
        return live.filter(pa.array(~key_set.mask(key_array(live, key_columns)))) if len(key_set) else live

    def process(task):
        path = task.file.file_path
        replaced = [d for d in task.delete_files if references_only(d, path)]
        if path not in candidates:  # an untouched small file swept into the compaction
            return task.file, replaced, live_rows(task), None, 0
        # the key columns of every row in the file, deleted ones included: positions are physical
        raw = ArrowScan(table_metadata=meta, io=io, projected_schema=key_schema,
                        row_filter=AlwaysTrue()).to_table(tasks=[FileScanTask(task.file)])
        hit = key_set.mask(key_array(raw, key_columns))
        old = read_positions(io, task.delete_files, path)
        if len(old):
            hit[old] = False  # a row deleted earlier is not live: its key lives on elsewhere
        positions = np.flatnonzero(hit)
        if not len(positions):
            return None
        deleted = sorted_union(old, positions)
        if len(deleted) > compact_ratio * task.file.record_count \
                or task.file.file_size_in_bytes < small_file_bytes:
            return task.file, replaced, live_rows(task), None, len(positions)
        deletes = write_position_deletes(meta, io, task.file, deleted, commit_uuid, counter)
        return None, replaced, None, deletes, len(positions)

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        results = [r for r in pool.map(process, [*tasks, *sweep]) if r is not None]
    kept = [r[2] for r in results if r[2] is not None and r[2].num_rows]
    rows = pa.concat_tables([new_rows, *[k.select(new_rows.schema.names).cast(new_rows.schema) for k in kept]]) \
        if kept else new_rows
    added = list(_dataframe_to_data_files(meta, rows, io, commit_uuid, counter)) if rows.num_rows else []
    stats.rows_added = new_rows.num_rows
    stats.rows_matched = sum(r[4] for r in results)
    stats.files_compacted = sum(1 for r in results if r[0] is not None)
    stats.files_rewritten = stats.files_compacted
    stats.delete_files_written = sum(1 for r in results if r[3] is not None)
    stats.files_added = len(added)
    dangling = dangling_deletes(meta, io)
    if not results and not dangling:
        with txn.update_snapshot(snapshot_properties=properties).fast_append() as snap:
            for f in added:
                snap.append_data_file(f)
        return stats
    with row_delta(txn, io, properties, commit_uuid) as snap:
        for f in dangling:
            snap.delete_data_file(f)
        for compacted, replaced, _, deletes, _ in results:
            if compacted is not None:
                snap.delete_data_file(compacted)
            for f in replaced:
                snap.delete_data_file(f)
            if deletes is not None:
                snap.append_data_file(deletes)
        for f in added:
            snap.append_data_file(f)
    return stats


def _scan_tasks(meta, io) -> list:
    """Every scan task (data file with its delete files) of the current snapshot."""
    from pyiceberg.table import DataScan

    snapshot = meta.current_snapshot()
    if snapshot is None:
        return []
    return list(DataScan(table_metadata=meta, io=io, snapshot_id=snapshot.snapshot_id).plan_files())


def _candidate_tasks(meta, io, key_columns: list[str], keys: pa.Array, tasks: list | None = None):
    """Scan tasks of files that may contain a key: pruned by the key column's min/max bounds."""
    from pyiceberg.conversions import from_bytes

    tasks = _scan_tasks(meta, io) if tasks is None else tasks
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
