"""Ways to find the rows that break a pattern rule (ADR 0008's table), on the benchmark's 10M e-mails.

    python benchmarks/contracts/patterns_bench.py [--data /tmp/hwc/bench_orders.parquet] [--repeat 3]

Each figure is the best of ``--repeat`` (wall and process CPU seconds). Writes patterns_results.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import headwater  # noqa: F401,I001  before pyarrow loads: Arrow's pool as in every headwater process (arrow_memory.py)
import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from headwater.contracts.patterns import BLOCK, anchored, failing_positions
from headwater.contracts.regex_dfa import complement
from headwater.contracts.regex_glob import glob

HERE = Path(__file__).parent
EMAIL = r"[^@ ]+@[^@ ]+\.[a-z]+"
CURRENCY = "[A-Z]{3}"


def timed(fn, repeat: int) -> dict:
    wall, cpu = [], []
    for _ in range(repeat):
        r0, t = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        fn()
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        wall.append(time.perf_counter() - t)
        cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    return {"wall": round(min(wall), 3), "cpu": round(min(cpu), 3)}


def blocks(values: pa.Array) -> pa.Array:
    offsets = np.unique(np.minimum(np.arange(0, len(values) + BLOCK, BLOCK), len(values)))
    return pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values), "\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/tmp/hwc/bench_orders.parquet", help="made by bench.py")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    con = duckdb.connect()
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{args.data}')")
    emails = pq.read_table(args.data, columns=["email"]).column(0).combine_chunks()
    joined = blocks(emails)
    c_regex = "(?m)^(?:" + complement(EMAIL)[0] + ")$"
    sql = lambda e: (lambda: con.sql(f"SELECT count_if({e}) FROM t").fetchall())
    runs = {
        "duckdb: read the e-mails (contains '@')": sql("contains(email, '@')"),
        "duckdb: regexp_full_match (2 threads)": sql(f"NOT regexp_full_match(email, '{EMAIL}')"),
        "arrow: RE2 per row (1 thread)": lambda: pc.match_substring_regex(emails, anchored(EMAIL)),
        "arrow: RE2 counting matching lines in 64-row blocks (1 thread)":
            lambda: pc.count_substring_regex(joined, r"(?m)^[^@ \n]+@[^@ \n]+\.[a-z]+$"),
        "arrow: RE2 searching 64-row blocks for the complement (1 thread)":
            lambda: pc.match_substring_regex(joined, c_regex),
        "arrow: RE2 searching the blocks for (?m)^x$ (1 thread)": lambda: pc.match_substring_regex(joined, "(?m)^x$"),
        "headwater: failing_positions, in memory (2 threads)": lambda: failing_positions(emails, EMAIL),
        "duckdb: currency regexp_full_match": sql(f"NOT regexp_full_match(currency, '{CURRENCY}')"),
        "duckdb: currency GLOB": sql(f"NOT (currency GLOB '{glob(CURRENCY)}')"),
        "duckdb: read the currency (IS NULL)": sql("currency IS NULL"),
    }
    try:
        import hyperscan

        db = hyperscan.Database()
        db.compile(expressions=[("^(?:" + complement(EMAIL)[0] + ")$").encode()], ids=[0], elements=1,
                   flags=[hyperscan.HS_FLAG_MULTILINE | hyperscan.HS_FLAG_UTF8])
        one = pc.binary_join(pa.ListArray.from_arrays(pa.array([0, len(emails)], pa.int32()), emails), "\n")
        whole = memoryview(one[0].as_buffer())
        runs["hyperscan: complement over one buffer, UTF-8 mode (1 thread)"] = \
            lambda: db.scan(whole, match_event_handler=lambda *a: None)
    except ImportError:
        pass
    out = {"rows": len(emails), "bytes": emails.nbytes, "repeat": args.repeat,
           "load_before": Path("/proc/loadavg").read_text().split()[:3], "seconds": {}}
    for name, fn in runs.items():
        out["seconds"][name] = timed(fn, args.repeat)
        print(f"{name:70} {out['seconds'][name]['wall']:>7} s wall {out['seconds'][name]['cpu']:>7} s CPU", flush=True)
    (HERE / "patterns_results.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
