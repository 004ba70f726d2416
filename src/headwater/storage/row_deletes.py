"""Row-level deletes on Iceberg v2 tables: position delete files, written and read.

pyiceberg reads position delete files but cannot write them. A merge by key that copies every
touched data file costs a full rewrite of the table when the keys are spread (ADR 0006); marking
the old rows deleted by position costs a read of the key column and a few kilobytes of deletes.

Each data file carries at most one position delete file written here: the next merge that
touches the file writes the union of its old and new positions and removes the old delete file
in the same snapshot (the same idea as Iceberg v3 deletion vectors). Every delete file written
here names exactly one data file, in its ``file_path`` bounds, so planners (pyiceberg's, Spark's,
Trino's) attach it to that file alone. A file whose deleted share passes a threshold is compacted
instead: its live rows are rewritten and its deletes dropped.

``RowDelta`` is pyiceberg's overwrite snapshot producer taught two things it lacks: delete
files go to a ``deletes`` manifest, and removing a delete file is allowed.
"""

from __future__ import annotations

import itertools
import uuid
from collections import defaultdict
from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from headwater.arrays import sorted_unique

PATH_FIELD_ID = 2147483546
POS_FIELD_ID = 2147483545
_ID = b"PARQUET:field_id"
MERGE_MANIFESTS_AT = 16  # live manifests in a snapshot before a row delta merges them into one
DELETE_SCHEMA = pa.schema([
    pa.field("file_path", pa.string(), nullable=False, metadata={_ID: str(PATH_FIELD_ID).encode()}),
    pa.field("pos", pa.int64(), nullable=False, metadata={_ID: str(POS_FIELD_ID).encode()}),
])


def read_positions(io, delete_files: Iterable, data_path: str) -> np.ndarray:
    """The deleted row positions of ``data_path`` in ``delete_files`` (sorted, unique)."""
    parts = []
    for delete_file in delete_files:
        with io.new_input(delete_file.file_path).open() as stream:
            table = pq.read_table(stream, columns=["file_path", "pos"])
        if table.num_rows:
            mask = pc.equal(table.column("file_path"), data_path)
            parts.append(table.column("pos").filter(mask).to_numpy())
    if not parts:
        return np.empty(0, dtype=np.int64)
    return sorted_unique(np.concatenate(parts).astype(np.int64))


def write_position_deletes(meta, io, data_file, positions: np.ndarray, commit_uuid: uuid.UUID,
                           counter: itertools.count):
    """One position delete file naming ``data_file`` at ``positions`` (sorted), as a DataFile."""
    from pyiceberg.conversions import to_bytes
    from pyiceberg.manifest import DataFile, DataFileContent, FileFormat
    from pyiceberg.table.locations import load_location_provider
    from pyiceberg.types import LongType, StringType

    positions = np.asarray(positions, dtype=np.int64)
    n = len(positions)
    table = pa.Table.from_arrays([pa.array(np.full(n, data_file.file_path, dtype=object), pa.string()),
                                  pa.array(positions, pa.int64())], schema=DELETE_SCHEMA)
    provider = load_location_provider(table_location=meta.location, table_properties=meta.properties)
    path = provider.new_data_location(f"{commit_uuid}-deletes-{next(counter):05d}.parquet")
    out = io.new_output(path)
    with out.create(overwrite=True) as stream:
        pq.write_table(table, stream, compression="zstd", use_dictionary=["file_path"])
    lower = {PATH_FIELD_ID: to_bytes(StringType(), data_file.file_path),
             POS_FIELD_ID: to_bytes(LongType(), int(positions[0]))}
    upper = {PATH_FIELD_ID: to_bytes(StringType(), data_file.file_path),
             POS_FIELD_ID: to_bytes(LongType(), int(positions[-1]))}
    delete_file = DataFile.from_args(
        content=DataFileContent.POSITION_DELETES, file_path=path, file_format=FileFormat.PARQUET,
        partition=data_file.partition, record_count=n, file_size_in_bytes=len(out),
        column_sizes={}, value_counts={PATH_FIELD_ID: n, POS_FIELD_ID: n},
        null_value_counts={PATH_FIELD_ID: 0, POS_FIELD_ID: 0}, nan_value_counts={},
        lower_bounds=lower, upper_bounds=upper, split_offsets=None, equality_ids=None,
        sort_order_id=None, key_metadata=None)
    try:
        delete_file.spec_id = data_file.spec_id  # not a field of the file: set on the object
    except AttributeError:
        delete_file.spec_id = meta.default_spec_id
    return delete_file


def references_only(delete_file, data_path: str) -> bool:
    """Whether ``delete_file`` names ``data_path`` and no other data file (its path bounds)."""
    from pyiceberg.conversions import to_bytes
    from pyiceberg.types import StringType

    want = to_bytes(StringType(), data_path)
    lower = (delete_file.lower_bounds or {}).get(PATH_FIELD_ID)
    upper = (delete_file.upper_bounds or {}).get(PATH_FIELD_ID)
    return lower == want and upper == want


