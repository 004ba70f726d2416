"""Apply 100k CDC changes (80% updates, 15% inserts, 5% deletes) to a table of N rows.

Three contenders, same data, same machine, same run:

* headwater: ``Mirror.apply_arrow`` -- fold the changes by key, read the key column of the files
  that may hold an affected key, mark replaced rows deleted in position delete files, append the
  new rows, one Iceberg commit (merge-on-read, ADR 0006);
* pyiceberg: ``Table.upsert`` for inserts and updates, then ``Table.delete`` for the deletes;
* delta-rs: one ``MERGE`` (delete when the change is a delete, update all, insert all).

After each run the final tables are read back and checked equal (sorted by key). The read-back is
timed too (``read`` in the results): headwater through its DuckDB reader, which applies the
position deletes; delta-rs with ``to_pyarrow_table``; pyiceberg with ``scan().to_arrow()``.

    pip install -e '.[bench]'
    python benchmarks/cdc/bench.py --rows 1000000 --rows 10000000 --sustained 10 \
        --out benchmarks/cdc/results.json
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import headwater  # noqa: F401,I001  before pyarrow loads: Arrow's pool as in every headwater process (arrow_memory.py)
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

CHANGES = 100_000
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
SCHEMA = pa.schema([pa.field("id", pa.int64()), pa.field("customer_id", pa.int64()),
                    pa.field("status", pa.string()), pa.field("amount", pa.float64()),
                    pa.field("updated_at", pa.timestamp("us", tz="UTC"))])
STATUSES = np.array(["new", "paid", "shipped", "returned", "cancelled"])


def base_table(n: int, rng: np.random.Generator) -> pa.Table:
    ids = np.arange(1, n + 1, dtype=np.int64)
    return pa.table({
        "id": ids, "customer_id": rng.integers(1, 100_000, n),
        "status": pa.array(STATUSES[rng.integers(0, 5, n)]),
        "amount": np.round(rng.random(n) * 500, 2),
        "updated_at": pa.array(np.full(n, int(T0.timestamp() * 1e6)), pa.timestamp("us", tz="UTC")),
    }, schema=SCHEMA)


def change_set(n: int, rng: np.random.Generator) -> tuple[pa.Table, np.ndarray]:
    """Upsert rows (updates and inserts) and the keys to delete; every key changes once."""
    n_upd, n_ins = int(CHANGES * 0.80), int(CHANGES * 0.15)
    n_del = CHANGES - n_upd - n_ins
    touched = rng.choice(n, n_upd + n_del, replace=False) + 1
    upd, dele = touched[:n_upd], touched[n_upd:]
    ins = np.arange(n + 1, n + 1 + n_ins, dtype=np.int64)
    keys = np.concatenate([upd, ins]).astype(np.int64)
    m = len(keys)
    ts = int((T0 + timedelta(days=1)).timestamp() * 1e6)
    rows = pa.table({"id": keys, "customer_id": rng.integers(1, 100_000, m),
                     "status": pa.array(STATUSES[rng.integers(0, 5, m)]),
                     "amount": np.round(rng.random(m) * 500, 2),
                     "updated_at": pa.array(np.full(m, ts), pa.timestamp("us", tz="UTC"))}, schema=SCHEMA)
    return rows, dele.astype(np.int64)


def _headwater_mirror(work: Path, base: pa.Table):
    from headwater.lanes.cdc.mirror import Mirror
    from headwater.storage.lakehouse import Lakehouse

    lake = Lakehouse(f"sqlite:///{work}/catalog.db", work / "warehouse", "bench")
    mirror = Mirror(lake, "orders", ["id"], threads=4)
    # the initial snapshot, as the lane commits it (op r at the slot's consistent point)
    mirror.apply_arrow(_ops(base, "r", 0), {"cdc.position": "snapshot"})
    return lake, mirror


def _ops(rows: pa.Table, op: str, first: int) -> pa.Table:
    n = rows.num_rows
    return rows.append_column("_cdc_op", pa.array([op] * n)).append_column(
        "_cdc_position", pc.cast(pa.array(np.arange(first, first + n)), pa.string()))


def _delete_rows(deletes: np.ndarray) -> pa.Table:
    return pa.table({"id": deletes, **{f.name: pa.nulls(len(deletes), f.type) for f in SCHEMA
                                       if f.name != "id"}}, schema=SCHEMA)


def run_headwater(work: Path, base: pa.Table, rows: pa.Table,
                  deletes: np.ndarray) -> tuple[float, pa.Table, float]:
    """The merge given the change batch as Arrow (the same input delta-rs and pyiceberg get)."""
    lake, mirror = _headwater_mirror(work, base)
    batch = pa.concat_tables([_ops(rows, "u", 10**9), _ops(_delete_rows(deletes), "d", 2 * 10**9)])
    started = time.perf_counter()
    mirror.apply_arrow(batch, {"cdc.position": "changes"})
    seconds = time.perf_counter() - started
    return seconds, *_headwater_read(lake)


def _headwater_read(lake) -> tuple[pa.Table, float]:
    """The merged table as headwater's engine reads it (data files less position deletes)."""
    from headwater.engines.duckdb import DuckDBSession

    started = time.perf_counter()
    session = DuckDBSession()
    session.register_plan("orders", lake.plan("orders"))
    # the same five columns the other tables hold (the mirror also keeps _cdc_* columns)
    table = session.query(f"SELECT {', '.join(SCHEMA.names)} FROM orders")
    session.close()
    return table, time.perf_counter() - started


