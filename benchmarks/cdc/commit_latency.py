"""Latency of small CDC commits as a mirror's history grows (what a streaming lane does).

A 3,000-row mirror, then 300 commits of 5, 20 or 100 updates each (seeded), through the lane's own
path (``Mirror.apply`` on ``Change`` objects). Prints the median commit time over commits 0-50,
100-150 and 250-300: a lane that commits every few seconds must not slow down as snapshots pile
up.

    python benchmarks/cdc/commit_latency.py
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path

from headwater.lanes.cdc.changes import Change
from headwater.lanes.cdc.mirror import Mirror
from headwater.storage.lakehouse import Lakehouse


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="hw-cdc-latency-"))
    lake = Lakehouse(f"sqlite:///{work}/catalog.db", work / "warehouse", "bench")
    mirror = Mirror(lake, "orders", ["id"], threads=2)
    mirror.apply([Change("r", (k,), f"{k:012d}", {"id": k, "status": "new", "amount": float(k), "note": "x" * 50})
                  for k in range(1, 3001)], {"cdc.position": "0"})
    rng, position, times = random.Random(1), 10_000, []
    for _ in range(300):
        changes = []
        for _ in range(rng.choice([5, 20, 100])):
            position += 1
            key = rng.randint(1, 3000)
            changes.append(Change("u", (key,), f"{position:012d}",
                                  {"id": key, "status": "a", "amount": 1.0, "note": "y"}))
        started = time.perf_counter()
        mirror.apply(changes, {"cdc.position": str(position)})
        times.append(time.perf_counter() - started)
    for a, b in ((0, 50), (100, 150), (250, 300)):
        print(f"commits {a:>3}-{b:<3} median {statistics.median(times[a:b]) * 1000:6.0f} ms")


if __name__ == "__main__":
    main()
