"""Replace partitions of an Iceberg table in ONE snapshot, choosing the files by partition value.

pyiceberg's ``dynamic_partition_overwrite`` stages two snapshots: a delete, which builds an
OR of one equality per replaced partition and evaluates it against the metrics of every data
file, then an append. Rewriting the 90 daily partitions of a fact spent most of its commit there.
Headwater partitions by identity only, so the files of a replaced partition are exactly those
whose manifest ``partition`` equals the new files' partition: this module writes the new files
(``datafiles.py``: the same files and statistics pyiceberg writes), collects the live files of
those partitions from the manifests, and stages one ``overwrite`` snapshot that removes them and
adds the new ones. A layout it does not cover (not exactly one identity field, files of an older
partition spec, a pyiceberg version it was not checked on) returns ``False`` so the caller uses
pyiceberg's general path. ADR 0005; ``tests/core/test_overwrite.py`` compares the two.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from headwater.storage.datafiles import single_identity_column, write_data_files
from headwater.storage.txn_metadata import CHECKED_VERSIONS


def covers(meta, manifests: list) -> bool:
    """Whether partition overwrites of this table's current layout can be staged here: one
    identity partition field, and every data file written under the current spec."""
    import pyiceberg

    if not pyiceberg.__version__.startswith(CHECKED_VERSIONS) or single_identity_column(meta) is None:
        return False
    return all(m.partition_spec_id == meta.default_spec_id for m in manifests)


def overwrite_partitions(txn, data: pa.Table, properties: dict[str, str],
                         partition: dict[str, Any] | None = None, also: list[dict[str, Any]] = ()) -> bool:
    """Stage in ``txn`` one snapshot replacing partitions with ``data``.

    Without ``partition``: the partitions present in ``data`` are replaced, and those of ``also``
    too (emptied when ``data`` has no row for them: a gate that quarantined a partition's every
    row). With nothing to replace, nothing is staged. With ``partition`` (``{column: value}``
    for every partition column): exactly that partition is replaced, and an empty ``data``
    empties it. Returns ``False``, staging nothing, when the table's layout is not one this
    module covers.
    """
    from pyiceberg.io.pyarrow import _check_pyarrow_schema_compatible
    from pyiceberg.table import DOWNCAST_NS_TIMESTAMP_TO_US_ON_WRITE
    from pyiceberg.table.snapshots import Operation
    from pyiceberg.utils.config import Config

    meta = txn.table_metadata
    io = txn._table.io
    current = meta.current_snapshot()
    manifests = current.manifests(io) if current else []
    if not covers(meta, manifests):
        return False
    _check_pyarrow_schema_compatible(
        meta.schema(), provided_schema=data.schema,
        downcast_ns_timestamp_to_us=Config().get_bool(DOWNCAST_NS_TIMESTAMP_TO_US_ON_WRITE) or False,
        format_version=meta.format_version)
    if partition is None and data.num_rows == 0 and not also:
        return True
    commit_uuid = uuid.uuid4()
    added = write_data_files(meta, io, data, commit_uuid)
    if partition is None:
        targets = {f.partition for f in added} | {_partition_record(meta, p) for p in also}
    else:
        targets = {_partition_record(meta, partition)}
    replaced = ManifestSplit.of(manifests, io, lambda f: f.partition in targets, _bounds_filter(meta, targets))
    if replaced.deleted:
        snapshot = _producer_class()(replaced, targets, operation=Operation.OVERWRITE, transaction=txn,
                                     io=io, commit_uuid=commit_uuid, snapshot_properties=properties)
    else:
        # nothing replaced: an append (possibly empty, so the step's position is still recorded)
        snapshot = txn.update_snapshot(snapshot_properties=properties).fast_append()
        snapshot.commit_uuid = commit_uuid
    with snapshot:
        for f in added:
            snapshot.append_data_file(f)
    return True


@dataclass
class ManifestSplit:
    """The manifests of a snapshot split by which of their live data files are replaced."""

    keep: list  # manifests with no replaced file, listed unchanged
    rewrite: list  # (manifest, its live entries that stay)
    deleted: list  # live entries of the replaced files

    @classmethod
    def of(cls, manifests: list, io, replaced: Callable[[Any], bool],
           may_hold: Callable[[Any], bool] = lambda m: True) -> ManifestSplit:
        """Read each manifest once (skipping those whose partition bounds rule it out) and split.

        Delete-file manifests are kept as they are. A data manifest whose entries are all deleted
        ones, left by an earlier overwrite, is dropped: it lists no live file, as pyiceberg's own
        append drops it.
        """
        from pyiceberg.manifest import DataFileContent, ManifestContent

        out = cls([], [], [])
        for manifest in manifests:
            if manifest.content != ManifestContent.DATA:
                out.keep.append(manifest)
                continue
            if not (manifest.has_added_files() or manifest.has_existing_files()):
                continue
            if not may_hold(manifest):
                out.keep.append(manifest)
                continue
            stay, gone = [], []
            for entry in manifest.fetch_manifest_entry(io, discard_deleted=True):
                is_data = entry.data_file.content == DataFileContent.DATA
                (gone if is_data and replaced(entry.data_file) else stay).append(entry)
            if not gone:
                out.keep.append(manifest)
            elif stay:
                out.rewrite.append((manifest, stay))
            out.deleted += gone
        return out


@functools.cache
def _producer_class():
    """pyiceberg's overwrite producer, fed the split above instead of evaluating a predicate."""
    from pyiceberg.exceptions import ValidationException
    from pyiceberg.table.update.snapshot import _OverwriteFiles

    from headwater.storage.manifest_entries import carried, removed

    class ReplacePartitions(_OverwriteFiles):
        def __init__(self, split: ManifestSplit, partitions: set, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._split = split
            self._partitions = partitions
            for entry in split.deleted:
                self.delete_data_file(entry.data_file)

        def _build_delete_files_partition_predicate(self) -> None:
            """The replaced files are already chosen, by partition value."""

        def _deleted_entries(self) -> list:
            return [removed(e, self._snapshot_id) for e in self._split.deleted]

        def _existing_manifests(self) -> list:
            out = list(self._split.keep)
            for manifest, entries in self._split.rewrite:
                with self.new_manifest_writer(self.spec(manifest.partition_spec_id)) as writer:
                    for e in entries:
                        writer.add_entry(carried(e))
                out.append(writer.to_manifest_file())
            return out

        def _refresh_for_retry(self) -> None:
            """A concurrent commit landed first: replace the same files, found in the new head.

            pyiceberg then checks the commits in between against ``_predicate``: the replaced
            partitions, as its own dynamic overwrite does (built only here, on the rare retry)."""
            super()._refresh_for_retry()
            meta = self._transaction.table_metadata
            self._predicate = self._transaction._build_partition_predicate(
                partition_records=self._partitions,
                partition_fields=[meta.schema().find_column_name(f.source_id) for f in meta.spec().fields])
            paths = {e.data_file.file_path for e in self._split.deleted}
            head = self._transaction.table_metadata.snapshot_by_id(self._parent_snapshot_id) \
                if self._parent_snapshot_id is not None else None
            manifests = head.manifests(self._io) if head else []
            self._split = ManifestSplit.of(manifests, self._io, lambda f: f.file_path in paths)
            if missing := paths - {e.data_file.file_path for e in self._split.deleted}:
                raise ValidationException(f"Missing required files to delete: {', '.join(sorted(missing))}")

    return ReplacePartitions


def _bounds_filter(meta, targets: set) -> Callable[[Any], bool]:
    """Whether a manifest's partition bounds admit one of ``targets`` (one identity field)."""
    from pyiceberg.conversions import from_bytes

    field_type = meta.spec().partition_type(meta.schema()).fields[0].field_type
    values = [t[0] for t in targets]
    wants_null = any(v is None for v in values)
    values = [v for v in values if v is not None]

    def may_hold(manifest) -> bool:
        summaries = manifest.partitions or []
        if len(summaries) != 1:
            return True
        summary = summaries[0]
        if wants_null and summary.contains_null:
            return True
        if summary.lower_bound is None or summary.upper_bound is None:
            return True  # no bounds recorded: read it
        lower, upper = from_bytes(field_type, summary.lower_bound), from_bytes(field_type, summary.upper_bound)
        return any(lower <= v <= upper for v in values)

    return may_hold


def _partition_record(meta, values: dict[str, Any]):
    from pyiceberg.partitioning import PartitionFieldValue, PartitionKey

    schema, spec = meta.schema(), meta.spec()
    fields = []
    for field in spec.fields:
        column = schema.find_column_name(field.source_id)
        if column not in values:
            raise ValueError(f"no value for the partition column {column!r}")
        fields.append(PartitionFieldValue(field=field, value=values[column]))
    return PartitionKey(field_values=fields, partition_spec=spec, schema=schema).partition


__all__ = ["ManifestSplit", "covers", "overwrite_partitions"]