def run_headwater_changes(work: Path, base: pa.Table, rows: pa.Table,
                          deletes: np.ndarray) -> tuple[float, pa.Table, float]:
    """The lane's own path: one Python Change object per change (as sources decode them),
    folded per key, then the same copy-on-write merge."""
    from headwater.lanes.cdc.changes import Change

    lake, mirror = _headwater_mirror(work, base)
    started = time.perf_counter()
    upd = rows.to_pylist()
    changes = [Change("u", (r["id"],), f"{i:012d}", r, commit_ts=r["updated_at"]) for i, r in enumerate(upd)]
    changes += [Change("d", (int(k),), f"{len(upd) + i:012d}") for i, k in enumerate(deletes)]
    mirror.apply(changes, {"cdc.position": str(len(changes))})
    seconds = time.perf_counter() - started
    return seconds, *_headwater_read(lake)


def run_pyiceberg(work: Path, base: pa.Table, rows: pa.Table,
                  deletes: np.ndarray) -> tuple[float, pa.Table, float]:
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.expressions import In

    (work / "wh").mkdir()
    cat = SqlCatalog("b", uri=f"sqlite:///{work}/pi.db", warehouse=(work / "wh").as_uri())
    cat.create_namespace("bench")
    table = cat.create_table("bench.orders", schema=SCHEMA)
    table.append(base)
    started = time.perf_counter()
    table.upsert(rows, join_cols=["id"])
    table.delete(In("id", [int(k) for k in deletes]))
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    out = cat.load_table("bench.orders").scan().to_arrow().select(SCHEMA.names)
    return seconds, out, time.perf_counter() - started


def _delta_merge(path: str, source: pa.Table) -> None:
    """One delta-rs MERGE: delete when the change is a delete, update all, insert the rest."""
    from deltalake import DeltaTable

    (DeltaTable(path).merge(source=source, predicate="t.id = s.id", source_alias="s", target_alias="t")
     .when_matched_delete(predicate="s.op = 'd'")
     .when_matched_update(updates={c: f"s.{c}" for c in SCHEMA.names}, predicate="s.op <> 'd'")
     .when_not_matched_insert(updates={c: f"s.{c}" for c in SCHEMA.names}, predicate="s.op <> 'd'")
     .execute())


def run_delta(work: Path, base: pa.Table, rows: pa.Table,
              deletes: np.ndarray) -> tuple[float, pa.Table, float]:
    from deltalake import DeltaTable, write_deltalake

    path = str(work / "delta")
    write_deltalake(path, base)
    source = pa.concat_tables([
        rows.append_column("op", pa.array(["u"] * rows.num_rows)),
        pa.table({"id": deletes, "customer_id": pa.nulls(len(deletes), pa.int64()),
                  "status": pa.nulls(len(deletes), pa.string()),
                  "amount": pa.nulls(len(deletes), pa.float64()),
                  "updated_at": pa.nulls(len(deletes), pa.timestamp("us", tz="UTC")),
                  "op": pa.array(["d"] * len(deletes))}, schema=SCHEMA.append(pa.field("op", pa.string())))])
    started = time.perf_counter()
    _delta_merge(path, source)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    out = pa.table(DeltaTable(path).to_pyarrow_table()).select(SCHEMA.names)
    return seconds, out, time.perf_counter() - started


