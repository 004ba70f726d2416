"""What the gate's split of good and bad rows costs, per column, and the alternative of not copying.

    python benchmarks/contracts/split_bench.py [--data /tmp/hwc/bench_orders.parquet] [--repeat 3]

On the benchmark's 10M orders with 29,000 rows to take out (spread evenly, as the planted
violations are): each column filtered record batch by record batch on one thread; the whole
table record batch by record batch on every core (how ``gate.split`` worked until 2026-11-24);
``gate.split`` itself (column by column, a column per core); and the passing rows handed to
the Parquet writer as zero-copy slices between the failing rows instead of a copy, against the
write of the copied table. Each figure is the best of ``--repeat``. Writes split_results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import headwater  # noqa: F401,I001  before pyarrow loads: Arrow's pool as in every headwater process (arrow_memory.py)
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from headwater.contracts.gate import split as gate_split
from headwater.contracts.model import Severity
from headwater.contracts.plan import Check

HERE = Path(__file__).parent
FAILING = 29_000


class _Verdict:
    """What gate.split reads of a pass's verdict: the failing rows and one quarantine rule's mask."""

    def __init__(self, rows: np.ndarray) -> None:
        self.failing_rows = rows
        self.failing_masks = [np.ones(len(rows), np.int64)]
        self.row_checks = (Check("bench.rule", "range", Severity.QUARANTINE, ("amount",)),)


def best(fn, repeat: int) -> float:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return round(min(out), 3)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/tmp/hwc/bench_orders.parquet")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    table = pq.read_table(args.data)
    n = table.num_rows
    bad = np.sort(np.random.default_rng(1).choice(n, FAILING, replace=False))
    batches = table.to_batches()
    starts = np.cumsum([0] + [b.num_rows for b in batches])
    masks = []
    for k, batch in enumerate(batches):
        keep = np.ones(batch.num_rows, bool)
        lo, hi = np.searchsorted(bad, [starts[k], starts[k + 1]])
        keep[bad[lo:hi] - starts[k]] = False
        masks.append(pa.array(keep))
    res: dict = {"rows": n, "failing": FAILING, "batches": len(batches), "nproc": os.cpu_count(),
                 "per_column_one_thread": {}}
    for name in table.schema.names:
        seconds = best(lambda: [b.column(name).filter(m) for b, m in zip(batches, masks)], args.repeat)
        res["per_column_one_thread"][name] = {"type": str(table.schema.field(name).type), "seconds": seconds,
                                              "mb": round(table.column(name).nbytes / 1e6)}
        print(f"{name:12} {seconds:.3f} s  {res['per_column_one_thread'][name]['mb']} MB", flush=True)

    def every_core():
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            return list(pool.map(lambda bm: bm[0].filter(bm[1]), zip(batches, masks)))

    res["all_columns_every_core"] = best(every_core, args.repeat)  # record batch by record batch (before 2026-11-24)
    copied = pa.Table.from_batches(every_core(), table.schema)
    verdict = _Verdict(bad)
    res["gate_split_column_by_column"] = best(lambda: gate_split(table, verdict), args.repeat)  # gate.split today
    passed, quarantined, _ = gate_split(table, verdict)
    assert passed.equals(copied) and quarantined.num_rows == FAILING
    edges = np.concatenate([[-1], bad, [n]])

    def slices():
        return pa.concat_tables([table.slice(a + 1, b - a - 1) for a, b in zip(edges[:-1], edges[1:]) if b - a > 1])

    res["slices_build"] = best(slices, args.repeat)
    sliced = slices()
    with tempfile.TemporaryDirectory() as tmp:
        res["write_copied"] = best(lambda: pq.write_table(copied, f"{tmp}/c.parquet"), args.repeat)
        res["write_slices"] = best(lambda: pq.write_table(sliced, f"{tmp}/s.parquet"), args.repeat)
    res["slices_chunks"] = sliced.column(0).num_chunks
    print(json.dumps({k: v for k, v in res.items() if k != "per_column_one_thread"}))
    (HERE / "split_results.json").write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
