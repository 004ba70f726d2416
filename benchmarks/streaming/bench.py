"""Streaming lane benchmark: sustained events/s and event-to-queryable latency.

    python benchmarks/streaming/bench.py [--events 1000000] [--rate 10000] [--seconds 30] [--out results.json]

1. Throughput: ``--events`` JSON events (5% duplicates) are appended to the inbox first, then one
   consumer drains them end to end: inbox -> Arrow decode -> contract gate -> watermark ->
   dedupe (24 h window) -> Iceberg commit with positions -> ack. Reported: events/s over the
   consumer's busy time and over its wall time.
2. Latency: a producer appends ``rate`` events/s (in 10 ms slices, each fsynced) for
   ``--seconds`` while a consumer runs in another process. An event is queryable when the
   Iceberg snapshot holding it is committed; latency = snapshot commit time - append time.
   The inbox preserves order and nothing is dropped in this run, so snapshot k holds the events
   numbered [total-records(k-1), total-records(k)).
"""

from __future__ import annotations

import argparse
import json
import os
import platform as pyplatform
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import headwater  # noqa: F401  before pyarrow loads: Arrow's pool as in every headwater process (arrow_memory.py)

PRODUCT = """
products:
  - name: events
    domain: bench
    owner: {team: bench, oncall: bench@example.com}
    tier: ops
    lane: streaming
    stream:
      source: {kind: inbox, options: {max_bytes: 4000000000}}
      event_time: ts
      allowed_lateness: 1m
      dedupe: {key: [event_id], window: 24h}
      max_batch_rows: %(rows)d
      max_batch_seconds: %(seconds)s
"""


def project(root: Path, rows: int, seconds: float) -> Path:
    (root / "products").mkdir(parents=True, exist_ok=True)
    (root / "headwater.yaml").write_text("name: bench\n")
    (root / "products" / "events.yaml").write_text(textwrap.dedent(PRODUCT % {"rows": rows, "seconds": seconds}))
    return root


def lines(start: int, n: int, base: datetime, dup_every: int = 20) -> bytes:
    out = []
    for i in range(start, start + n):
        j = i - 7 if dup_every and i % dup_every == 0 and i >= 7 else i  # 5% resent events
        ts = (base + timedelta(milliseconds=j)).isoformat().replace("+00:00", "Z")
        out.append(f'{{"event_id":"e{j}","user_id":{j % 9973},"page":"/p/{j % 311}","price":{j % 1000 / 10},'
                   f'"sent_at":{time.time():.6f},"ts":"{ts}"}}\n')
    return "".join(out).encode()


def throughput(n: int, tmp: Path) -> dict:
    from headwater.platform import Platform

    root = project(tmp / "throughput", rows=100_000, seconds=0.2)  # batches fill by size
    hw = Platform(root)
    inbox = hw.streaming.inbox("events")
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    t = time.perf_counter()
    for start in range(0, n, 50_000):
        inbox.append(lines(start, min(50_000, n - start), base))
    ingest_s = time.perf_counter() - t
    t = time.perf_counter()
    result = hw.streaming.run("events", until_idle=0.5, step_interval=3600)
    wall = time.perf_counter() - t - 0.5  # minus the idle wait that ends the run
    s = result.stats
    rows = hw.query("SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM events").to_pylist()[0]
    return {"events": n, "ingest_events_per_second": round(n / ingest_s), "status": result.status,
            "written": s["written"], "duplicates": s["duplicates"], "batches": s["batches"],
            "busy_seconds": s["busy_seconds"], "events_per_second_busy": s["events_per_second"],
            "events_per_second_wall": round(n / wall), "table_rows": rows["n"],
            "table_distinct": rows["d"], "gate": type(hw.gate).__name__}


CONSUMER = """
import sys
from headwater.platform import Platform
ready = []
def progress(stats):
    if not ready:
        ready.append(1)
        print("ready", flush=True)
Platform(sys.argv[1]).streaming.run("events", until_idle=float(sys.argv[2]), step_interval=3600,
                                    progress=progress)
"""


def latency(rate: int, seconds: float, tmp: Path, batch_seconds: float) -> dict:
    from headwater.platform import Platform
    from headwater.sources.inbox import Inbox

    root = project(tmp / "latency", rows=100_000, seconds=batch_seconds)
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    inbox = Inbox(root / ".headwater" / "inbox" / "events", max_bytes=4_000_000_000)
    consumer = subprocess.Popen([sys.executable, "-c", CONSUMER, str(root), "2.0"], stdout=subprocess.PIPE,
                                text=True)
    inbox.append(lines(0, 1, base, dup_every=0))  # one warm-up event creates the table
    assert consumer.stdout.readline().strip() == "ready"  # the consumer has restored and polled once
    time.sleep(1.0)
    sent, sent_at = 1, [time.time()]
    start = time.time()
    while time.time() - start < seconds:
        due = int((time.time() - start) * rate)
        if due > sent:
            n = due - sent
            stamp = time.time()
            inbox.append(lines(sent, n, base, dup_every=0))
            sent_at.extend([stamp] * n)
            sent += n
        time.sleep(0.002)
    consumer.wait(timeout=300)
    hw = Platform(root)
    lat, prev = [], 0
    for snap in hw.lakehouse.snapshots("events"):
        total = int(snap.summary.get("total-records", 0))
        done = snap.committed_at.timestamp()
        lat.extend(done - sent_at[i] for i in range(max(prev, 1), min(total, len(sent_at))))
        prev = total
    lat.sort()
    q = lambda p: round(lat[min(len(lat) - 1, int(p * len(lat)))], 3) if lat else None
    return {"rate_target": rate, "seconds": seconds, "events_sent": sent,
            "rate_achieved": round(sent / seconds), "events_measured": len(lat),
            "max_batch_seconds": batch_seconds, "snapshots": len(hw.lakehouse.snapshots("events")),
            "p50_seconds": q(0.50), "p90_seconds": q(0.90), "p99_seconds": q(0.99), "max_seconds": q(1.0)}


def machine() -> dict:
    import duckdb
    import pyarrow
    import pyiceberg

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
    free = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout
    return {"nproc": os.cpu_count(), "cpu": cpu, "free_h": free.strip().splitlines(),
            "python": pyplatform.python_version(), "duckdb": duckdb.__version__,
            "pyarrow": pyarrow.__version__, "pyiceberg": pyiceberg.__version__,
            "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
            "note": "shared machine: other engineers ran builds and tests at the same time"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--rate", type=int, default=10_000)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--batch-seconds", type=float, default=0.5)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        result = {"machine": machine(), "throughput": throughput(args.events, tmp),
                  "latency": latency(args.rate, args.seconds, tmp, args.batch_seconds)}
        result["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
