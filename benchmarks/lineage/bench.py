"""Lineage benchmarks: OpenLineage event ingest rate, and impact-query latency on a 10k-node graph.

    python benchmarks/lineage/bench.py [--events 20000] [--nodes 10000] [--queries 1000] [--out results.json]

Everything runs in a throwaway project with the default SQLite ledger (as a laptop user has it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform as py_platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import headwater  # noqa: F401  before pyarrow loads: Arrow's pool as in every headwater process (arrow_memory.py)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

RUN_EVENT = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
JOB_EVENT = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent"
FACET = "https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json"


def run_events(n: int, seed: int = 1) -> list[dict]:
    """Realistic run events: START and COMPLETE, two inputs, one output with statistics and schema."""
    rng = random.Random(seed)
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    out = []
    for i in range(n // 2):
        run_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        job = {"namespace": "airflow://bench", "name": f"dag_{i % 500}.task_{i % 37}", "facets": {}}
        inputs = [{"namespace": "postgres://db:5432", "name": f"shop.public.t{rng.randrange(2000)}"} for _ in range(2)]
        output = {"namespace": "s3://lake", "name": f"marts/m{i % 3000}", "facets": {"schema": {
            "_producer": "bench", "_schemaURL": "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json",
            "fields": [{"name": f"c{k}", "type": "VARCHAR"} for k in range(8)]}},
            "outputFacets": {"outputStatistics": {"_producer": "bench", "_schemaURL": FACET,
                                                  "rowCount": rng.randrange(10**6), "size": rng.randrange(10**9)}}}
        start = t0 + timedelta(seconds=i * 7)
        for kind, when in (("START", start), ("COMPLETE", start + timedelta(seconds=rng.randrange(1, 600)))):
            out.append({"eventType": kind, "eventTime": when.isoformat().replace("+00:00", "Z"),
                        "run": {"runId": run_id, "facets": {}}, "job": job, "inputs": inputs,
                        "outputs": [output] if kind == "COMPLETE" else [],
                        "producer": "https://example.com/bench", "schemaURL": RUN_EVENT})
    return out


def graph_events(nodes: int, seed: int = 2) -> list[dict]:
    """A layered DAG of nodes/2 jobs and nodes/2 datasets: each job reads 1-3 datasets of earlier layers."""
    rng = random.Random(seed)
    jobs = nodes // 2
    out = []
    for j in range(jobs):
        reads = [f"d{rng.randrange(j)}" for _ in range(rng.randint(1, 3))] if j else []
        out.append({"eventTime": "2026-01-01T00:00:00Z", "producer": "https://example.com/bench",
                    "schemaURL": JOB_EVENT,
                    "job": {"namespace": "bench", "name": f"j{j}", "facets": {}},
                    "inputs": [{"namespace": "bench", "name": r} for r in sorted(set(reads))],
                    "outputs": [{"namespace": "bench", "name": f"d{j}"}]})
    return out


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def machine() -> dict:
    def sh(cmd: str) -> str:
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=10).stdout.strip()
        except Exception:  # noqa: BLE001 - machine facts are best effort
            return ""

    import duckdb
    import fastapi
    import sqlalchemy

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), py_platform.processor())
    return {"nproc": os.cpu_count(), "cpu": cpu, "free_h": sh("free -h"), "python": sys.version.split()[0],
            "sqlalchemy": sqlalchemy.__version__, "duckdb": duckdb.__version__, "fastapi": fastapi.__version__,
            "kernel": py_platform.release(), "shared": "the machine was shared with other engineers' test runs"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--http-events", type=int, default=2_000)
    ap.add_argument("--nodes", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=1_000)
    ap.add_argument("--out", default=str(Path(__file__).with_name("results.json")))
    args = ap.parse_args()
    from fastapi.testclient import TestClient

    from headwater.platform import Platform
    from headwater.server.app import create_app
    from tests.projects import mini_project

    results: dict = {"machine": machine(), "when": datetime.now(timezone.utc).isoformat(),
                     "load_average_before": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        hw = Platform(mini_project(Path(tmp) / "ingest"))
        events = run_events(args.events)
        t, cpu = time.perf_counter(), time.process_time()
        stored = 0
        for i in range(0, len(events), 1000):
            stored += hw.lineage.ingest(events[i:i + 1000]).stored
        seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
        results["ingest_bulk"] = {"events": len(events), "stored": stored, "seconds": round(seconds, 3),
                                  "events_per_second": round(len(events) / seconds),
                                  "events_per_cpu_second": round(len(events) / cpu), "batch": 1000,
                                  "path": "validate (spec + facets) and store in the SQLite ledger"}
        t = time.perf_counter()
        again = sum(hw.lineage.ingest(events[i:i + 1000]).duplicates for i in range(0, len(events), 1000))
        seconds = time.perf_counter() - t
        results["ingest_replay"] = {"events": len(events), "duplicates": again,
                                    "events_per_second": round(len(events) / seconds)}
        client = TestClient(create_app(hw))
        single = run_events(args.http_events, seed=9)
        t = time.perf_counter()
        for e in single:
            assert client.post("/api/v1/lineage", json=e).status_code == 201
        seconds = time.perf_counter() - t
        results["ingest_http_one_event_per_request"] = {
            "events": len(single), "events_per_second": round(len(single) / seconds),
            "path": "POST /api/v1/lineage in-process (TestClient), one event per request, as Marquez clients send"}
        batch = run_events(args.http_events, seed=10)
        t = time.perf_counter()
        for i in range(0, len(batch), 500):
            assert client.post("/api/v1/lineage", json=batch[i:i + 500]).status_code == 201
        seconds = time.perf_counter() - t
        results["ingest_http_batches_of_500"] = {"events": len(batch), "events_per_second": round(len(batch) / seconds)}

        hw = Platform(mini_project(Path(tmp) / "graph"))
        hw.lineage.ingest(graph_events(args.nodes))
        t = time.perf_counter()
        graph = hw.lineage.graph()
        build = time.perf_counter() - t
        datasets = sorted(n.id for n in graph.nodes.values() if n.kind == "dataset" and n.namespace == "bench")
        rng = random.Random(3)
        latencies, cpu_ms, reached = [], [], []
        for node in (rng.choice(datasets) for _ in range(args.queries)):
            t, cpu = time.perf_counter(), time.thread_time()
            impact = hw.lineage.impact(node)
            latencies.append((time.perf_counter() - t) * 1000)
            cpu_ms.append((time.thread_time() - cpu) * 1000)
            reached.append(len(impact["datasets"]) + len(impact["jobs"]))
        marquez = []
        for node in (rng.choice(datasets) for _ in range(200)):
            t = time.perf_counter()
            hw.lineage.marquez(node, depth=3)
            marquez.append((time.perf_counter() - t) * 1000)
        results["impact_10k_graph"] = {
            "nodes": len([n for n in graph.nodes.values() if n.namespace == "bench"]),
            "edges": sum(len(c) for c in graph.children.values()), "graph_build_seconds": round(build, 3),
            "queries": len(latencies), "p50_ms": round(percentile(latencies, 50), 2),
            "p95_ms": round(percentile(latencies, 95), 2), "p99_ms": round(percentile(latencies, 99), 2),
            "max_ms": round(max(latencies), 2), "cpu_p50_ms": round(percentile(cpu_ms, 50), 2),
            "cpu_p99_ms": round(percentile(cpu_ms, 99), 2), "mean_nodes_reached": round(statistics.mean(reached)),
            "max_nodes_reached": max(reached),
            "marquez_get_depth3_p99_ms": round(percentile(marquez, 99), 2)}
    results["load_average_after"] = os.getloadavg()
    results["targets"] = {"ingest_events_per_second": 5000, "impact_p99_ms": 100,
                          "ingest_met": results["ingest_bulk"]["events_per_second"] >= 5000,
                          "impact_met": results["impact_10k_graph"]["p99_ms"] < 100}
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
