"""Merge-on-read CDC merges (ADR 0006): position delete files, read back by every reader.

The oracle is a Python dict replaying the same changes; pyiceberg's own scan (which applies
position deletes itself) and headwater's DuckDB reader must both equal it after every merge and
at every earlier snapshot.
"""

from __future__ import annotations

import random

import pyarrow as pa
import pytest

from headwater.engines.duckdb import DuckDBSession
from headwater.lanes.cdc.mirror import Mirror
from headwater.storage.lakehouse import Lakehouse

# these tables are tiny: with the default, every touched file would be "small" and rewritten
MARK = {"small_file_bytes": 0}
SCHEMA = pa.schema([pa.field("id", pa.int64()), pa.field("status", pa.string()),
                    pa.field("amount", pa.float64())])


@pytest.fixture
def lake(tmp_path):
    return Lakehouse(f"sqlite:///{tmp_path}/catalog.db", tmp_path / "warehouse", "t")


def _batch(changes: list[tuple[str, int, str | None, float | None]], first: int) -> pa.Table:
    ops, ids, statuses, amounts = zip(*changes) if changes else ((), (), (), ())
    return pa.table({"id": pa.array(ids, pa.int64()), "status": pa.array(statuses, pa.string()),
                     "amount": pa.array(amounts, pa.float64()), "_cdc_op": pa.array(ops, pa.string()),
                     "_cdc_position": pa.array([f"{first + i:012d}" for i in range(len(changes))])})


def _apply(state: dict, changes) -> None:
    for op, key, status, amount in changes:
        if op == "d":
            state.pop(key, None)
        else:
            state[key] = {"id": key, "status": status, "amount": amount}


def _rows(table: pa.Table) -> list[dict]:
    rows = table.select(["id", "status", "amount"]).to_pylist()
    return sorted(rows, key=lambda r: r["id"])


def _duckdb_rows(lake: Lakehouse, as_of=None) -> list[dict]:
    session = DuckDBSession(threads=1)
    try:
        session.register_plan("m", lake.plan("orders", as_of=as_of))
        return _rows(session.query("SELECT * FROM m"))
    finally:
        session.close()


def _delete_files_per_data_file(lake: Lakehouse) -> list[int]:
    return [len(task.delete_files) for task in lake.load("orders").scan().plan_files()]


def _seeded(lake, rows: int, threads: int) -> tuple[Mirror, dict[int, dict]]:
    """A mirror of ``rows`` inserted rows (ids 1..rows, position 0), and the oracle's state of it."""
    mirror = Mirror(lake, "orders", ["id"], threads=threads, **MARK)
    initial = [("r", k, "new", float(k)) for k in range(1, rows + 1)]
    mirror.apply_arrow(_batch(initial, 0), {"cdc.position": "0"})
    state: dict[int, dict] = {}
    _apply(state, initial)
    return mirror, state


def test_merges_mark_rows_deleted_and_every_reader_agrees(lake):
    rng = random.Random(7)
    mirror, state = _seeded(lake, 2000, threads=2)
    position, history = 10_000, []
    next_key = 2001
    for round_ in range(6):
        live = sorted(state)
        changes = [("u", k, f"paid{round_}", rng.random()) for k in rng.sample(live, 40)]
        changes += [("d", k, None, None) for k in rng.sample(live, 10)]
        changes += [("c", next_key + i, "new", 1.0) for i in range(15)]
        next_key += 15
        if round_ >= 1:  # a key deleted in an earlier round comes back; one key changes twice here
            changes.append(("c", history[-1][1], "back", 2.0))
            changes += [("u", live[0], "first", 3.0), ("u", live[0], "second", 4.0)]
        result = mirror.apply_arrow(_batch(changes, position), {"cdc.position": str(position)})
        position += len(changes)
        _apply(state, changes)
        expected = sorted(state.values(), key=lambda r: r["id"])
        history.append((result.snapshot_id, next(k for op, k, *_ in changes if op == "d"), expected))
        assert result.stats.delete_files_written >= 1
        assert _rows(lake.load("orders").scan().to_arrow()) == expected
        assert _duckdb_rows(lake) == expected
        plan = lake.plan("orders")
        assert plan.delete_files, "a merge over existing keys leaves position delete files"
        assert plan.record_count == len(expected) == lake.current("orders").rows
        assert max(_delete_files_per_data_file(lake)) == 1  # each merge replaces a file's deletes
    for snapshot_id, _, expected in history:  # time travel: each snapshot with its own deletes
        assert _duckdb_rows(lake, as_of=snapshot_id) == expected