def run_sustained(n: int, rounds: int) -> dict:
    """``rounds`` successive batches of 100k changes into one n-row table, headwater vs delta-rs:
    merge-on-read accumulates deletes (and compacts a file past 20% deleted), so the merge and
    the read after the last round are both timed."""
    from deltalake import DeltaTable, write_deltalake

    rng = np.random.default_rng(7)
    base = base_table(n, rng)
    sets, top = [], n
    for _ in range(rounds):  # keys deleted in an earlier round may come back as inserts
        sets.append(change_set(top, rng))
        top += int(CHANGES * 0.15)
    out: dict = {"rows": n, "rounds": rounds, "merge_seconds": {}, "read_seconds": {}}
    finals = {}
    work = Path(tempfile.mkdtemp(prefix="hw-cdc-sustained-"))
    try:
        lake, mirror = _headwater_mirror(work / "hw", base)
        times = []
        for i, (rows, deletes) in enumerate(sets):
            batch = pa.concat_tables([_ops(rows, "u", (2 * i + 1) * 10**9),
                                      _ops(_delete_rows(deletes), "d", (2 * i + 2) * 10**9)])
            started = time.perf_counter()
            mirror.apply_arrow(batch, {"cdc.position": str(i)})
            times.append(round(time.perf_counter() - started, 2))
        final, read = _headwater_read(lake)
        plan = lake.plan("orders")
        out["merge_seconds"]["headwater"] = times
        out["read_seconds"]["headwater"] = round(read, 2)
        out["headwater_files"] = {"data": len(plan.files), "delete": len(plan.delete_files)}
        finals["headwater"] = canonical(final)
        path = str(work / "delta")
        write_deltalake(path, base)
        times = []
        for rows, deletes in sets:
            source = pa.concat_tables([rows.append_column("op", pa.array(["u"] * rows.num_rows)),
                                       _delete_rows(deletes).append_column("op", pa.array(["d"] * len(deletes)))])
            started = time.perf_counter()
            _delta_merge(path, source)
            times.append(round(time.perf_counter() - started, 2))
        started = time.perf_counter()
        final = pa.table(DeltaTable(path).to_pyarrow_table()).select(SCHEMA.names)
        out["read_seconds"]["delta-rs merge"] = round(time.perf_counter() - started, 2)
        out["merge_seconds"]["delta-rs merge"] = times
        finals["delta-rs merge"] = canonical(final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out["final_rows"] = finals["headwater"].num_rows
    out["final_states_equal"] = finals["headwater"].equals(finals["delta-rs merge"])
    assert out["final_states_equal"], "final states differ"
    for name, times in out["merge_seconds"].items():
        print(f"{n:>10,} rows x{rounds} rounds  {name:<16} merges {sum(times):7.2f}s {times}  "
              f"read after {out['read_seconds'][name]:.2f}s", flush=True)
    return out


def canonical(table: pa.Table) -> pa.Table:
    table = table.cast(pa.schema([pa.field(f.name, f.type) for f in SCHEMA]))
    return table.take(pc.sort_indices(table, [("id", "ascending")])).combine_chunks()


def machine() -> dict:
    def sh(cmd: str) -> str:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, check=False).stdout.strip()
    import deltalake
    import pyiceberg

    return {"nproc": sh("nproc"), "memory": sh("free -h | sed -n 2p"),
            "cpu": sh("lscpu | grep 'Model name' | sed 's/.*: *//'"), "python": platform.python_version(),
            "pyarrow": pa.__version__, "pyiceberg": pyiceberg.__version__, "deltalake": deltalake.__version__,
            "kernel": platform.release(), "loadavg_at_start": sh("cut -d' ' -f1-3 /proc/loadavg")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="table size (repeatable)")
    parser.add_argument("--skip", action="append", default=[], help="contender to skip")
    parser.add_argument("--sustained", type=int, default=0, metavar="ROUNDS",
                        help="also apply ROUNDS successive batches to the largest table (headwater vs delta-rs)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results = {"machine": machine(), "changes": CHANGES, "mix": "80% update / 15% insert / 5% delete",
               "runs": []}
    for n in args.rows or [1_000_000]:
        rng = np.random.default_rng(42)
        base = base_table(n, rng)
        rows, deletes = change_set(n, rng)
        run = {"rows": n, "seconds": {}, "read_seconds": {}}
        finals = {}
        for name, fn in (("headwater", run_headwater), ("headwater-changes (per-change objects)",
                                                        run_headwater_changes),
                         ("delta-rs merge", run_delta), ("pyiceberg upsert+delete", run_pyiceberg)):
            if name.split()[0] in args.skip:
                continue
            work = Path(tempfile.mkdtemp(prefix="hw-cdc-bench-"))
            try:
                seconds, final, read = fn(work, base, rows, deletes)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            run["seconds"][name] = round(seconds, 2)
            run["read_seconds"][name] = round(read, 2)
            finals[name] = canonical(final)
            print(f"{n:>10,} rows  {name:<40} {seconds:8.2f}s  read {read:6.2f}s  "
                  f"({final.num_rows:,} rows after)", flush=True)
        ref = next(iter(finals.values()))
        run["final_rows"] = ref.num_rows
        run["final_states_equal"] = all(t.equals(ref) for t in finals.values())
        assert run["final_states_equal"], "final states differ"
        results["runs"].append(run)
    if args.sustained:
        results["sustained"] = run_sustained(max(args.rows or [1_000_000]), args.sustained)
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
