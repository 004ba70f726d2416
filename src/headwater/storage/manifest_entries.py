"""Manifest entries restated by the snapshot producers headwater subclasses (overwrite, row_deletes).

A file that stays in a rewritten manifest is carried as EXISTING with its original snapshot and
sequence numbers; a file a snapshot removes is recorded as DELETED by that snapshot.
"""

from __future__ import annotations


def carried(entry):
    """``entry`` as it is restated in a rewritten manifest: still live."""
    from pyiceberg.manifest import ManifestEntry, ManifestEntryStatus

    return ManifestEntry.from_args(status=ManifestEntryStatus.EXISTING, snapshot_id=entry.snapshot_id,
                                   sequence_number=entry.sequence_number,
                                   file_sequence_number=entry.file_sequence_number, data_file=entry.data_file)


def removed(entry, snapshot_id: int):
    """``entry`` as removed by the snapshot ``snapshot_id``."""
    from pyiceberg.manifest import ManifestEntry, ManifestEntryStatus

    return ManifestEntry.from_args(status=ManifestEntryStatus.DELETED, snapshot_id=snapshot_id,
                                   sequence_number=entry.sequence_number,
                                   file_sequence_number=entry.file_sequence_number, data_file=entry.data_file)