def test_a_file_past_the_delete_ratio_is_compacted(lake):
    mirror, state = _seeded(lake, 1000, threads=2)
    small = [("u", k, "paid", 1.0) for k in range(1, 51)]  # 5%: marked deleted
    first = mirror.apply_arrow(_batch(small, 1000), {"cdc.position": "1"})
    assert (first.stats.delete_files_written, first.stats.files_compacted) == (1, 0)
    big = [("d", k, None, None) for k in range(100, 400)]  # 30% more: the file is rewritten
    second = mirror.apply_arrow(_batch(big, 2000), {"cdc.position": "2"})
    assert second.stats.files_compacted == 1 and second.stats.delete_files_written == 0
    _apply(state, small + big)
    expected = sorted(state.values(), key=lambda r: r["id"])
    plan = lake.plan("orders")
    # the rewritten file and its delete file are gone; the 50 updated rows' file has no deletes
    assert plan.delete_files == []
    assert _duckdb_rows(lake) == expected == _rows(lake.load("orders").scan().to_arrow())
    assert plan.record_count == 700 == lake.current("orders").rows


def test_delete_files_are_in_the_metadata_other_engines_read(lake):
    from pyiceberg.manifest import DataFileContent, ManifestContent

    mirror = Mirror(lake, "orders", ["id"], threads=1, **MARK)
    mirror.apply_arrow(_batch([("r", k, "new", 0.0) for k in range(1, 101)], 0), {"cdc.position": "0"})
    mirror.apply_arrow(_batch([("u", 5, "paid", 1.0), ("d", 7, None, None)], 100), {"cdc.position": "1"})
    table = lake.load("orders")
    snap = table.current_snapshot()
    manifests = snap.manifests(table.io)
    assert {m.content for m in manifests} == {ManifestContent.DATA, ManifestContent.DELETES}
    deletes = [e.data_file for m in manifests if m.content == ManifestContent.DELETES
               for e in m.fetch_manifest_entry(table.io)]
    assert [d.content for d in deletes] == [DataFileContent.POSITION_DELETES]
    assert deletes[0].record_count == 2
    assert snap.summary["total-position-deletes"] == "2" and snap.summary["total-records"] == "101"
    assert table.properties["write.delete.mode"] == "merge-on-read"
    assert lake.current("orders").summary["headwater.cdc.position"] == "1"


def test_storage_accounting_counts_delete_files(lake):
    from headwater.cost.storage import table_files

    mirror = Mirror(lake, "orders", ["id"], threads=1, **MARK)
    mirror.apply_arrow(_batch([("r", k, "new", 0.0) for k in range(1, 101)], 0), {"cdc.position": "0"})
    mirror.apply_arrow(_batch([("u", 5, "paid", 1.0)], 100), {"cdc.position": "1"})
    files = table_files(lake.load("orders"), "orders", {})
    current = files.current
    plan = lake.plan("orders")
    assert set(plan.delete_files) <= {p.replace("file://", "") for p in current.files}
    assert current.records == 100  # 101 data records less 1 deleted by position


