"""Schema evolution at write time: compatible changes evolve the table, breaking ones need a full refresh."""

from __future__ import annotations

import pyarrow as pa

from headwater.errors import StorageError
from headwater.storage.arrow_types import iceberg_compatible


def plan_schema_change(name: str, txn, current, incoming: pa.Schema, allow_breaking: bool) -> None:
    """Evolve ``current`` (an Iceberg schema) inside ``txn`` so that ``incoming`` can be written."""
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    existing = iceberg_compatible(schema_to_pyarrow(current, include_field_ids=False))
    if existing.equals(incoming, check_metadata=False):
        return
    have = {f.name: f.type for f in existing}
    want = {f.name: f.type for f in incoming}
    missing = [c for c in have if c not in want]
    retyped = [c for c in want if c in have and not _widens(have[c], want[c])]
    if not missing and not retyped:
        with txn.update_schema() as update:
            update.union_by_name(incoming)
        return
    if not allow_breaking:
        changes = [f"column {c!r} is no longer produced" for c in missing] + \
                  [f"column {c!r} changes type {have[c]} -> {want[c]}" for c in retyped]
        raise StorageError(f"the output of {name!r} changed incompatibly: {'; '.join(changes)}",
                           fix=f"if intended, rebuild the table: headwater run {name} --full-refresh")
    with txn.update_schema(allow_incompatible_changes=True) as update:
        for column in missing + retyped:
            update.delete_column(column)
    with txn.update_schema(allow_incompatible_changes=True) as update:
        update.union_by_name(incoming)


def _widens(old: pa.DataType, new: pa.DataType) -> bool:
    if old.equals(new):
        return True
    widenings = {(pa.int32(), pa.int64()), (pa.float32(), pa.float64())}
    if (old, new) in widenings:
        return True
    if pa.types.is_decimal(old) and pa.types.is_decimal(new):
        return old.scale == new.scale and new.precision >= old.precision
    return False
