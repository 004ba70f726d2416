"""Contracts benchmark: headwater's one-pass check and gate vs the floor and other tools.

    python benchmarks/contracts/bench.py [--rows 10000000] [--repeat 3] [--tools soda4,soda,pandera,gx,dcc]

Writes results.json and results.md next to this file. See README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform as py_platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HAND_SET_PURGE_DELAY = "MIMALLOC_PURGE_DELAY" in os.environ  # then the other tools get it too
import headwater  # noqa: E402,F401,I001  before pyarrow loads, as in every headwater process (arrow_memory.py)
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from data import generate

TOOLS = ("soda4", "soda", "pandera", "gx", "dcc")
HEADWATER = ("floor (parquet)", "headwater check (parquet)", "headwater counts only", "floor (arrow batch)",
             "headwater check (arrow)", "headwater gate split (arrow)")  # in the order they run


class Clock:
    """Wall and CPU seconds (this process, all its threads) of the timed part of a run.

    The CPU seconds do not depend on what else the machine runs, the wall seconds do: on a
    shared 2-core machine the CPU ratio is the steadier of the two."""

    def __enter__(self) -> Clock:  # noqa: PYI034 (typing.Self is 3.11+, headwater supports 3.10)
        self.wall, self.cpu = time.perf_counter(), _cpu()
        return self

    def __exit__(self, *exc) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, _cpu() - self.cpu


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _plan():
    from ruamel.yaml import YAML

    from headwater.contracts.model import Contract
    from headwater.contracts.plan import build_plan

    return build_plan(Contract.model_validate(YAML(typ="safe").load((HERE / "contract.yaml").read_text())))


def _session():
    from headwater.engines.duckdb import DuckDBSession

    return DuckDBSession()


def headwater_check(path: Path, samples: int):
    """`contract check`: one pass over the Parquet file, per-rule counts (+ samples)."""
    from datetime import datetime, timezone

    from headwater.contracts.evaluate import evaluate

    plan = _plan()
    s = _session()
    s.con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{path}')")
    schema = pq.read_schema(path)
    with Clock() as took:
        run, _ = evaluate(s, plan, schema, lakehouse=None, now=datetime.now(timezone.utc), row_ids=False,
                          samples=samples, relation="t", files=[str(path)])  # as `contract check` passes a table's files
    s.close()
    return took, {r.check.id: r.failed_rows for r in run.results if r.check.level != "schema"}


def floor(path: Path, columns: list[str], table: pa.Table | None = None):
    """One DuckDB pass that reads and hashes every column the rules touch."""
    s = _session()
    if table is not None:
        s.con.register("t", table)
    else:
        s.con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{path}')")
    cols = ", ".join(f'"{c}"' for c in columns)
    with Clock() as took:
        s.con.sql(f"SELECT sum(hash({cols})) FROM t").fetchall()
    s.close()
    return took, None


def in_memory(table: pa.Table, split: bool):
    """The same check on an Arrow batch (what a lane hands the gate); ``split``: the gate's split."""
    from datetime import datetime, timezone

    from headwater.contracts.duckdb_compiler import BATCH
    from headwater.contracts.evaluate import evaluate, with_row_ids
    from headwater.contracts.gate import split as gate_split

    plan = _plan()
    s = _session()
    with Clock() as took:
        if split:  # what ContractGate.apply does before its Iceberg writes
            t = time.perf_counter()
            s.register_arrow(BATCH, with_row_ids(table))
            run, verdict = evaluate(s, plan, table.schema, lakehouse=None, now=datetime.now(timezone.utc),
                                    samples=0, batch=table)
            pass_done = time.perf_counter()
            passed, quarantined, _ = gate_split(table, verdict)
            extra = {"passed": passed.num_rows, "quarantined": quarantined.num_rows if quarantined else 0,
                     "pass_seconds": round(pass_done - t, 3),
                     "split_seconds": round(time.perf_counter() - pass_done, 3)}
        else:
            s.register_arrow("t", table)
            run, _ = evaluate(s, plan, table.schema, lakehouse=None, now=datetime.now(timezone.utc), row_ids=False,
                              samples=3, relation="t", batch=table)
            extra = {}
    s.close()
    return took, {r.check.id: r.failed_rows for r in run.results if r.check.level != "schema"}, extra