def test_a_fresh_snapshot_leaves_no_delete_file_behind(lake):
    """A re-snapshot (replace) removes every data file; the next merge drops the delete files
    that named them, so the metadata and storage accounting hold only live files."""
    from headwater.lanes.cdc.changes import Change
    from headwater.storage.row_deletes import dangling_deletes

    mirror = Mirror(lake, "orders", ["id"], threads=1, **MARK)
    mirror.apply_arrow(_batch([("r", k, "new", 0.0) for k in range(1, 101)], 0), {"cdc.position": "0"})
    mirror.apply_arrow(_batch([("u", 5, "paid", 1.0)], 100), {"cdc.position": "1"})
    rows = [Change("r", (k,), f"{200 + k:012d}", {"id": k, "status": "again", "amount": 2.0})
            for k in range(1, 51)]
    mirror.apply(rows, {"cdc.position": "2"}, replace=True)
    table = lake.load("orders")
    assert len(dangling_deletes(table.metadata, table.io)) == 1  # left by the overwrite
    mirror.apply_arrow(_batch([("u", 7, "paid", 3.0)], 300), {"cdc.position": "3"})
    table = lake.load("orders")
    assert dangling_deletes(table.metadata, table.io) == []
    expected = [{"id": k, "status": "paid" if k == 7 else "again", "amount": 3.0 if k == 7 else 2.0}
                for k in range(1, 51)]
    assert _duckdb_rows(lake) == expected == _rows(table.scan().to_arrow())
    assert lake.current("orders").rows == 50


def test_many_merges_keep_the_manifest_list_short(lake):
    """A lane commits every few seconds: manifests must not pile up in the current snapshot."""
    from headwater.storage.row_deletes import MERGE_MANIFESTS_AT

    rng = random.Random(3)
    mirror, state = _seeded(lake, 500, threads=1)
    counts = []
    for i in range(40):
        changes = [("u", k, f"v{i}", float(i)) for k in rng.sample(sorted(state), 3)]
        changes.append(("c", 1000 + i, "new", 0.0))
        mirror.apply_arrow(_batch(changes, 1000 * (i + 1)), {"cdc.position": str(i + 1)})
        _apply(state, changes)
        table = lake.load("orders")
        counts.append(len(table.current_snapshot().manifests(table.io)))
    assert MERGE_MANIFESTS_AT < 20 and max(counts) <= 20, counts  # without merging: 31 after 40
    expected = sorted(state.values(), key=lambda r: r["id"])
    assert _duckdb_rows(lake) == expected == _rows(lake.load("orders").scan().to_arrow())
    assert lake.current("orders").rows == len(expected)


def test_small_commits_fold_their_files_together(lake):
    """A lane streaming a few changes per commit must not add a data file per commit: small
    touched files are rewritten with the new rows, and untouched ones once there are many."""
    from headwater.lanes.cdc.rewrite import MAX_SMALL_FILES

    assert MAX_SMALL_FILES < 10
    rng = random.Random(5)
    mirror = Mirror(lake, "orders", ["id"], threads=1)  # default: files under 4 MiB are small
    state: dict[int, dict] = {}
    next_key, files = 1, []
    for i in range(60):
        changes = [("c", next_key + j, "new", float(i)) for j in range(3)]  # inserts: untouched files
        next_key += 3
        if state and i % 3 == 0:
            changes += [("u", k, f"v{i}", 1.0) for k in rng.sample(sorted(state), 2)]
            changes.append(("d", rng.choice(sorted(state)), None, None))
        mirror.apply_arrow(_batch(changes, 100 * (i + 1)), {"cdc.position": str(i)})
        _apply(state, changes)
        files.append(len(lake.plan("orders").files))
    assert max(files) <= 10, files  # one file per commit would be 60
    assert lake.plan("orders").delete_files == []  # small files are rewritten, never marked
    expected = sorted(state.values(), key=lambda r: r["id"])
    assert _duckdb_rows(lake) == expected == _rows(lake.load("orders").scan().to_arrow())
