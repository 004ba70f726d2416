"""The linear partition split gives exactly what pyiceberg's own split gives."""

from __future__ import annotations

import datetime as dt
import random

import pyarrow as pa
import pyiceberg.io.pyarrow as writer
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import IdentityTransform
from pyiceberg.types import DateType, LongType, NestedField, StringType, TimestamptzType

from headwater.storage import partition_split


def _pyiceberg_split():
    if writer._determine_partitions is partition_split.determine_partitions:
        return partition_split.ORIGINAL
    return writer._determine_partitions


def test_same_partitions_as_pyiceberg():
    rng = random.Random(3)
    n = 2000
    schema = Schema(NestedField(1, "d", DateType(), required=False), NestedField(2, "c", StringType(), required=False),
                    NestedField(3, "x", LongType(), required=False), NestedField(4, "ts", TimestamptzType(), required=False))
    table = pa.table({
        "d": [None if rng.random() < 0.05 else dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(30)) for _ in range(n)],
        "c": [rng.choice(["DE", "FR", None]) for _ in range(n)],
        "x": list(range(n)),
        "ts": pa.array([dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=rng.randrange(90000))
                        for _ in range(n)], pa.timestamp("us", tz="UTC")),
    })
    specs = [PartitionSpec(PartitionField(1, 1000, IdentityTransform(), "d")),
             PartitionSpec(PartitionField(1, 1000, IdentityTransform(), "d"), PartitionField(2, 1001, IdentityTransform(), "c"))]  # headwater partitions by identity only
    original = _pyiceberg_split()
    for spec in specs:
        ours = list(partition_split.determine_partitions(spec, schema, table))
        theirs = list(original(spec, schema, table))
        assert len(ours) == len(theirs) > 1
        as_map = {tuple(v.value for v in p.partition_key.field_values): p.arrow_table_partition for p in theirs}
        for p in ours:
            key = tuple(v.value for v in p.partition_key.field_values)
            assert p.arrow_table_partition.equals(as_map[key]), key
        assert sum(p.arrow_table_partition.num_rows for p in ours) == n


def test_installed_on_checked_versions():
    assert partition_split.install() in (True, False)
    if partition_split.install():
        assert writer._determine_partitions is partition_split.determine_partitions
