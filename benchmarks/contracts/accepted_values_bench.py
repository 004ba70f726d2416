"""How an accepted-values rule should compile for DuckDB: CASE, list_position, NOT IN, or an ENUM cast.

    python benchmarks/contracts/accepted_values_bench.py [--rows 2000000] [--repeat 3]

``list_position([values], s)`` and a cast to ``ENUM(values)`` are both decided once per dictionary
entry when DuckDB reads a dictionary-encoded Parquet column, so both beat a ``CASE`` on clean data;
but every value NOT in the list takes the cast's failure path, which costs far more than a CASE
branch, and a contract check exists to find dirty data. headwater compiles short lists on string
columns to ``list_position`` (ADR 0012). Four Parquet files, 5 accepted values (the benchmark's
``status`` rule), each figure the best of ``--repeat``:

- ``clean``: 1 row in 1000 fails, a 6-entry dictionary;
- ``dirty_plain``: 1 row in 4 fails with a value of its own (pages fall back to plain encoding);
- ``dirty_dictionary_100`` / ``_20000``: 95% and more fail, every page dictionary-encoded.

Writes accepted_values_results.json next to this file.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import headwater  # noqa: F401,I001  before pyarrow loads: Arrow's pool as in every headwater process (arrow_memory.py)
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).parent
ACCEPTED = ["placed", "paid", "shipped", "delivered", "cancelled"]


def datasets(rows: int) -> dict[str, list[str]]:
    return {
        "clean": [ACCEPTED[i % 5] if i % 1000 else "lost" for i in range(rows)],
        "dirty_plain": [ACCEPTED[i % 5] if i % 4 else f"free text {i}" for i in range(rows)],
        "dirty_dictionary_100": [ACCEPTED[0] if i % 100 == 0 else f"v{i % 100}" for i in range(rows)],
        "dirty_dictionary_20000": [ACCEPTED[0] if i % 20000 == 0 else f"v{i % 20000}" for i in range(rows)],
    }


def forms() -> dict[str, str]:
    values = ", ".join(f"'{v}'" for v in ACCEPTED)
    return {
        "case": "CASE s " + " ".join(f"WHEN '{v}' THEN false" for v in ACCEPTED) + " ELSE s IS NOT NULL END",
        "list_position (headwater)": f"s IS NOT NULL AND list_position([{values}], s) IS NULL",
        "not in": f"s IS NOT NULL AND s NOT IN ({values})",
        "enum cast": f"s IS NOT NULL AND TRY_CAST(s AS ENUM({values})) IS NULL",
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    con = duckdb.connect()
    res: dict = {"rows": args.rows, "nproc": os.cpu_count(), "duckdb": duckdb.__version__, "seconds": {}, "failing": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, values in datasets(args.rows).items():
            path = f"{tmp}/{name}.parquet"
            pq.write_table(pa.table({"s": pa.array(values, pa.string())}), path)
            pages = con.execute(f"SELECT encoding_stats FROM parquet_metadata('{path}')").fetchall()
            plain = any(p["page_type"].startswith("DATA_PAGE") and p["encoding"] == "PLAIN"
                        for (stats,) in pages for p in stats or [])
            res["seconds"][name], res["failing"][name] = {"plain_pages": plain}, None
            for form, cond in forms().items():
                best = float("inf")
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    failing = con.execute(f"SELECT count_if({cond}) FROM read_parquet('{path}')").fetchall()[0][0]
                    best = min(best, time.perf_counter() - t)
                res["seconds"][name][form] = round(best, 4)
                if res["failing"][name] not in (None, failing):
                    raise SystemExit(f"{form} counted {failing} failing rows on {name}, not {res['failing'][name]}")
                res["failing"][name] = failing
            print(name, res["seconds"][name], "failing", res["failing"][name], flush=True)
    (HERE / "accepted_values_results.json").write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
