"""What a table keeps on storage, read from Iceberg metadata (never from listing the warehouse).

A snapshot references its manifest list, its manifests and the data and delete files those
manifests hold as live entries. A table's stored bytes are the union over every live snapshot:
the current snapshot's files plus the history that retention keeps. The same file sets decide
what ``retention apply`` may delete, so showback, waste and retention agree byte for byte.

Snapshot times come from the ledger (the finish time of the step that committed the snapshot,
found by the ``headwater.step-id`` in its summary) so that they follow the injected clock, and
from Iceberg's own timestamp for snapshots written outside headwater.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from headwater.storage.lakehouse import SUMMARY_PREFIX

if TYPE_CHECKING:
    from pyiceberg.table import Table


@dataclass(frozen=True)
class SnapshotFiles:
    snapshot_id: int
    committed_at: datetime
    files: dict[str, int]  # path -> bytes, every file the snapshot needs (metadata and data)
    records: int
    data_files: frozenset[str]
    step_id: str | None
    fingerprint: str  # of the content (per-file counts, sizes, partitions, bounds), not the paths

    @property
    def bytes(self) -> int:
        return sum(self.files.values())


@dataclass
class TableFiles:
    """Live snapshots of one table, oldest first, with the files each references."""

    name: str
    snapshots: list[SnapshotFiles] = field(default_factory=list)
    current_id: int | None = None
    protected_ids: frozenset[int] = frozenset()

    def live_files(self, snapshot_ids: Iterable[int] | None = None) -> dict[str, int]:
        wanted = None if snapshot_ids is None else set(snapshot_ids)
        out: dict[str, int] = {}
        for snap in self.snapshots:
            if wanted is None or snap.snapshot_id in wanted:
                out.update(snap.files)
        return out

    @property
    def current(self) -> SnapshotFiles | None:
        return next((s for s in self.snapshots if s.snapshot_id == self.current_id), None)

    @property
    def stored_bytes(self) -> int:
        return sum(self.live_files().values())

    @property
    def current_bytes(self) -> int:
        return self.current.bytes if self.current else 0

    @property
    def history_bytes(self) -> int:
        return self.stored_bytes - self.current_bytes

    def timeline(self) -> list[tuple[datetime, int, int]]:
        """(from when, current bytes, history bytes) after each live snapshot, in time order.

        History at a point is what every earlier live snapshot keeps beyond the snapshot then
        current. Snapshots expired since are gone from the metadata, so the past is a lower bound.
        """
        points: list[tuple[datetime, int, int]] = []
        seen: dict[str, int] = {}
        for snap in sorted(self.snapshots, key=lambda s: s.committed_at):
            seen.update(snap.files)
            total = sum(seen.values())
            points.append((snap.committed_at, snap.bytes, total - snap.bytes))
        return points


def table_files(table: Table, name: str, step_times: dict[str, datetime]) -> TableFiles:
    """Read every live snapshot's file set from the table's metadata (manifests read once each)."""
    io = table.io
    manifest_cache: dict[str, tuple[dict[str, int], int, list[str]]] = {}
    out = TableFiles(name)
    current = table.current_snapshot()
    out.current_id = current.snapshot_id if current else None
    out.protected_ids = frozenset(ref.snapshot_id for ref in table.metadata.refs.values())
    for snap in table.snapshots():
        files: dict[str, int] = {snap.manifest_list: _length(io, snap.manifest_list)}
        data: set[str] = set()
        records = 0
        digests: list[str] = []
        for manifest in snap.manifests(io):
            files[manifest.manifest_path] = manifest.manifest_length
            if manifest.manifest_path not in manifest_cache:
                entries = manifest.fetch_manifest_entry(io, discard_deleted=True)
                manifest_cache[manifest.manifest_path] = (
                    {e.data_file.file_path: e.data_file.file_size_in_bytes for e in entries},
                    # live rows: data records less the rows position delete files remove
                    sum(e.data_file.record_count * {0: 1, 1: -1}.get(e.data_file.content.value, 0)
                        for e in entries),
                    [_digest(e.data_file) for e in entries])
            entry_files, entry_records, entry_digests = manifest_cache[manifest.manifest_path]
            files.update(entry_files)
            data.update(entry_files)
            records += entry_records
            digests.extend(entry_digests)
        props = snap.summary.additional_properties if snap.summary else {}
        step_id = props.get(SUMMARY_PREFIX + "step-id")
        when = step_times.get(step_id) if step_id else None
        if when is None:
            when = datetime.fromtimestamp(snap.timestamp_ms / 1000, tz=timezone.utc)
        fingerprint = hashlib.sha256("\n".join(sorted(digests)).encode()).hexdigest()[:16]
        out.snapshots.append(SnapshotFiles(snap.snapshot_id, when, files, records,
                                           frozenset(data), step_id, fingerprint))
    out.snapshots.sort(key=lambda s: s.committed_at)
    return out


def _digest(data_file) -> str:
    """A file's content identity without its path: rewriting the same rows gives the same digest."""
    parts = (data_file.content.value, data_file.record_count, data_file.file_size_in_bytes,
             repr(data_file.partition), sorted((data_file.value_counts or {}).items()),
             sorted((data_file.null_value_counts or {}).items()),
             sorted((data_file.lower_bounds or {}).items()),
             sorted((data_file.upper_bounds or {}).items()))
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _length(io, path: str) -> int:
    return len(io.new_input(path))


def integrate(points: list[tuple[datetime, int, int]], start: datetime,
              end: datetime) -> tuple[float, float]:
    """Byte-seconds of (current, history) between ``start`` and ``end`` on a step timeline."""
    current = history = 0.0
    for i, (since, cur, hist) in enumerate(points):
        until = points[i + 1][0] if i + 1 < len(points) else end
        lo, hi = max(since, start), min(until, end)
        if hi > lo:
            seconds = (hi - lo).total_seconds()
            current += cur * seconds
            history += hist * seconds
    return current, history
