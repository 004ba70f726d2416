"""headwater running fct_daily_revenue vs bare DuckDB running the same SQL on the same files.

For each scale: scaffold the e-commerce example, build its inputs once with headwater, then time
(interleaved, several repetitions, median):

- duckdb:    a fresh DuckDB connection; views over the same Parquet data files of the current
             Iceberg snapshots of the inputs; the product's SQL; result written with COPY TO Parquet.
- headwater: Platform.run(["fct_daily_revenue"]) in the same process (imports warm), which plans
             the Iceberg scans, runs the same SQL in DuckDB, commits one Iceberg snapshot and
             records the step in the ledger (SQLite) with its OpenLineage events.

The fixed part per product run is the intercept, and the proportional part the slope minus one,
of a least-squares line through (duckdb seconds, headwater seconds) over all scales; the step's own
timings (bind, transform, commit, ledger) are reported beside it.

    python benchmarks/foundation/bench_batch.py --scales 1 10 100 --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform as pyplatform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

import headwater  # noqa: F401  before pyarrow loads: Arrow's pool as in every headwater process (arrow_memory.py)

HERE = Path(__file__).resolve().parent
WORK = HERE.parent / ".work" / "foundation"
PRODUCT = "fct_daily_revenue"


def machine() -> dict:
    import duckdb
    import pyarrow
    import pyiceberg

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown")
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem, 1),
            "python": pyplatform.python_version(), "duckdb": duckdb.__version__,
            "pyarrow": pyarrow.__version__, "pyiceberg": pyiceberg.__version__,
            "kernel": pyplatform.release()}


def prepare(scale: float) -> Path:
    from headwater.examples import scaffold
    from headwater.platform import Platform

    root = WORK / f"scale_{scale:g}"
    if not (root / "headwater.yaml").exists():
        t = time.perf_counter()
        scaffold(example="ecommerce", target=root, scale=scale, seed=7, end_date=date(2026, 11, 1))
        print(f"  generated scale {scale:g} in {time.perf_counter() - t:.1f}s", flush=True)
    hw = Platform(root)
    inputs = hw.project.products[PRODUCT].inputs
    if not all(hw.lakehouse.exists(n) for n in inputs):
        t = time.perf_counter()
        result = hw.run(inputs, upstream=True)
        assert result.ok, [s.error for s in result.steps if s.error]
        print(f"  built inputs at scale {scale:g} in {time.perf_counter() - t:.1f}s", flush=True)
    return root


def bare_duckdb(hw, out_dir: Path) -> float:
    import duckdb

    plans = {n: hw.lakehouse.plan(n) for n in hw.project.products[PRODUCT].inputs}
    sql = hw.project.sql[PRODUCT]
    t = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for name, plan in plans.items():
        files = ", ".join(f"'{f}'" for f in plan.files)
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet([{files}], union_by_name = true)")
    con.execute(f"COPY ({sql}) TO '{out_dir / 'out.parquet'}' (FORMAT parquet, COMPRESSION zstd)")
    con.close()
    return time.perf_counter() - t


def headwater_run(hw) -> tuple[float, dict]:
    t = time.perf_counter()
    result = hw.run([PRODUCT], trigger="benchmark")
    elapsed = time.perf_counter() - t
    assert result.ok, result.steps[0].error
    return elapsed, result.steps[0].timings


def fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    xs, ys = zip(*points)
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x in xs)
    return my - slope * mx, slope


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", type=float, nargs="+", default=[1, 10, 100])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    args = parser.parse_args()

    from headwater.platform import Platform

    load_at_start = [round(x, 2) for x in os.getloadavg()]
    rows, points = [], []
    for scale in args.scales:
        print(f"scale {scale:g}", flush=True)
        root = prepare(scale)
        hw = Platform(root)
        hw.lakehouse.catalog
        hw.ledger
        headwater_run(hw)  # warm: first commit of the product, caches
        duck, hwt, parts = [], [], []
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(args.repeat):
                duck.append(bare_duckdb(hw, Path(tmp)))
                seconds, timings = headwater_run(hw)
                hwt.append(seconds)
                parts.append(timings)
        orders = hw.query("SELECT count(*) AS n FROM fct_orders").to_pylist()[0]["n"]
        snapshots = len(hw.lakehouse.snapshots(PRODUCT))  # commit cost grows with the table's history
        d, h = statistics.median(duck), statistics.median(hwt)
        overhead = {k: round(statistics.median(p.get(k, 0.0) for p in parts), 4)
                    for k in ("bind", "transform", "gate", "commit", "ledger")}
        rows.append({"scale": scale, "orders": orders, "product_snapshots": snapshots,
                     "duckdb_s": round(d, 4), "headwater_s": round(h, 4),
                     "difference_s": round(h - d, 4), "ratio": round(h / d, 3), "step_timings_s": overhead,
                     "duckdb_all_s": [round(x, 4) for x in duck], "headwater_all_s": [round(x, 4) for x in hwt]})
        points += list(zip(duck, hwt))
        print(f"  duckdb {d:.3f}s  headwater {h:.3f}s  ({h / d:.2f}x)  steps {overhead}  "
              f"snapshots {snapshots}", flush=True)
    intercept, slope = fit(points)
    result = {
        "benchmark": "fct_daily_revenue: headwater run vs bare DuckDB on the same files",
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "load_average_at_start": load_at_start,
        "machine": machine(), "repeat": args.repeat, "rows": rows,
        "fixed_part_s": round(intercept, 4), "proportional_part": round(slope - 1, 4),
        "targets": {"fixed_part_s": "< 0.3", "proportional_part": "< 0.10"},
        "cli_startup_s": cli_startup(),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("fixed_part_s", "proportional_part", "cli_startup_s")}))


def cli_startup() -> dict:
    """Process start to result for 'headwater --help' and 'headwater status' (imports included)."""
    out = {}
    root = WORK / "scale_1"
    for name, cmd in (("help", ["--help"]), ("status", ["status", "--json", "--project", str(root)])):
        samples = []
        for _ in range(3):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "headwater.cli", *cmd], capture_output=True, check=True)
            samples.append(time.perf_counter() - t)
        out[name] = round(statistics.median(samples), 3)
    return out


if __name__ == "__main__":
    main()