def dangling_deletes(meta, io) -> list:
    """Position delete files of the current snapshot whose one data file is no longer live (left
    behind by an overwrite that removed the data file but, like pyiceberg's, kept delete files)."""
    from pyiceberg.manifest import DataFileContent, ManifestContent

    snapshot = meta.current_snapshot()
    if snapshot is None:
        return []
    live, deletes = set(), []
    for manifest in snapshot.manifests(io):
        for entry in manifest.fetch_manifest_entry(io, discard_deleted=True):
            if manifest.content == ManifestContent.DATA:
                live.add(entry.data_file.file_path)
            elif entry.data_file.content == DataFileContent.POSITION_DELETES:
                deletes.append(entry.data_file)
    out = []
    for d in deletes:
        lower = (d.lower_bounds or {}).get(PATH_FIELD_ID)
        if lower is not None and lower == (d.upper_bounds or {}).get(PATH_FIELD_ID) \
                and lower.decode("utf-8") not in live:
            out.append(d)
    return out


def row_delta(txn, io, properties: dict[str, str], commit_uuid: uuid.UUID | None = None):
    """A snapshot producer that adds and removes data AND position delete files in one snapshot."""
    from pyiceberg.manifest import (
        DataFileContent,
        ManifestContent,
        ManifestEntry,
        ManifestEntryStatus,
        ManifestWriterV2,
    )
    from pyiceberg.table.snapshots import Operation
    from pyiceberg.table.update.snapshot import _OverwriteFiles

    from headwater.storage.manifest_entries import carried, removed

    if txn.table_metadata.format_version != 2:
        raise ValueError("position deletes need an Iceberg format-version 2 table")

    class _DeleteManifestWriter(ManifestWriterV2):
        def content(self) -> ManifestContent:
            return ManifestContent.DELETES

        @property
        def _meta(self) -> dict[str, str]:
            return {**super()._meta, "content": "deletes"}

    class RowDelta(_OverwriteFiles):
        def _writer(self, spec, content: ManifestContent):
            if content == ManifestContent.DATA:
                return self.new_manifest_writer(spec)
            return _DeleteManifestWriter(spec, self.schema(), self.new_manifest_output(), self._snapshot_id,
                                         self._compression)

        def _manifests(self):
            self._build_delete_files_partition_predicate()
            deleted_entries = self._deleted_entries()
            manifests = []
            by_content: dict[tuple, list] = defaultdict(list)
            for f in self._added_data_files:
                by_content[(_content(f), _spec_of(f))].append(f)
            for (content, spec_id), files in by_content.items():
                with self._writer(self.spec(spec_id), content) as writer:
                    for f in files:
                        writer.add(ManifestEntry.from_args(status=ManifestEntryStatus.ADDED,
                                                           snapshot_id=self._snapshot_id, sequence_number=None,
                                                           file_sequence_number=None, data_file=f))
                manifests.append(writer.to_manifest_file())
            removed: dict[tuple, list] = defaultdict(list)
            for entry in deleted_entries:
                removed[(_content(entry.data_file), entry.data_file.spec_id)].append(entry)
            for (content, spec_id), entries in removed.items():
                with self._writer(self.spec(spec_id), content) as writer:
                    for entry in entries:
                        writer.add_entry(entry)
                manifests.append(writer.to_manifest_file())
            return self._process_manifests(manifests + self._existing_manifests())

        def _deleted_entries(self):
            parent = self._parent_snapshot_id
            if parent is None:
                self._validate_required_deletes([])
                return []
            snapshot = self._transaction.table_metadata.snapshot_by_id(parent)
            out = []
            for manifest in snapshot.manifests(self._io):
                for entry in manifest.fetch_manifest_entry(self._io, discard_deleted=True):
                    if entry.data_file in self._deleted_data_files:
                        out.append(removed(entry, self._snapshot_id))
            self._validate_required_deletes(out)
            return out

        def _existing_manifests(self):
            """The current manifests, less the removed files. Manifests with nothing live are
            dropped; past ``MERGE_MANIFESTS_AT`` the live entries are merged into one manifest
            per content and spec, so a lane committing every few seconds keeps a short list."""
            snapshot = self._transaction.table_metadata.snapshot_by_name(name=self._target_branch)
            if snapshot is None:
                return []
            manifests = snapshot.manifests(io=self._io)
            merge = len(manifests) > MERGE_MANIFESTS_AT
            out, groups = [], defaultdict(list)
            for manifest in manifests:
                entries = manifest.fetch_manifest_entry(io=self._io, discard_deleted=True)
                keep = [e for e in entries if e.data_file not in self._deleted_data_files]
                if not keep:
                    continue
                if len(keep) == len(entries) and not merge:
                    out.append(manifest)
                else:
                    groups[(manifest.content, manifest.partition_spec_id)].extend(keep)
            for (content, spec_id), keep in groups.items():
                with self._writer(self.spec(spec_id), content) as writer:
                    for e in keep:
                        writer.add_entry(carried(e))
                out.append(writer.to_manifest_file())
            return out

    def _spec_of(f) -> int:
        try:
            return f.spec_id
        except AttributeError:  # files fresh from pyiceberg's writer: the table's default spec
            return txn.table_metadata.default_spec_id

    def _content(f) -> ManifestContent:
        return ManifestContent.DATA if f.content == DataFileContent.DATA else ManifestContent.DELETES

    has_parent = txn.table_metadata.current_snapshot() is not None
    return RowDelta(commit_uuid=commit_uuid, operation=Operation.OVERWRITE if has_parent else Operation.APPEND,
                    transaction=txn, io=io, snapshot_properties=properties)
