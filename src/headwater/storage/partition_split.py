"""A linear-time replacement for pyiceberg's partition split.

pyiceberg (0.10–0.12) splits a batch into partitions by running one Arrow filter per distinct
partition value, and each filter builds an Acero plan (~5 ms). A daily fact re-written for 90 days
spent 0.45 s there for 1,080 rows. This version groups row indices once and takes each group,
producing the same partitions in the same order. It is installed only for the pyiceberg versions
it was checked against (tests/core/test_partition_split.py compares it with the original).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import pyarrow as pa

CHECKED_VERSIONS = ("0.10.", "0.11.", "0.12.")
_ROW = "__headwater_row"


def determine_partitions(spec, schema, arrow_table: pa.Table) -> Iterable:
    from pyiceberg.io.pyarrow import _get_field_from_arrow_table, _TablePartition
    from pyiceberg.partitioning import PartitionFieldValue, PartitionKey

    names = [f"_partition_{field.name}" for field in spec.fields]
    keyed = arrow_table
    for field, name in zip(spec.fields, names, strict=True):
        source = schema.find_field(field.source_id)
        column = schema.find_column_name(field.source_id)
        values = _get_field_from_arrow_table(arrow_table, column)
        keyed = keyed.append_column(name, field.transform.pyarrow_transform(source.field_type)(values))
    keyed = keyed.append_column(_ROW, pa.array(range(keyed.num_rows), pa.int64()))
    groups = keyed.select([*names, _ROW]).group_by(names, use_threads=False).aggregate([(_ROW, "list")])
    rows_per_group = groups.column(f"{_ROW}_list").to_pylist()
    keys = groups.select(names).to_pylist()
    for key, rows in zip(keys, rows_per_group, strict=True):
        partition_key = PartitionKey(
            field_values=[PartitionFieldValue(field=f, value=key[n]) for f, n in zip(spec.fields, names, strict=True)],
            partition_spec=spec, schema=schema)
        yield _TablePartition(partition_key=partition_key,
                              arrow_table_partition=arrow_table.take(pa.array(rows, pa.int64())).combine_chunks())


@functools.lru_cache(maxsize=1)
def install() -> bool:
    """Use the linear split in pyiceberg's writer (once; only on checked versions)."""
    import pyiceberg
    import pyiceberg.io.pyarrow as writer

    if not pyiceberg.__version__.startswith(CHECKED_VERSIONS) or not hasattr(writer, "_determine_partitions"):
        return False
    global ORIGINAL
    ORIGINAL = writer._determine_partitions
    writer._determine_partitions = determine_partitions
    return True


ORIGINAL = None  # pyiceberg's own split, kept for comparison