def tool(name: str, path: Path):
    """Run a competitor in its own virtualenv (see README); returns (seconds, counts) or an error."""
    python = Path(os.environ.get("BENCH_VENVS", "/tmp/hwc/venvs")) / name / "bin" / "python"
    if not python.exists():
        return None, None, f"no virtualenv at {python.parent.parent}"
    try:
        env = {k: v for k, v in os.environ.items() if k != "MIMALLOC_PURGE_DELAY" or HAND_SET_PURGE_DELAY}
        done = subprocess.run([str(python), str(HERE / "tools" / f"{name}_run.py"), str(path)], env=env,
                              capture_output=True, text=True, timeout=int(os.environ.get("BENCH_TOOL_TIMEOUT", "900")))
    except subprocess.TimeoutExpired:
        return None, None, f"did not finish within {os.environ.get('BENCH_TOOL_TIMEOUT', '900')}s"
    if done.returncode != 0:
        return None, None, (done.stderr or done.stdout).strip().splitlines()[-1][:400]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    return out["seconds"], out["counts"], out.get("note")


def machine(note: str) -> dict:
    import duckdb
    import pyiceberg

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    free = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu": cpu, "free_h": free, "python": py_platform.python_version(),
            "duckdb": duckdb.__version__, "pyarrow": pa.__version__, "pyiceberg": pyiceberg.__version__,
            "shared": note}


