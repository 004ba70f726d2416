"""Headwater's partition overwrite (storage/overwrite.py, datafiles.py, txn_metadata.py) gives
what pyiceberg's own write gives on the same input, in one snapshot (ADR 0005)."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from decimal import Decimal

import pyarrow as pa
import pytest
from pyiceberg.io.pyarrow import _dataframe_to_data_files
from pyiceberg.table.update import update_table_metadata

from headwater.engines.duckdb import DuckDBEngine
from headwater.storage.datafiles import write_data_files
from headwater.storage.lakehouse import Lakehouse
from headwater.storage.overwrite import overwrite_partitions
from headwater.storage.txn_metadata import memoise

STATS = ["content", "file_format", "partition", "record_count", "file_size_in_bytes", "column_sizes",
         "value_counts", "null_value_counts", "nan_value_counts", "lower_bounds", "upper_bounds",
         "split_offsets", "sort_order_id"]


def _rows(seed: int, days: list[dt.date | None], n: int = 400) -> pa.Table:
    rng = random.Random(seed)
    return pa.table({
        "d": pa.array([rng.choice(days) for _ in range(n)], pa.date32()),
        "country": [rng.choice(["DE", "FR", None]) for _ in range(n)],
        "orders": pa.array([rng.randrange(1000) for _ in range(n)], pa.int64()),
        "revenue": pa.array([Decimal(rng.randrange(10**6)) / 100 for _ in range(n)], pa.decimal128(18, 2)),
        "share": [rng.random() if rng.random() > 0.1 else float("nan") for _ in range(n)],
        "at": pa.array([dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=rng.randrange(10**7))
                        for _ in range(n)], pa.timestamp("us", tz="UTC")),
        "seq": pa.array(range(n), pa.int64()),
    })


DAYS = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(12)]


@pytest.fixture
def lakehouse(tmp_path) -> Lakehouse:
    return Lakehouse(f"sqlite:///{tmp_path / 'catalog.db'}", tmp_path / "warehouse", "t")


def _seeded(lh: Lakehouse, name: str, data: pa.Table):
    lh.write(name, data, mode="append", partition_column="d")
    return lh.load(name)


def _sorted(table: pa.Table) -> list[str]:
    """The rows as comparable text, in a canonical order (NaN equals NaN here)."""
    return sorted(repr(tuple(row.values())) for row in table.to_pylist())


def _live_files(table) -> list:
    return [task.file for task in table.scan().plan_files()]


def test_data_files_match_pyiceberg_writer(lakehouse):
    data = _rows(1, DAYS + [None])
    table = _seeded(lakehouse, "f", data.slice(0, 10))
    theirs = {f.partition: f for f in _dataframe_to_data_files(table.metadata, data, table.io, uuid.uuid4())}
    ours = {f.partition: f for f in write_data_files(table.metadata, table.io, data)}
    assert ours.keys() == theirs.keys() and len(ours) == len(DAYS) + 1  # the null partition too
    for key, f in ours.items():
        for attr in STATS:
            assert getattr(f, attr) == getattr(theirs[key], attr), (key, attr)
        assert f.file_path.rsplit("/", 2)[-2] == theirs[key].file_path.rsplit("/", 2)[-2]  # d=2026-01-03


def test_partition_overwrite_matches_pyiceberg_in_one_snapshot(lakehouse):
    first, second = _rows(2, DAYS), _rows(3, DAYS[5:] + [dt.date(2026, 2, 1)], n=150)
    ours, theirs = _seeded(lakehouse, "ours", first), _seeded(lakehouse, "theirs", first)
    before = len(ours.snapshots())

    props = {"headwater.run-id": "r1", "headwater.step-id": "s1"}
    snap = lakehouse.write("ours", second, mode="partitions", partition_column="d",
                           properties={"run-id": "r1", "step-id": "s1"})
    theirs.dynamic_partition_overwrite(second, snapshot_properties=props)
    ours, theirs = lakehouse.load("ours"), lakehouse.load("theirs")

    assert len(ours.snapshots()) == before + 1 and snap.operation == "overwrite"
    assert snap.summary["headwater.run-id"] == "r1" and snap.summary["headwater.step-id"] == "s1"
    assert _sorted(ours.scan().to_arrow()) == _sorted(theirs.scan().to_arrow())
    mine, append = ours.current_snapshot().summary, theirs.current_snapshot().summary
    delete = theirs.snapshot_by_id(theirs.current_snapshot().parent_snapshot_id).summary  # their 2 snapshots
    for key in ("total-records", "total-data-files", "added-records", "added-data-files"):
        assert mine[key] == append[key], key
    for key in ("deleted-records", "deleted-data-files"):
        assert mine[key] == delete[key], key
    kept = ours.scan().to_arrow()
    assert set(kept.filter(pa.compute.less(kept["d"], DAYS[5]))["seq"].to_pylist()) == \
        set(first.filter(pa.compute.less(first["d"], DAYS[5]))["seq"].to_pylist())

    by_partition = lambda t: sorted((f.partition[0], f.record_count, f.lower_bounds, f.upper_bounds,
                                     f.null_value_counts) for f in _live_files(t))
    assert by_partition(ours) == by_partition(theirs)

    plan = lakehouse.plan("ours")  # our DuckDB engine reads the planned files directly
    session = DuckDBEngine().session()
    try:
        session.register_plan("ours", plan)
        via_duckdb = session.query("SELECT * FROM ours")
    finally:
        session.close()
    assert plan.record_count == via_duckdb.num_rows == kept.num_rows
    assert _sorted(via_duckdb.select(kept.column_names)) == _sorted(kept)


def test_partition_mode_replaces_or_empties_exactly_one_partition(lakehouse):
    first = _rows(4, DAYS)
    ours, theirs = _seeded(lakehouse, "ours", first), _seeded(lakehouse, "theirs", first)
    day = DAYS[3]
    one_day = _rows(5, [day], n=20)
    from pyiceberg.expressions import EqualTo

    for data in (one_day, one_day.schema.empty_table()):
        lakehouse.write("ours", data, mode="partition", partition_column="d", partition_value=day)
        theirs.overwrite(data, overwrite_filter=EqualTo("d", day))
        ours, theirs = lakehouse.load("ours"), lakehouse.load("theirs")
        assert _sorted(ours.scan().to_arrow()) == _sorted(theirs.scan().to_arrow())
        got = ours.scan().to_arrow()
        assert got.filter(pa.compute.equal(got["d"], day)).num_rows == data.num_rows
    # a partition with nothing in it, emptied again: an empty snapshot that still carries the step
    snap = lakehouse.write("ours", one_day.schema.empty_table(), mode="partition", partition_column="d",
                           partition_value=day, properties={"step-id": "s9"})
    assert snap.summary["headwater.step-id"] == "s9"


def test_overwrites_do_not_pile_up_manifests(lakehouse):
    table = _seeded(lakehouse, "f", _rows(6, DAYS))
    for i in range(6):
        lakehouse.write("f", _rows(10 + i, DAYS[:4]), mode="partitions", partition_column="d")
    table = lakehouse.load("f")
    manifests = table.current_snapshot().manifests(table.io)
    # the last overwrite's added + deleted manifests, and the rewritten one holding the other days
    assert len(manifests) <= 3
    assert sum(m.existing_files_count + m.added_files_count for m in manifests) == len(DAYS)


def test_layout_not_covered_falls_back_to_pyiceberg(lakehouse):
    from pyiceberg.transforms import MonthTransform

    table = _seeded(lakehouse, "f", _rows(7, DAYS))
    with table.update_spec() as spec:  # files of an older spec, and a non-identity field
        spec.add_field("at", MonthTransform(), "at_month")
    txn = table.transaction()
    assert overwrite_partitions(txn, _rows(8, DAYS[:2]), {}) is False and txn._updates == ()


def test_memoised_metadata_equals_pyiceberg(lakehouse):
    table = _seeded(lakehouse, "f", _rows(9, DAYS))
    txn = memoise(table.transaction())
    assert txn.table_metadata == update_table_metadata(table.metadata, ())
    with txn.update_schema() as update:
        update.add_column("extra", __import__("pyiceberg.types", fromlist=["x"]).StringType())
    staged = txn.table_metadata
    assert staged is txn.table_metadata  # computed once per staged change
    expected = update_table_metadata(table.metadata, txn._updates)
    assert staged.model_copy(update={"last_updated_ms": 0}) == expected.model_copy(update={"last_updated_ms": 0})
    assert staged.schema().find_field("extra")
    data = _rows(10, DAYS[:2]).append_column("extra", pa.array(["x"] * 400))
    assert overwrite_partitions(txn, data, {"headwater.step-id": "s"})
    after = txn.table_metadata
    assert after is not staged and len(after.snapshots) == len(table.metadata.snapshots) + 1
    txn.commit_transaction()
    got = lakehouse.load("f").scan().to_arrow()
    assert got.filter(pa.compute.is_in(got["d"], pa.array(DAYS[:2])))["extra"].to_pylist() == ["x"] * 400


def test_concurrent_commit_to_other_partitions_is_retried(lakehouse):
    base = _seeded(lakehouse, "f", _rows(11, DAYS))
    txn = memoise(base.transaction())
    assert overwrite_partitions(txn, _rows(12, DAYS[:2], n=30), {"headwater.step-id": "mine"})
    other = lakehouse.load("f")  # another writer lands first, in a partition this one does not touch
    other.append(_rows(13, [dt.date(2026, 3, 1)], n=5))
    theirs = other.current_snapshot().snapshot_id
    txn.commit_transaction()  # its first attempt fails on the moved head; the retry re-bases on it
    assert lakehouse.load("f").current_snapshot().parent_snapshot_id == theirs
    got = lakehouse.load("f").scan().to_arrow()
    days = got.column("d").to_pylist()
    assert days.count(dt.date(2026, 3, 1)) == 5
    assert sum(d in DAYS[:2] for d in days) == 30
    assert lakehouse.current("f").summary["headwater.step-id"] == "mine"


def _concurrent_same_partition(lakehouse, name: str, ours: bool):
    base = _seeded(lakehouse, name, _rows(14, DAYS))
    txn = memoise(base.transaction())
    data = _rows(15, DAYS[:2], n=30)
    if ours:
        assert overwrite_partitions(txn, data, {})
    else:
        txn.dynamic_partition_overwrite(data)
    lakehouse.load(name).append(_rows(16, [DAYS[0]], n=5))  # lands first, in a replaced partition
    try:
        txn.commit_transaction()
    except Exception as exc:  # pyiceberg's verdict on the conflict, whichever it is
        return type(exc).__name__
    return _sorted(lakehouse.load(name).scan().to_arrow())


def test_concurrent_commit_to_a_replaced_partition_gets_pyiceberg_verdict(lakehouse):
    assert _concurrent_same_partition(lakehouse, "ours", True) == \
        _concurrent_same_partition(lakehouse, "theirs", False)