def interleaved(runs: dict, repeat: int) -> dict:
    """Each of ``runs`` once per round, for ``repeat`` rounds (floor, check, floor, check, ...).

    A change in the machine's load during the run then hits the floor and the check alike, where
    running all repeats of one before the other let it fall on one side only. Returns name ->
    (its fastest run's result, every run's wall seconds, every run's CPU seconds)."""
    results: dict[str, list] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, fn in runs.items():
            results[name].append(fn())
    return {name: (min(rs, key=lambda r: r[0].wall), [round(r[0].wall, 3) for r in rs],
                   [round(r[0].cpu, 3) for r in rs]) for name, rs in results.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tools", default="soda4,soda,pandera,gx,dcc")
    ap.add_argument("--data", default=None, help="default /tmp/hwc/bench_orders.parquet (_dirtyN with --dirty N)")
    ap.add_argument("--dirty", type=int, default=1,
                    help="plant N times as many violations, each bad string a value of its own (data.py); "
                         "results go to results_dirtyN.json/.md")
    ap.add_argument("--keep-tools", action="store_true", help="Keep tool results of the last run.")
    ap.add_argument("--note", default="the machine's 2 cores were shared with other engineers' work during the run",
                    help="What else ran on the machine (written to results.md).")
    args = ap.parse_args()
    if args.dirty < 1:
        ap.error(f"--dirty {args.dirty}: give a whole number of times the planted violations, 1 or more")
    path = Path(args.data or ("/tmp/hwc/bench_orders.parquet" if args.dirty == 1
                              else f"/tmp/hwc/bench_orders_dirty{args.dirty}.parquet"))
    out = "results" if args.dirty == 1 else f"results_dirty{args.dirty}"
    if not path.exists() or pq.read_metadata(path).num_rows != args.rows:
        generate(path, args.rows, dirty=args.dirty)
    truth = json.loads(Path(str(path) + ".truth.json").read_text())
    columns = _plan().touched_columns()
    started, load_before = time.perf_counter(), open("/proc/loadavg").read().split()[:3]
    pool = f"{pa.default_memory_pool().backend_name}, MIMALLOC_PURGE_DELAY={os.environ.get('MIMALLOC_PURGE_DELAY')}"
    res: dict = {"arrow_pool": pool, "rows": args.rows, "dirty": args.dirty, "rules": len(_plan().checks),
                 "machine": machine(args.note),
                 "truth": truth,
                 "seconds": {}, "exact": {}, "notes": {}}

    def record(name, seconds, counts, note=None, walls=None, cpus=None):
        res["seconds"][name] = None if seconds is None else round(seconds, 3)
        if walls:
            res.setdefault("repeats", {})[name] = walls
            res.setdefault("cpu_seconds", {})[name] = cpus
        if counts is not None:
            wrong = {k: (counts.get(k), v) for k, v in truth.items() if counts.get(k) != v}
            res["exact"][name] = not wrong
            if wrong:
                res["notes"][name] = f"counts differ from ground truth: {wrong}"
        if note:
            res["notes"][name] = note
        print(f"{name:28} {res['seconds'][name]!s:>9}s  exact={res['exact'].get(name)}  {note or ''}", flush=True)

    done = interleaved({"floor (parquet)": lambda: floor(path, columns),
                        "headwater check (parquet)": lambda: headwater_check(path, 5),
                        "headwater counts only": lambda: headwater_check(path, 0)}, args.repeat)
    table = pq.read_table(path)
    done |= interleaved({"floor (arrow batch)": lambda: floor(path, columns, table),
                         "headwater check (arrow)": lambda: in_memory(table, False),
                         "headwater gate split (arrow)": lambda: in_memory(table, True)}, args.repeat)
    for name in HEADWATER:
        fastest, walls, cpus = done[name]
        record(name, fastest[0].wall, fastest[1], walls=walls, cpus=cpus)
    res["gate_split"] = done["headwater gate split (arrow)"][0][2]
    del table
    for name in [t for t in args.tools.split(",") if t]:
        seconds, counts, note = tool(name, path)
        record(name, seconds, counts, note)
    previous = HERE / f"{out}.json"
    if previous.exists() and args.keep_tools:  # tools measured in an earlier run on the same data
        old = json.loads(previous.read_text())
        for name in TOOLS:
            if name in old.get("seconds", {}) and name not in res["seconds"]:
                res["seconds"][name] = old["seconds"][name]
                if name in old.get("exact", {}):
                    res["exact"][name] = old["exact"][name]
                if name in old.get("notes", {}):
                    res["notes"][name] = old["notes"][name] + " (measured in the previous run, same data)"
    res["load_before"], res["load_after"] = " ".join(load_before), " ".join(open("/proc/loadavg").read().split()[:3])
    res["run_seconds"] = round(time.perf_counter() - started)
    s = res["seconds"]
    res["ratios"] = {
        "check_vs_floor_parquet": round(s["headwater check (parquet)"] / s["floor (parquet)"], 2),
        "check_vs_floor_arrow": round(s["headwater check (arrow)"] / s["floor (arrow batch)"], 2),
        "gate_split_vs_check_arrow": round(s["headwater gate split (arrow)"] / s["headwater check (arrow)"], 2),
        "check_vs_floor_parquet_cpu": _cpu_ratio(res, "headwater check (parquet)", "floor (parquet)"),
        "check_vs_floor_parquet_paired": _paired(res, "headwater check (parquet)", "floor (parquet)"),
        "fastest_other_tool": min(((v, k) for k, v in s.items() if k in TOOLS
                                   and v is not None), default=(None, None))[1],
    }
    (HERE / f"{out}.json").write_text(json.dumps(res, indent=1, default=str) + "\n")
    dirt = "" if args.dirty == 1 else f" ({args.dirty}x the planted violations, each bad string its own value)"
    lines = [f"# Contracts benchmark: {args.rows:,} rows{dirt}, {res['rules']} rules", "",
             f"Machine: {res['machine']['cpu']}, nproc={res['machine']['nproc']}, python {res['machine']['python']}, "
             f"duckdb {res['machine']['duckdb']}, pyarrow {res['machine']['pyarrow']} (memory pool: {res['arrow_pool']}). "
             f"{res['machine']['shared']}.", "",
             "```", res["machine"]["free_h"], "```", "", "| run | seconds (best of the runs) | exact counts | note |", "|---|---|---|---|"]
    for name, sec in s.items():
        runs = res.get("repeats", {}).get(name)
        shown = f"{sec} (runs: {', '.join(map(str, runs))})" if runs else (sec if sec is not None else "n/a")
        lines.append(f"| {name} | {shown} | {res['exact'].get(name, '-')} | {res['notes'].get(name, '')} |")
    lines += ["", "CPU seconds of each run (this process, all threads): " + "; ".join(
        f"{name}: {', '.join(map(str, cpus))}" for name, cpus in res["cpu_seconds"].items())]
    lines += ["", "Ratios: " + ", ".join(f"{k} = {v}" for k, v in res["ratios"].items())]
    lines += ["", "Gate split, its fastest run: " + ", ".join(f"{k} = {v}" for k, v in res["gate_split"].items())]
    lines += ["", f"Load average before / after: {res['load_before']} / {res['load_after']}; "
              f"wall time of the whole run {res['run_seconds']} s."]
    (HERE / f"{out}.md").write_text("\n".join(lines) + "\n")


def _cpu_ratio(res: dict, run: str, base: str) -> float:
    """CPU seconds of ``run``'s fastest-CPU repeat over ``base``'s."""
    cpu = res["cpu_seconds"]
    return round(min(cpu[run]) / min(cpu[base]), 2)


def _paired(res: dict, run: str, base: str) -> float:
    """The median over rounds of ``run``'s wall seconds over ``base``'s in the same round."""
    walls = res["repeats"]
    ratios = sorted(a / b for a, b in zip(walls[run], walls[base]))
    return round(ratios[len(ratios) // 2], 2)


if __name__ == "__main__":
    main()
